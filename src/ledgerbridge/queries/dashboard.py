"""What the *Dashboard* reads: per day of the last 30 (in the company's time
zone) the documents its runs booked and failed, the payments imported and
the Exact calls made, from the runs' own counts; and the day's Exact limit
as Exact last reported it (only the current figure is stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.storage.tables import CompanyRow, ExactConnectionRow, RunRow
from ledgerbridge.sync.model import Flow

DAYS = 30


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    booked: int = 0
    failed: int = 0
    payments: int = 0
    calls: int = 0


@dataclass(frozen=True, slots=True)
class DailyLimit:
    limit: int
    remaining: int
    reset: datetime | None
    """When Exact starts a new day's count."""
    stale: bool
    """Reported before the last reset: nothing was called since."""

    @property
    def used(self) -> int:
        return 0 if self.stale else max(self.limit - self.remaining, 0)


@dataclass(frozen=True, slots=True)
class Dashboard:
    days: tuple[Day, ...]
    connected: bool
    limit: DailyLimit | None
    """None until Exact reported one."""

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)


def zone_of(company: CompanyRow) -> ZoneInfo:
    try:
        return ZoneInfo(company.time_zone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def dashboard(session: Session, company: CompanyRow, now: datetime) -> Dashboard:
    """The last `DAYS` days up to the company's today at `now` (aware)."""
    zone = zone_of(company)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)

    figures = {first + timedelta(days=n): [0, 0, 0, 0] for n in range(DAYS)}
    runs = session.scalars(
        select(RunRow).where(
            RunRow.company_id == company.id,
            RunRow.created_at >= since,
        )
    )
    for run in runs:
        counts = figures.get(run.created_at.astimezone(zone).date())
        if counts is None:
            continue
        counts[0] += run.booked
        counts[1] += run.failed
        if run.flow == Flow.PAYMENTS.value:
            counts[2] += run.payments
        counts[3] += run.exact_calls
    days = tuple(Day(day, *values) for day, values in figures.items())

    connection = session.scalar(
        select(ExactConnectionRow).where(ExactConnectionRow.company_id == company.id)
    )
    limit = None
    if connection is not None and connection.daily_limit is not None:
        reset = connection.daily_reset
        limit = DailyLimit(
            connection.daily_limit,
            connection.daily_remaining
            if connection.daily_remaining is not None
            else connection.daily_limit,
            reset,
            stale=reset is not None and reset <= now,
        )
    return Dashboard(days, connection is not None, limit)
