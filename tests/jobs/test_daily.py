"""When a daily run is due (`jobs.daily`): boxes, time zones, daylight saving
time, midnight, claims and catching up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.jobs.daily import (
    CompanySchedule,
    Due,
    daily_time,
    due_runs,
    time_reached,
)
from ledgerbridge.sync.model import Flow

BRUSSELS = ZoneInfo("Europe/Brussels")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def _settings(
    sales: time | None = time(2, 30),
    purchases: time | None = None,
    payments: time | None = None,
) -> AccountingSettings:
    def export(at: time | None) -> ExportSettings:
        return ExportSettings(
            enabled=True, daily=DailyRun(at is not None, at or time(2, 30))
        )

    return AccountingSettings(
        sales=export(sales),
        purchases=export(purchases),
        payments=PaymentImportSettings(
            enabled=True,
            daily=DailyRun(payments is not None, payments or time(3)),
        ),
    )


def _company(
    settings: AccountingSettings | None = None,
    zone: ZoneInfo = BRUSSELS,
    company_id: int = 1,
) -> CompanySchedule:
    return CompanySchedule(company_id, f"c{company_id}", zone, settings or _settings())


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _due(company: CompanySchedule, now: datetime, claimed=()) -> list[Due]:
    return due_runs([company], set(claimed), now)


# Which flows run daily


def test_daily_time_needs_both_boxes():
    on = _settings(sales=time(2, 30), purchases=time(4), payments=time(3))
    tab_off = replace(on, sales=replace(on.sales, enabled=False))
    daily_off = replace(
        on, payments=replace(on.payments, daily=DailyRun(False, time(3)))
    )

    assert daily_time(on, Flow.CUSTOMER_INVOICES) == time(2, 30)
    assert daily_time(on, Flow.SUPPLIER_INVOICES) == time(4)
    assert daily_time(on, Flow.PAYMENTS) == time(3)
    assert daily_time(tab_off, Flow.CUSTOMER_INVOICES) is None
    assert daily_time(daily_off, Flow.PAYMENTS) is None
    assert daily_time(AccountingSettings(), Flow.CUSTOMER_INVOICES) is None


def test_due_runs_nothing_when_no_box_is_ticked():
    company = _company(AccountingSettings())

    assert _due(company, _utc(2026, 3, 10, 12)) == []


def test_due_runs_each_flow_at_its_own_time_in_flow_order():
    company = _company(
        _settings(sales=time(2, 30), purchases=time(4), payments=time(3))
    )
    # Brussels is UTC+1 in winter.
    at_0335 = _utc(2026, 1, 15, 2, 35)
    at_0500 = _utc(2026, 1, 15, 4)

    assert [d.flow for d in _due(company, at_0335)] == [
        Flow.CUSTOMER_INVOICES,
        Flow.PAYMENTS,
    ]
    assert [d.flow for d in _due(company, at_0500)] == list(Flow)
    assert {d.day for d in _due(company, at_0500)} == {date(2026, 1, 15)}


def test_due_runs_from_the_minute_of_its_time_not_before():
    company = _company(_settings(sales=time(2, 30)))

    assert _due(company, _utc(2026, 1, 15, 1, 29, 59)) == []
    assert len(_due(company, _utc(2026, 1, 15, 1, 30))) == 1


def test_due_runs_carry_what_to_claim():
    company = _company(_settings(sales=time(2, 30)), company_id=7)

    (due,) = _due(company, _utc(2026, 1, 15, 9))

    assert due == Due(7, "c7", Flow.CUSTOMER_INVOICES, date(2026, 1, 15), time(2, 30))
    assert due.key == (7, Flow.CUSTOMER_INVOICES, date(2026, 1, 15))


def test_due_runs_refuses_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        due_runs([_company()], set(), datetime(2026, 1, 15, 9))  # noqa: DTZ001


# Once per local day


def test_claimed_day_is_not_due_again_however_many_ticks():
    company = _company()
    day = date(2026, 1, 15)
    claimed = {(1, Flow.CUSTOMER_INVOICES, day)}

    for minute in range(0, 22 * 60, 7):
        now = _utc(2026, 1, 15, 1, 30) + timedelta(minutes=minute)
        assert _due(company, now, claimed) == [], now


def test_claim_of_yesterday_leaves_today_due():
    company = _company()
    claimed = {(1, Flow.CUSTOMER_INVOICES, date(2026, 1, 14))}

    (due,) = _due(company, _utc(2026, 1, 15, 2), claimed)

    assert due.day == date(2026, 1, 15)


def test_claims_are_per_company_and_flow():
    one = _company(_settings(sales=time(2), payments=time(2)), company_id=1)
    two = _company(_settings(sales=time(2)), company_id=2)
    day = date(2026, 1, 15)
    claimed = {(1, Flow.CUSTOMER_INVOICES, day)}

    due = due_runs([one, two], claimed, _utc(2026, 1, 15, 12))

    assert [(d.company_id, d.flow) for d in due] == [
        (1, Flow.PAYMENTS),
        (2, Flow.CUSTOMER_INVOICES),
    ]


def test_claims_with_plain_strings_count_too():
    # Claims read back from the database carry the flow's text.
    company = _company()
    claimed = {(1, "customer_invoices", date(2026, 1, 15))}

    assert due_runs([company], claimed, _utc(2026, 1, 15, 12)) == []  # type: ignore[arg-type]


# Catching up after downtime


def test_after_days_down_only_today_runs_once():
    company = _company(_settings(sales=time(2, 30), payments=time(3)))
    last_claims = {
        (1, Flow.CUSTOMER_INVOICES, date(2026, 1, 10)),
        (1, Flow.PAYMENTS, date(2026, 1, 10)),
    }

    due = _due(company, _utc(2026, 1, 15, 14, 5), last_claims)

    assert [(d.flow, d.day) for d in due] == [
        (Flow.CUSTOMER_INVOICES, date(2026, 1, 15)),
        (Flow.PAYMENTS, date(2026, 1, 15)),
    ]
    claimed = last_claims | {d.key for d in due}
    assert _due(company, _utc(2026, 1, 15, 14, 6), claimed) == []


def test_back_before_todays_time_waits_for_it():
    # Down over yesterday's run and back before today's: yesterday is not
    # run late, today's runs at its time.
    company = _company(_settings(sales=time(23, 0)))

    assert _due(company, _utc(2026, 1, 15, 8)) == []
    (due,) = _due(company, _utc(2026, 1, 15, 22))
    assert due.day == date(2026, 1, 15)


def test_settings_changed_to_a_later_time_after_todays_run_do_not_run_again():
    company = _company(_settings(sales=time(2, 30)))
    (done,) = _due(company, _utc(2026, 1, 15, 1, 30))
    later = _company(_settings(sales=time(16, 0)))

    assert _due(later, _utc(2026, 1, 15, 15, 30), {done.key}) == []


def test_time_moved_earlier_than_now_runs_today_at_once():
    # At 10:00 the user moves the run from 18:00 to 06:00: today's is due.
    company = _company(_settings(sales=time(6, 0)))

    (due,) = _due(company, _utc(2026, 1, 15, 9, 1))

    assert due.day == date(2026, 1, 15)


# Time zones and midnight


def test_local_day_not_utc_day_east_of_utc():
    # 23:30 UTC on the 14th is 00:30 on the 15th in Brussels.
    company = _company(_settings(sales=time(0, 15)))

    (due,) = _due(company, _utc(2026, 1, 14, 23, 30))

    assert due.day == date(2026, 1, 15)


def test_local_day_not_utc_day_west_of_utc():
    # 03:00 UTC on the 15th is 19:00 on the 14th in Los Angeles.
    company = _company(_settings(sales=time(18, 0)), zone=LOS_ANGELES)

    (due,) = _due(company, _utc(2026, 1, 15, 3))

    assert due.day == date(2026, 1, 14)


def test_far_east_runs_its_day_before_utc_reaches_it():
    # Auckland is UTC+13 in January: its 02:30 on the 15th is 13:30 UTC on
    # the 14th.
    company = _company(_settings(sales=time(2, 30)), zone=AUCKLAND)

    assert _due(company, _utc(2026, 1, 14, 13, 29)) == []
    (due,) = _due(company, _utc(2026, 1, 14, 13, 30))
    assert due.day == date(2026, 1, 15)


def test_midnight_is_due_as_the_local_day_starts():
    company = _company(_settings(sales=time(0, 0)))
    yesterday = {(1, Flow.CUSTOMER_INVOICES, date(2026, 1, 14))}

    assert _due(company, _utc(2026, 1, 14, 22, 59, 59), yesterday) == []
    (due,) = _due(company, _utc(2026, 1, 14, 23, 0), yesterday)
    assert due.day == date(2026, 1, 15)


def test_last_minute_of_the_day_belongs_to_that_day():
    company = _company(_settings(sales=time(23, 59)))

    (due,) = _due(company, _utc(2026, 1, 15, 22, 59, 30))

    assert due.day == date(2026, 1, 15)
    # A minute later the local day is the 16th, whose 23:59 is far off.
    assert _due(company, _utc(2026, 1, 15, 23, 0), {due.key}) == []


def test_two_companies_in_different_zones_same_instant():
    brussels = _company(_settings(sales=time(2, 30)), company_id=1)
    los_angeles = _company(_settings(sales=time(2, 30)), zone=LOS_ANGELES, company_id=2)

    # 02:00 UTC: 03:00 in Brussels (due), 18:00 the day before in LA (its
    # 02:30 passed that morning: due for the 14th).
    due = due_runs([brussels, los_angeles], set(), _utc(2026, 1, 15, 2))

    assert [(d.company_id, d.day) for d in due] == [
        (1, date(2026, 1, 15)),
        (2, date(2026, 1, 14)),
    ]


# Daylight saving time (Europe/Brussels: 2026-03-29 02:00 -> 03:00,
# 2026-10-25 03:00 -> 02:00, both at 01:00 UTC)


def test_spring_forward_time_in_the_gap_is_due_at_the_jump():
    company = _company(_settings(sales=time(2, 30)))

    assert _due(company, _utc(2026, 3, 29, 0, 59)) == []  # 01:59 CET
    (due,) = _due(company, _utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert due.day == date(2026, 3, 29)


def test_spring_forward_time_after_the_gap_is_on_time():
    company = _company(_settings(sales=time(3, 30)))

    assert _due(company, _utc(2026, 3, 29, 1, 29)) == []  # 03:29 CEST
    assert len(_due(company, _utc(2026, 3, 29, 1, 30))) == 1


def test_fall_back_time_in_the_repeated_hour_runs_once():
    company = _company(_settings(sales=time(2, 30)))

    assert _due(company, _utc(2026, 10, 25, 0, 29)) == []  # 02:29 CEST
    (due,) = _due(company, _utc(2026, 10, 25, 0, 30))  # 02:30 CEST
    assert due.day == date(2026, 10, 25)
    # 02:30 CET, an hour later, shows the same time again: claimed already.
    assert _due(company, _utc(2026, 10, 25, 1, 30), {due.key}) == []


def test_fall_back_start_during_the_repeated_hour_runs_at_once():
    # Down at 02:30 CEST; back at 02:15 CET (clock shows an earlier time).
    company = _company(_settings(sales=time(2, 30)))

    (due,) = _due(company, _utc(2026, 10, 25, 1, 15))

    assert due.day == date(2026, 10, 25)


def test_fall_back_day_is_25_hours_and_still_runs_once():
    company = _company(_settings(sales=time(2, 30)))
    claimed: set = set()
    runs = []
    now = _utc(2026, 10, 24, 22, 0)  # 00:00 CEST on the 25th
    while now < _utc(2026, 10, 25, 23, 0):  # 00:00 CET on the 26th
        for due in _due(company, now, claimed):
            runs.append((now, due.day))
            claimed.add(due.key)
        now += timedelta(minutes=1)

    assert runs == [(_utc(2026, 10, 25, 0, 30), date(2026, 10, 25))]


def test_spring_forward_day_is_23_hours_and_still_runs_once():
    company = _company(_settings(sales=time(2, 30)))
    claimed: set = set()
    runs = []
    now = _utc(2026, 3, 28, 23, 0)  # 00:00 CET on the 29th
    while now < _utc(2026, 3, 29, 22, 0):  # 00:00 CEST on the 30th
        for due in _due(company, now, claimed):
            runs.append((now, due.day))
            claimed.add(due.key)
        now += timedelta(minutes=1)

    assert runs == [(_utc(2026, 3, 29, 1, 0), date(2026, 3, 29))]


def test_time_reached_with_now_in_the_company_zone():
    # The same instant as test_fall_back_start_during_the_repeated_hour,
    # written in Brussels time (fold=1: the second 02:15).
    now = datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=BRUSSELS)

    assert time_reached(now, time(2, 30), BRUSSELS)
    assert not time_reached(
        datetime(2026, 10, 25, 2, 15, tzinfo=BRUSSELS), time(2, 30), BRUSSELS
    )


ZONES = [
    "Europe/Brussels",
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Pacific/Auckland",
    "Asia/Kolkata",
    "UTC",
]


@settings(deadline=None, max_examples=40)
@given(
    zone=st.sampled_from(ZONES),
    at=st.times(),
    start=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    ),
)
def test_every_local_day_runs_exactly_once_by_the_minute(zone, at, start):
    """Over four days, ticking each minute: one run per local day, at or
    after its time (or when the clock jumps past it)."""
    tz = ZoneInfo(zone)
    at = at.replace(second=0, microsecond=0)
    company = _company(_settings(sales=at), zone=tz)
    now = start.replace(second=0, microsecond=0, tzinfo=UTC)
    first_day = now.astimezone(tz).date()
    claimed: set = set()
    runs: list[tuple[datetime, date]] = []
    end = now + timedelta(days=4)
    while now < end:
        for due in _due(company, now, claimed):
            runs.append((now, due.day))
            claimed.add(due.key)
        now += timedelta(minutes=1)

    days = [day for _, day in runs]
    assert len(days) == len(set(days))
    # Every full local day in between ran.
    for offset in (1, 2):
        assert first_day + timedelta(days=offset) in days
    for when, day in runs:
        local = when.astimezone(tz)
        assert local.date() == day
        if local.time() < at:  # only the repeated hour after a fall back
            earlier = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
            assert earlier <= when
