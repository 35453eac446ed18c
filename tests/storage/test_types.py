"""Exact decimals and aware datetimes through the real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, StatementError

from ledgerbridge.domain.money import from_minor_units, to_minor_units
from ledgerbridge.storage.database import is_sqlite
from ledgerbridge.storage.tables import ApiKeyRow, DocumentRow
from ledgerbridge.wiring import Database
from tests.storage.rows import add_document

BIGINT_MAX = 2**63 - 1
LARGEST_CENTS = Decimal("92233720368547758.07")


def test_largest_cents_is_bigint_max() -> None:
    assert to_minor_units(LARGEST_CENTS) == BIGINT_MAX
    assert from_minor_units(BIGINT_MAX) == LARGEST_CENTS


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0.01"),
        Decimal("0.00"),
        Decimal("-0.01"),
        Decimal("-123456789012.34"),
        LARGEST_CENTS,
        -LARGEST_CENTS,
    ],
)
def test_scaled_decimal_round_trips(database: Database, amount: Decimal) -> None:
    with database.sessions() as session:
        add_document(session, amount)
        session.commit()

    with database.sessions() as session:
        row = session.scalars(select(DocumentRow)).one()
        at_rest = session.execute(text("SELECT total FROM document")).scalar_one()

    assert row.total == amount
    assert str(row.total) == str(amount)
    assert row.total.as_tuple().exponent == -2
    assert at_rest == to_minor_units(amount)


def test_scaled_decimal_keeps_its_scale(database: Database) -> None:
    with database.sessions() as session:
        add_document(session, Decimal("5"))
        session.commit()

    with database.sessions() as session:
        row = session.scalars(select(DocumentRow)).one()

    assert str(row.total) == "5.00"


def test_scaled_decimal_refuses_too_many_decimals(database: Database) -> None:
    with (
        database.sessions() as session,
        pytest.raises(StatementError, match=r"0\.001 has more than 2 decimals") as info,
    ):
        add_document(session, Decimal("0.001"))

    assert isinstance(info.value.orig, ValueError)


def test_scaled_decimal_refuses_more_than_bigint(database: Database) -> None:
    too_large = LARGEST_CENTS + Decimal("0.01")
    # Refused either way, never stored wrapped or rounded: SQLite's driver
    # raises before the statement runs, PostgreSQL's bigint refuses it.
    expected = OverflowError if is_sqlite(database.engine) else DataError

    with database.sessions() as session, pytest.raises(expected):
        add_document(session, too_large)


@settings(max_examples=200)
@given(
    st.decimals(
        min_value=-LARGEST_CENTS,
        max_value=LARGEST_CENTS,
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_minor_units_round_trip(amount: Decimal) -> None:
    cents = to_minor_units(amount)

    back = from_minor_units(cents)

    assert isinstance(cents, int)
    assert -BIGINT_MAX <= cents <= BIGINT_MAX
    assert back == amount
    assert back.as_tuple().exponent == -2
    assert to_minor_units(back) == cents


@given(st.integers(min_value=-BIGINT_MAX - 1, max_value=BIGINT_MAX))
def test_minor_units_from_any_bigint_round_trip(cents: int) -> None:
    assert to_minor_units(from_minor_units(cents)) == cents


@given(st.integers().filter(lambda n: n % 10 != 0))
def test_minor_units_refuse_a_third_decimal(thousandths: int) -> None:
    # However many digits: the default context's 28 digits must not round.
    amount = Decimal(f"{thousandths}E-3")

    with pytest.raises(ValueError, match="more than 2 decimals"):
        to_minor_units(amount)


def _api_key(created_at: datetime) -> ApiKeyRow:
    return ApiKeyRow(name="k", prefix="p1", secret_hash="0" * 64, created_at=created_at)


def test_utc_datetime_refuses_naive(database: Database) -> None:
    with database.sessions() as session:
        session.add(_api_key(datetime(2026, 11, 2, 9, 30)))  # noqa: DTZ001

        with pytest.raises(StatementError, match="store aware datetimes only") as info:
            session.flush()

    assert isinstance(info.value.orig, ValueError)


def test_utc_datetime_returns_aware_utc(database: Database) -> None:
    brussels_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 1, 23, 30, 15, 123456, tzinfo=brussels_summer)
    with database.sessions() as session:
        session.add(_api_key(moment))
        session.commit()

    with database.sessions() as session:
        stored = session.scalars(select(ApiKeyRow)).one().created_at

    assert stored.tzinfo is UTC
    assert stored == moment
    assert stored == datetime(2026, 7, 1, 21, 30, 15, 123456, tzinfo=UTC)
