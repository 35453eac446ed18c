"""Money as `Decimal` with a currency, rounded half up to the cent.

Floats never enter a money path: constructors refuse them, and amounts are
kept at rest as integer minor units (cents) by the storage layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")


def round_cents(value: Decimal) -> Decimal:
    """Round to the cent, half away from zero (EN 16931 and Exact both do)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(value: Decimal, scale: int = 2) -> int:
    """Turn a Decimal into an integer of `scale` decimals, refusing lost digits."""
    # Exact: under the default context (28 digits) scaleb would round.
    shifted = value.scaleb(scale, Context(prec=MAX_PREC))
    if shifted != shifted.to_integral_value():
        raise ValueError(f"{value} has more than {scale} decimals")
    return int(shifted)


def from_minor_units(units: int, scale: int = 2) -> Decimal:
    return Decimal(units).scaleb(-scale).quantize(Decimal(1).scaleb(-scale))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, always held to the cent."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(
                f"money must be a Decimal, not {type(self.amount).__name__}"
            )
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(
                f"currency must be an ISO 4217 code, not {self.currency!r}"
            )
        object.__setattr__(self, "amount", round_cents(self.amount))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    @classmethod
    def from_cents(cls, cents: int, currency: str) -> Money:
        return cls(from_minor_units(cents), currency)

    @property
    def cents(self) -> int:
        return to_minor_units(self.amount)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"
