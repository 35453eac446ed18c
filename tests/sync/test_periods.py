"""The periods the export and import dialogs name."""

from __future__ import annotations

from datetime import date

import pytest

from ledgerbridge.sync.errors import BadPeriod
from ledgerbridge.sync.runs import named_period

TODAY = date(2026, 3, 15)


def test_this_and_last_month() -> None:
    assert named_period("this_month", "", "", TODAY) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert named_period("last_month", "", "", TODAY) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    assert named_period("last_month", "", "", date(2026, 1, 10)) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
    )


def test_custom_takes_both_dates_as_given() -> None:
    assert named_period("custom", "2026-01-05", "2026-02-10", TODAY) == (
        date(2026, 1, 5),
        date(2026, 2, 10),
    )


@pytest.mark.parametrize(
    ("period", "first", "last", "sentence"),
    [
        ("", "", "", "Choose a period"),
        ("next_year", "", "", "Choose a period"),
        ("custom", "2026-01-05", "", "fill in both the From and To dates"),
        ("custom", "5 January", "2026-02-10", "must be dates, like 2026-11-30"),
        ("custom", "2026-02-10", "2026-01-05", ""),
    ],
)
def test_a_period_that_cannot_be_used_is_refused_with_a_sentence(
    period: str, first: str, last: str, sentence: str
) -> None:
    with pytest.raises(BadPeriod) as refused:
        named_period(period, first, last, TODAY)
    assert sentence in str(refused.value)
    assert str(refused.value).endswith(".")
