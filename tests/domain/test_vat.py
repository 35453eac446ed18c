from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.money import round_cents
from ledgerbridge.domain.vat import VatCategory, compute_amounts, spread
from ledgerbridge.domain.vat_catalogue import (
    SUPPORTED_COUNTRIES,
    VAT_SCENARIOS,
    scenarios_for,
)

BE_21 = VAT_SCENARIOS["BE-21"]
BE_06 = VAT_SCENARIOS["BE-06"]
BE_06_RENOVATION = VAT_SCENARIOS["BE-06-RENOVATION"]
BE_REVERSE_CHARGE = VAT_SCENARIOS["BE-REVERSE-CHARGE"]
CENT = Decimal("0.01")

# Exact shares as compute_amounts makes them (cents × rate / 100) and finer.
EXACT_SHARES = st.lists(
    st.builds(
        lambda units, places: Decimal(units).scaleb(-places),
        st.integers(min_value=-(10**9), max_value=10**9),
        st.integers(min_value=0, max_value=6),
    ),
    min_size=1,
    max_size=12,
)


def _amounts(*lines):
    return compute_amounts([(Decimal(net), scenario) for net, scenario in lines])


# charts.md §7.6, worked mismatch examples: VAT on the total per rate.


def test_compute_amounts_three_lines_at_21_percent_vat_on_the_total():
    amounts = _amounts(*[("0.35", BE_21)] * 3)

    (group,) = amounts.groups
    assert group.taxable == Decimal("1.05")
    assert group.vat == Decimal("0.22")  # per line it would be 3 × 0.07 = 0.21
    assert amounts.line_vats == (Decimal("0.08"), Decimal("0.07"), Decimal("0.07"))
    assert sum(amounts.line_vats) == group.vat
    assert amounts.total == Decimal("1.27")


def test_compute_amounts_three_lines_at_6_percent_vat_on_the_total():
    amounts = _amounts(*[("10.25", BE_06)] * 3)

    (group,) = amounts.groups
    assert group.taxable == Decimal("30.75")
    assert group.vat == Decimal("1.85")  # per line it would be 3 × 0.62 = 1.86
    assert amounts.line_vats == (Decimal("0.61"), Decimal("0.62"), Decimal("0.62"))
    assert sum(amounts.line_vats) == group.vat
    assert amounts.total == Decimal("32.60")


def test_compute_amounts_excess_cent_taken_from_the_line_rounded_up_most():
    # Exact shares 0.615, 0.615, 0.6144: the per-rate VAT is 1.84, one cent
    # less than the lines rounded one by one; the cent comes off a line that
    # rounding pushed up, never off the one it already pushed down.
    amounts = _amounts(("10.25", BE_06), ("10.25", BE_06), ("10.24", BE_06))

    assert amounts.groups[0].vat == Decimal("1.84")
    assert amounts.line_vats == (Decimal("0.61"), Decimal("0.62"), Decimal("0.61"))


def test_compute_amounts_groups_by_category_and_rate():
    amounts = _amounts(
        ("100.00", BE_21),
        ("200.00", BE_06),
        ("50.00", BE_06_RENOVATION),  # same category and rate as BE-06
        ("1000.00", BE_REVERSE_CHARGE),
        ("10.00", BE_21),
    )

    groups = {(g.category, g.rate): (g.taxable, g.vat) for g in amounts.groups}
    assert groups == {
        (VatCategory.STANDARD, Decimal("21")): (Decimal("110.00"), Decimal("23.10")),
        (VatCategory.STANDARD, Decimal("6")): (Decimal("250.00"), Decimal("15.00")),
        (VatCategory.REVERSE_CHARGE, Decimal("0")): (
            Decimal("1000.00"),
            Decimal("0.00"),
        ),
    }
    assert amounts.net_total == Decimal("1360.00")
    assert amounts.vat_total == Decimal("38.10")
    assert amounts.total == Decimal("1398.10")


def test_compute_amounts_no_lines_totals_zero():
    amounts = compute_amounts([])

    assert amounts.groups == ()
    assert amounts.total == Decimal("0.00")


def test_compute_amounts_negative_group_rounds_away_from_zero():
    amounts = _amounts(("-0.35", BE_21), ("-0.35", BE_21), ("-0.35", BE_21))

    assert amounts.groups[0].vat == Decimal("-0.22")
    assert sum(amounts.line_vats) == Decimal("-0.22")


def test_spread_missing_cent_goes_to_the_share_rounded_down_most():
    assert spread(Decimal("0.22"), [Decimal("0.0735")] * 3) == [
        Decimal("0.08"),
        Decimal("0.07"),
        Decimal("0.07"),
    ]
    assert spread(
        Decimal("0.03"), [Decimal("0.011"), Decimal("0.0149"), Decimal("0.004")]
    ) == [Decimal("0.01"), Decimal("0.02"), Decimal("0.00")]


def test_spread_tie_goes_to_the_largest_share():
    assert spread(Decimal("0.02"), [Decimal("0.004"), Decimal("0.014")]) == [
        Decimal("0.00"),
        Decimal("0.02"),
    ]


def test_spread_nothing_missing_is_plain_rounding():
    assert spread(Decimal("1.50"), [Decimal("1.004"), Decimal("0.496")]) == [
        Decimal("1.00"),
        Decimal("0.50"),
    ]


@settings(max_examples=10_000, deadline=None)
@given(exact_shares=EXACT_SHARES)
def test_spread_adds_up_and_moves_no_share_beyond_a_cent(exact_shares):
    total = round_cents(sum(exact_shares, Decimal(0)))

    shares = spread(total, exact_shares)

    assert len(shares) == len(exact_shares)
    assert sum(shares, Decimal("0.00")) == total
    for share, exact in zip(shares, exact_shares, strict=True):
        assert isinstance(share, Decimal)
        assert share.as_tuple().exponent == -2
        assert abs(share - exact) <= CENT, (share, exact)


def test_catalogue_countries_are_belgium_and_the_netherlands():
    assert sorted(SUPPORTED_COUNTRIES) == ["BE", "NL"]


@pytest.mark.parametrize("country", ["BE", "NL"])
def test_catalogue_scenarios_for_country_only_its_own(country):
    scenarios = scenarios_for(country)

    assert scenarios
    assert {s.country for s in scenarios} == {country}
    assert all(s.code.startswith(f"{country}-") for s in scenarios)


def test_catalogue_scenarios_for_unknown_country_empty():
    assert scenarios_for("FR") == []


def test_catalogue_rates_are_decimal_percentages():
    for code, scenario in VAT_SCENARIOS.items():
        assert scenario.code == code
        assert isinstance(scenario.rate, Decimal)
        assert 0 <= scenario.rate <= 21


def test_catalogue_zero_rated_exemptions_carry_a_mention():
    for scenario in VAT_SCENARIOS.values():
        if scenario.category in {
            VatCategory.REVERSE_CHARGE,
            VatCategory.INTRA_EU,
            VatCategory.EXPORT,
        }:
            assert scenario.rate == 0
            assert scenario.invoice_mention


def test_catalogue_is_read_only():
    with pytest.raises(TypeError):
        VAT_SCENARIOS["BE-99"] = BE_21  # type: ignore[index]
