from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.money import (
    Money,
    from_minor_units,
    round_cents,
    to_minor_units,
)

CENTS = st.integers(min_value=-(10**15), max_value=10**15)


def test_money_float_amount_refused():
    with pytest.raises(TypeError, match="Decimal, not float"):
        Money(1.10, "EUR")  # type: ignore[arg-type]


def test_money_int_amount_refused():
    with pytest.raises(TypeError, match="Decimal, not int"):
        Money(1, "EUR")  # type: ignore[arg-type]


def test_round_cents_float_refused():
    with pytest.raises(TypeError, match="Decimal, not float"):
        round_cents(0.005)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("0.0049", "0.00"),
        ("-0.0049", "0.00"),
        ("1.015", "1.02"),
        ("2.675", "2.68"),
        ("0.0735", "0.07"),
        ("1.845", "1.85"),
        ("12", "12.00"),
    ],
)
def test_round_cents_half_away_from_zero(value, expected):
    rounded = round_cents(Decimal(value))

    assert rounded == Decimal(expected)
    assert rounded.as_tuple().exponent == -2


def test_money_amount_rounded_half_up_to_the_cent():
    assert Money(Decimal("0.005"), "EUR").amount == Decimal("0.01")
    assert Money(Decimal("-0.005"), "EUR").amount == Decimal("-0.01")
    assert str(Money(Decimal("3"), "EUR")) == "EUR 3.00"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E", ""])
def test_money_currency_not_iso_refused(currency):
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal("1"), currency)


def test_money_add_currency_mixing_refused():
    with pytest.raises(ValueError, match="cannot mix EUR and USD"):
        Money(Decimal("1"), "EUR") + Money(Decimal("1"), "USD")


def test_money_sub_currency_mixing_refused():
    with pytest.raises(ValueError, match="cannot mix USD and EUR"):
        Money(Decimal("1"), "USD") - Money(Decimal("1"), "EUR")


def test_money_arithmetic_same_currency():
    a = Money(Decimal("10.10"), "EUR")
    b = Money(Decimal("0.25"), "EUR")

    assert a + b == Money(Decimal("10.35"), "EUR")
    assert a - b == Money(Decimal("9.85"), "EUR")
    assert -a == Money(Decimal("-10.10"), "EUR")
    assert Money.zero("EUR") + a == a


def test_to_minor_units_lost_digits_refused():
    with pytest.raises(ValueError, match="more than 2 decimals"):
        to_minor_units(Decimal("1.001"))


def test_minor_units_other_scale():
    assert to_minor_units(Decimal("1.2345"), scale=4) == 12345
    assert from_minor_units(12345, scale=4) == Decimal("1.2345")
    assert from_minor_units(5, scale=0) == Decimal("5")


@settings(max_examples=10_000, deadline=None)
@given(cents=CENTS)
def test_money_cents_round_trip(cents):
    money = Money.from_cents(cents, "EUR")

    assert money.cents == cents
    assert money.amount.as_tuple().exponent == -2
    assert Money(money.amount, "EUR") == money
    assert to_minor_units(from_minor_units(cents)) == cents


@settings(max_examples=10_000, deadline=None)
@given(a=CENTS, b=CENTS)
def test_money_addition_exact_in_cents(a, b):
    total = Money.from_cents(a, "EUR") + Money.from_cents(b, "EUR")

    assert total.cents == a + b
    assert (Money.from_cents(a, "EUR") - Money.from_cents(b, "EUR")).cents == a - b
