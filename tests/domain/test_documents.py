import dataclasses
from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.documents import (
    Document,
    DocumentType,
    Line,
    Side,
    check_document,
)
from ledgerbridge.domain.parties import Company
from ledgerbridge.domain.problems import Problem
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS, scenarios_for

COMPANIES = {
    "BE": Company("acme-be", "Acme Keukens BV", "BE", "BE0403170701"),
    "NL": Company("acme-nl", "Acme Keukens B.V.", "NL", "NL004495445B01"),
}


# Lines are drawn as integers of ten-thousandths (quantity, unit price) and
# hundredths (discount %) and turned into Decimals by `_document`.
QUANTITY_UNITS = st.integers(min_value=-(10**7), max_value=10**7).filter(bool)
UNIT_PRICE_UNITS = st.integers(min_value=0, max_value=10**9)
DISCOUNT_UNITS = st.integers(min_value=0, max_value=100_00)


def _document(document_type, country, side, lines):
    return COMPANIES[country], Document(
        side=side,
        type=document_type,
        number="2025-0001",
        party_ref="C-001",
        issue_date=date(2025, 1, 15),
        currency="EUR",
        lines=tuple(
            Line(
                description="Cabinet",
                quantity=Decimal(quantity).scaleb(-4),  # up to ±1000, not 0
                unit_price=Decimal(unit_price).scaleb(-4),  # up to 100,000
                vat_scenario=code,
                discount_percent=Decimal(discount).scaleb(-2),  # 0 to 100
            )
            for code, quantity, unit_price, discount in lines
        ),
    )


def documents(document_type):
    """(company, document) of one country, with 1 to 8 random lines.

    The strategies are built once per country, not in a composite that would
    rebuild them for every example: 10,000 examples stay affordable.
    """
    return st.one_of(
        [
            st.builds(
                _document,
                st.just(document_type),
                st.just(country),
                st.sampled_from(Side),
                st.lists(
                    st.tuples(
                        st.sampled_from([s.code for s in scenarios_for(country)]),
                        QUANTITY_UNITS,
                        UNIT_PRICE_UNITS,
                        DISCOUNT_UNITS,
                    ),
                    min_size=1,
                    max_size=8,
                ),
            )
            for country in sorted(COMPANIES)
        ]
    )


def _half_up(value: Fraction) -> Fraction:
    """Round an exact fraction to the cent, half away from zero."""
    cents = floor(abs(value) * 100 + Fraction(1, 2))
    return Fraction(cents if value >= 0 else -cents, 100)


def _is_cents(value) -> bool:
    return type(value) is Decimal and value.as_tuple().exponent == -2


def _assert_amounts_exact(document: Document) -> Fraction:
    """Check the amounts against exact rational arithmetic; return the total."""
    amounts = document.amounts()

    # Line nets: quantity × price less discount, rounded half up (BT-131).
    expected_nets = [
        _half_up(
            Fraction(line.quantity)
            * Fraction(line.unit_price)
            * (100 - Fraction(line.discount_percent))
            / 100
        )
        for line in document.lines
    ]
    assert [Fraction(net) for net in amounts.line_nets] == expected_nets
    assert amounts.line_nets == tuple(line.net for line in document.lines)

    # Per VAT group (category, rate): BR-CO-17 on the taxable total, and the
    # lines of the group add up to it exactly.
    members: dict[tuple, list[int]] = {}
    for index, line in enumerate(document.lines):
        scenario = VAT_SCENARIOS[line.vat_scenario]
        members.setdefault((scenario.category, scenario.rate), []).append(index)
    assert sorted(members) == sorted((g.category, g.rate) for g in amounts.groups)
    for group in amounts.groups:
        indexes = members[(group.category, group.rate)]
        taxable = sum(expected_nets[i] for i in indexes)
        assert Fraction(group.taxable) == taxable
        assert Fraction(group.vat) == _half_up(taxable * Fraction(group.rate) / 100)
        assert sum(amounts.line_vats[i] for i in indexes) == group.vat
        for i in indexes:
            exact = Fraction(amounts.line_nets[i]) * Fraction(group.rate) / 100
            assert abs(Fraction(amounts.line_vats[i]) - exact) <= Fraction(1, 100)

    # The total is the nets plus the VAT of each group, not one cent off.
    total = sum(expected_nets) + sum(Fraction(g.vat) for g in amounts.groups)
    assert Fraction(amounts.total) == total
    assert amounts.total == sum(amounts.line_nets) + sum(g.vat for g in amounts.groups)

    # Decimals to the cent all the way: no float, no stray digits.
    assert len(amounts.line_nets) == len(amounts.line_vats) == len(document.lines)
    money = [*amounts.line_nets, *amounts.line_vats]
    money += [amounts.net_total, amounts.vat_total, amounts.total]
    money += [v for g in amounts.groups for v in (g.taxable, g.vat)]
    assert all(_is_cents(value) for value in money), money
    assert all(type(g.rate) is Decimal for g in amounts.groups)
    return total


def _assert_checks_agree(document: Document, company: Company, total: Fraction):
    """check_document accepts the document, unless it totals below zero."""
    printed = Decimal(total.numerator) / Decimal(total.denominator)
    problems = check_document(
        dataclasses.replace(document, expected_total=printed), company
    )
    if total >= 0:
        assert problems == []
    else:
        assert [p.field for p in problems] == ["lines"]
        assert "below zero" in problems[0].message


@settings(max_examples=10_000, deadline=None)
@given(case=documents(DocumentType.INVOICE))
def test_invoice_amounts_exact_to_the_cent(case):
    company, invoice = case

    total = _assert_amounts_exact(invoice)

    assert invoice.sign == 1
    _assert_checks_agree(invoice, company, total)


@settings(max_examples=10_000, deadline=None)
@given(case=documents(DocumentType.CREDIT_NOTE))
def test_credit_note_amounts_exact_to_the_cent_and_negated(case):
    company, credit_note = case

    total = _assert_amounts_exact(credit_note)

    assert credit_note.sign == -1
    invoice = dataclasses.replace(credit_note, type=DocumentType.INVOICE)
    assert credit_note.amounts() == invoice.amounts()
    signed_credit = credit_note.sign * credit_note.amounts().total
    signed_invoice = invoice.sign * invoice.amounts().total
    assert signed_credit == -signed_invoice
    assert _is_cents(signed_credit)
    _assert_checks_agree(credit_note, company, total)


# check_document: one test per rule.


def _only_problem(problems):
    assert len(problems) == 1, problems
    return problems[0]


def test_check_document_valid_document_no_problems(make_document, be_company):
    assert check_document(make_document(), be_company) == []


def test_check_document_valid_credit_note_no_problems(make_document, be_company):
    credit_note = make_document(
        type=DocumentType.CREDIT_NOTE, expected_total=Decimal("121.00")
    )

    assert check_document(credit_note, be_company) == []


def test_check_document_valid_foreign_currency_no_problems(make_document, be_company):
    document = make_document(currency="USD", exchange_rate=Decimal("0.9182"))

    assert check_document(document, be_company) == []


def test_check_document_valid_nl_document_no_problems(
    make_document, make_line, nl_company
):
    document = make_document(
        lines=(
            make_line(vat_scenario="NL-21"),
            make_line(vat_scenario="NL-09", quantity=Decimal("-1")),
        ),
        payment_reference="INV 2025-0042",
    )

    assert check_document(document, nl_company) == []


def test_check_document_number_empty(make_document, be_company):
    problem = _only_problem(check_document(make_document(number="  "), be_company))

    assert problem.field == "number"
    assert "needs a number" in problem.message


def test_check_document_lines_empty(make_document, be_company):
    problem = _only_problem(check_document(make_document(lines=()), be_company))

    assert problem == Problem("lines", "the invoice has no lines")


def test_check_document_credit_note_lines_empty(make_document, be_company):
    credit_note = make_document(type=DocumentType.CREDIT_NOTE, lines=())

    problem = _only_problem(check_document(credit_note, be_company))

    assert problem == Problem("lines", "the credit note has no lines")


def test_check_document_quantity_zero(make_document, make_line, be_company):
    document = make_document(lines=(make_line(), make_line(quantity=Decimal("0"))))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[1].quantity"
    assert "quantity is zero" in problem.message


def test_check_document_quantity_too_many_decimals(
    make_document, make_line, be_company
):
    document = make_document(lines=(make_line(quantity=Decimal("1.00001")),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].quantity"
    assert "at most 4 decimals" in problem.message


def test_check_document_quantity_trailing_zeros_allowed(
    make_document, make_line, be_company
):
    document = make_document(lines=(make_line(quantity=Decimal("2.000000")),))

    assert check_document(document, be_company) == []


def test_check_document_unit_price_too_many_decimals(
    make_document, make_line, be_company
):
    document = make_document(lines=(make_line(unit_price=Decimal("9.99999")),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].unit_price"
    assert "at most 4 decimals" in problem.message


@pytest.mark.parametrize("discount", ["-0.01", "100.01", "150"])
def test_check_document_discount_out_of_range(
    make_document, make_line, be_company, discount
):
    document = make_document(lines=(make_line(discount_percent=Decimal(discount)),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].discount_percent"
    assert "between 0 and 100" in problem.message


def test_check_document_discount_too_many_decimals(
    make_document, make_line, be_company
):
    document = make_document(lines=(make_line(discount_percent=Decimal("12.345")),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].discount_percent"
    assert "at most 2 decimals" in problem.message


@pytest.mark.parametrize("discount", ["0", "100", "33.33"])
def test_check_document_discount_in_range_allowed(
    make_document, make_line, be_company, discount
):
    document = make_document(
        lines=(make_line(), make_line(discount_percent=Decimal(discount)))
    )

    assert check_document(document, be_company) == []


def test_check_document_negative_quantity_with_positive_line_total(
    make_document, make_line, be_company
):
    line = make_line(quantity=Decimal("-2"), unit_price=Decimal("-10"))
    document = make_document(lines=(line,))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].quantity"
    assert "negative but the line total is positive" in problem.message
    assert "(-2 × -10)" in problem.message


def test_check_document_returned_item_allowed(make_document, make_line, be_company):
    returned = make_line(quantity=Decimal("-1"), unit_price=Decimal("50.00"))
    document = make_document(lines=(make_line(), returned))

    assert check_document(document, be_company) == []


def test_check_document_vat_scenario_unknown(make_document, make_line, be_company):
    document = make_document(lines=(make_line(vat_scenario="BE-99"),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[0].vat_scenario"
    assert "unknown VAT scenario 'BE-99'" in problem.message
    assert "BE-21" in problem.message


def test_check_document_vat_scenario_of_other_country(
    make_document, make_line, be_company
):
    document = make_document(lines=(make_line(), make_line(vat_scenario="NL-21")))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines[1].vat_scenario"
    assert "'NL-21' is for NL" in problem.message
    assert "NL-" not in problem.message.split("use one of")[1]


def test_check_document_foreign_currency_without_exchange_rate(
    make_document, be_company
):
    problem = _only_problem(check_document(make_document(currency="USD"), be_company))

    assert problem.field == "exchange_rate"
    assert "send the exchange rate" in problem.message
    assert "1 USD = ? EUR" in problem.message


@pytest.mark.parametrize("rate", ["0", "-1.1"])
def test_check_document_exchange_rate_not_positive(make_document, be_company, rate):
    document = make_document(currency="USD", exchange_rate=Decimal(rate))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "exchange_rate"
    assert "above zero" in problem.message


def test_check_document_exchange_rate_for_own_currency(make_document, be_company):
    document = make_document(exchange_rate=Decimal("1.08"))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "exchange_rate"
    assert "leave the exchange rate out" in problem.message


def test_check_document_exchange_rate_one_for_own_currency_allowed(
    make_document, be_company
):
    document = make_document(exchange_rate=Decimal("1.0000"))

    assert check_document(document, be_company) == []


def test_check_document_due_date_before_issue_date(make_document, be_company):
    document = make_document(due_date=date(2025, 3, 13))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "due_date"
    assert "before the invoice date 2025-03-14" in problem.message


def test_check_document_due_date_on_issue_date_allowed(make_document, be_company):
    document = make_document(due_date=date(2025, 3, 14))

    assert check_document(document, be_company) == []


def test_check_document_invoice_below_zero(make_document, make_line, be_company):
    document = make_document(lines=(make_line(quantity=Decimal("-1")),))

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "lines"
    assert "totals -60.50, below zero" in problem.message
    assert "send a credit note" in problem.message


def test_check_document_credit_note_below_zero(make_document, make_line, be_company):
    credit_note = make_document(
        type=DocumentType.CREDIT_NOTE, lines=(make_line(quantity=Decimal("-1")),)
    )

    problem = _only_problem(check_document(credit_note, be_company))

    assert problem.field == "lines"
    assert "credit note's lines are positive" in problem.message


def test_check_document_expected_total_mismatch(make_document, make_line, be_company):
    document = make_document(
        lines=(
            make_line(quantity=Decimal("3"), unit_price=Decimal("0.35")),
            make_line(quantity=Decimal("1"), unit_price=Decimal("0.35")),
        ),
        expected_total=Decimal("1.68"),
    )

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "expected_total"
    assert "says 1.68" in problem.message
    assert "1.40 net + 0.29 VAT = 1.69" in problem.message


def test_check_document_expected_total_matching_allowed(make_document, be_company):
    document = make_document(expected_total=Decimal("121.00"))

    assert check_document(document, be_company) == []


def test_check_document_payment_reference_invalid(make_document, be_company):
    document = make_document(payment_reference="+++010/8068/17184+++")

    problem = _only_problem(check_document(document, be_company))

    assert problem.field == "payment_reference"
    assert "not a valid structured communication" in problem.message
    assert "modulo 97" in problem.message


@pytest.mark.parametrize(
    "reference", ["+++010/8068/17183+++", "***010/8068/17183***", "010806817183"]
)
def test_check_document_payment_reference_valid(make_document, be_company, reference):
    document = make_document(payment_reference=reference)

    assert check_document(document, be_company) == []


def test_check_document_every_problem_reported(make_document, make_line, be_company):
    document = make_document(
        number="",
        currency="USD",
        due_date=date(2025, 1, 1),
        lines=(make_line(quantity=Decimal("0")), make_line(vat_scenario="XX")),
    )

    fields = [p.field for p in check_document(document, be_company)]

    assert fields == [
        "number",
        "due_date",
        "exchange_rate",
        "lines[0].quantity",
        "lines[1].vat_scenario",
    ]


# Document.fingerprint


def test_fingerprint_equal_documents_equal(make_document):
    assert make_document().fingerprint() == make_document().fingerprint()


def test_fingerprint_line_price_changed_differs(make_document, make_line):
    changed = make_document(lines=(make_line(unit_price=Decimal("50.01")),))

    assert changed.fingerprint() != make_document().fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "2025-0043"},
        {"party_ref": "C-002"},
        {"type": DocumentType.CREDIT_NOTE},
        {"side": Side.PURCHASE},
        {"due_date": None},
        {"payment_reference": "+++010/8068/17183+++"},
        {"exchange_rate": Decimal("1.1")},
    ],
)
def test_fingerprint_booked_field_changed_differs(make_document, changes):
    assert make_document(**changes).fingerprint() != make_document().fingerprint()


def test_fingerprint_unaffected_by_validated(make_document):
    assert (
        make_document(validated=True).fingerprint()
        == make_document(validated=False).fingerprint()
    )


def test_fingerprint_unaffected_by_trailing_zeros(make_document, make_line):
    padded = make_document(lines=(make_line(unit_price=Decimal("50.0000")),))

    assert padded.fingerprint() == make_document().fingerprint()


def test_document_sign_invoice_and_credit_note(make_document):
    assert make_document().sign == 1
    assert make_document(type=DocumentType.CREDIT_NOTE).sign == -1


def test_line_net_discount_rounded_half_up(make_line):
    line = make_line(
        quantity=Decimal("3"),
        unit_price=Decimal("0.35"),
        discount_percent=Decimal("50"),
    )

    assert line.net == Decimal("0.53")  # 0.525
