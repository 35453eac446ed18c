"""When the daily runs are due: the rule, with no I/O.

A flow runs daily for a company when both boxes of its tab are ticked: the
main one (*Accountancy export*, or *Payments Import*) and *Export
automatically daily*. Its time of day is wall-clock time in the company's
time zone. On each local day the flow is due once that time has come, and
it runs at most once that day: the caller claims `(company, flow, local
day)` before starting it, and a claimed day is never due again.

After downtime the flow catches up once: today's run, if its time has
passed. Days missed before today are not run one by one; the next daily run
covers their documents anyway, since its period starts on the first day of
last month (`sync.runs.daily_period`).

Daylight saving time, both ways (the tests pin these):

* The clock jumps over the time (02:30 when 02:00 becomes 03:00): the run is
  due at the jump, as the local clock then shows a later time.
* The clock shows the time twice (02:30 when 03:00 becomes 02:00 again): the
  first time counts. A process that starts during the repeated hour, before
  the time comes round again, runs at once instead of waiting for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from ledgerbridge.domain.accounting import AccountingSettings
from ledgerbridge.sync.model import Flow

ClaimKey = tuple[int, Flow, date]
"""(company id, flow, the company's local day) of a daily run claimed."""


@dataclass(frozen=True, slots=True)
class CompanySchedule:
    """What the rule needs of a company."""

    company_id: int
    company_ref: str
    time_zone: tzinfo
    settings: AccountingSettings


@dataclass(frozen=True, slots=True)
class Due:
    """A daily run to claim and start."""

    company_id: int
    company_ref: str
    flow: Flow
    day: date
    """The company's local day the run belongs to."""
    at: time
    """Its local time of day, as set."""

    @property
    def key(self) -> ClaimKey:
        return (self.company_id, self.flow, self.day)


def daily_time(settings: AccountingSettings, flow: Flow) -> time | None:
    """The local time of day `flow` runs daily at, or None when it does not
    run daily (either box unticked)."""
    if flow is Flow.CUSTOMER_INVOICES:
        tab_on, daily = settings.sales.enabled, settings.sales.daily
    elif flow is Flow.SUPPLIER_INVOICES:
        tab_on, daily = settings.purchases.enabled, settings.purchases.daily
    else:
        tab_on, daily = settings.payments.enabled, settings.payments.daily
    return daily.at if tab_on and daily.enabled else None


def time_reached(now: datetime, at: time, zone: tzinfo) -> bool:
    """Whether the company's local day of `now` has reached `at`.

    `now` must be aware. True when the local clock shows `at` or later, or
    when `at` has passed earlier the same day and the clock went back (the
    repeated hour when daylight saving time ends).
    """
    local = now.astimezone(zone)
    if local.time() >= at:
        return True
    # fold=0: the first of the two times the wall clock shows `at`. In UTC,
    # as aware datetimes of one zone compare by wall clock, ignoring fold.
    first = datetime.combine(local.date(), at, tzinfo=zone)
    return now.astimezone(UTC) >= first.astimezone(UTC)


def due_runs(
    companies: Iterable[CompanySchedule],
    claimed: Collection[ClaimKey],
    now: datetime,
) -> list[Due]:
    """The daily runs due at `now` (aware) and not claimed yet: per company,
    in the order of `Flow` (exports before the payments import).

    Raises `ValueError` for a naive `now`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")

    due = []
    for company in companies:
        day = now.astimezone(company.time_zone).date()
        for flow in Flow:
            at = daily_time(company.settings, flow)
            if at is None or (company.company_id, flow, day) in claimed:
                continue
            if time_reached(now, at, company.time_zone):
                due.append(Due(company.company_id, company.company_ref, flow, day, at))
    return due
