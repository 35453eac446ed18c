"""Column types that keep decimals exact: integers of fixed scale at rest.

SQLite has no decimal type (a `Numeric` silently becomes a float there), so
money is stored as integer cents and other decimals as integers of a fixed
number of decimals; Python only ever sees `Decimal`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from ledgerbridge.domain.money import from_minor_units, to_minor_units


class ScaledDecimal(TypeDecorator[Decimal]):
    """A `Decimal` stored as an integer of `scale` decimals (2: cents)."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale = scale

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_minor_units(value, self.scale)

    def process_result_value(
        self, value: int | None, dialect: Dialect
    ) -> Decimal | None:
        return None if value is None else from_minor_units(value, self.scale)


def Cents() -> ScaledDecimal:
    return ScaledDecimal(2)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
