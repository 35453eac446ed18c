import dataclasses
import re
from datetime import date
from decimal import Decimal
from types import MappingProxyType

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.accounting import ExportSettings
from ledgerbridge.domain.booking import (
    Booking,
    BookingLine,
    BookingProblem,
    BookingProblems,
    ExactAccount,
    ExactGLAccount,
    ExactJournal,
    ExactPaymentCondition,
    ExactVatCode,
    ReferenceData,
    build_booking,
    condition_for,
    payload,
)
from ledgerbridge.domain.documents import (
    Document,
    DocumentType,
    Line,
    Side,
    check_document,
)
from ledgerbridge.domain.parties import BookingCodes, Company, Party
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS, scenarios_for

SALES_TAB = "Financial settings > Accounting settings > Customer invoice tab"
PURCHASE_TAB = "Financial settings > Accounting settings > Supplier invoice tab"
CONTACT_CODES = (
    "Leads/Prospect > Contact > Edit > Settings tab > Accountancy booking codes"
)
SUPPLIER_CODES = "Purchase > Supplier > Edit > Settings tab > Specific booking codes"
EXACT_ACCOUNTS = "Exact Online > CRM > Accounts"


def _guid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _pad(code: str) -> str:
    return code.rjust(18)


def _vat(
    percent: str, kind: str, side: str, blocked: bool = False, charged: bool = False
) -> ExactVatCode:
    return ExactVatCode(Decimal(percent) / 100, kind, side, blocked, charged)


ACCOUNTS = MappingProxyType(
    {
        _pad("1001"): ExactAccount(_guid(1001), is_customer=True, is_supplier=False),
        _pad("2001"): ExactAccount(_guid(2001), is_customer=False, is_supplier=True),
        _pad("3001"): ExactAccount(
            _guid(3001), is_customer=True, is_supplier=True, blocked=True
        ),
    }
)
CONDITIONS = MappingProxyType(
    {
        "00": ExactPaymentCondition(0),
        "15": ExactPaymentCondition(15),
        "30": ExactPaymentCondition(30),
        "60": ExactPaymentCondition(60),
        "EM": ExactPaymentCondition(0, end_of_months=1),
    }
)

# The BE template of charts.md §3 and §4, plus a few codes that break rules.
BE = ReferenceData(
    journals=MappingProxyType(
        {
            "10": ExactJournal(10),
            "60": ExactJournal(22),
            "61": ExactJournal(22),
            "70": ExactJournal(20),
            "71": ExactJournal(20),
            "79": ExactJournal(20, blocked=True),
            "90": ExactJournal(90),
        }
    ),
    gl_accounts=MappingProxyType(
        {
            "400000": ExactGLAccount(_guid(400000), 20),
            "440000": ExactGLAccount(_guid(440000), 22),
            "451000": ExactGLAccount(_guid(451000), 24),
            "604000": ExactGLAccount(_guid(604000), 111),
            "610000": ExactGLAccount(_guid(610000), 120),
            "700000": ExactGLAccount(_guid(700000), 110),
            "705000": ExactGLAccount(_guid(705000), 110),
            "708000": ExactGLAccount(_guid(708000), 110, blocked=True),
        }
    ),
    vat_codes=MappingProxyType(
        {
            "0": _vat("0", "B", "B"),
            "V21": _vat("21", "E", "S"),
            "V12": _vat("12", "E", "S"),
            "V06": _vat("6", "E", "S"),
            "V00": _vat("0", "B", "S"),
            "VMC": _vat("0", "B", "S"),
            "VIB": _vat("0", "B", "S"),
            "VIS": _vat("0", "B", "S"),
            "VEX": _vat("0", "B", "S"),
            "A21": _vat("21", "E", "P"),
            "A12": _vat("12", "E", "P"),
            "A06": _vat("6", "E", "P"),
            "A00": _vat("0", "B", "P"),
            "AMC": _vat("21", "E", "P", charged=True),
            "AIB": _vat("21", "E", "P", charged=True),
            "VXB": _vat("21", "E", "S", blocked=True),
            "V2I": _vat("21", "I", "S"),
        }
    ),
    payment_conditions=CONDITIONS,
    accounts=ACCOUNTS,
)
# The NL template of charts.md §5.
NL = ReferenceData(
    journals=MappingProxyType(
        {
            "60": ExactJournal(22),
            "61": ExactJournal(22),
            "70": ExactJournal(20),
            "71": ExactJournal(20),
        }
    ),
    gl_accounts=MappingProxyType(
        {
            "4000": ExactGLAccount(_guid(4000), 120),
            "7000": ExactGLAccount(_guid(7000), 111),
            "8000": ExactGLAccount(_guid(8000), 110),
            "8010": ExactGLAccount(_guid(8010), 110),
        }
    ),
    vat_codes=MappingProxyType(
        {
            "0": _vat("0", "B", "B"),
            "1": _vat("9", "E", "B"),
            "2": _vat("21", "E", "B"),
            "3": _vat("9", "I", "B"),
            "4": _vat("21", "I", "B"),
            "5": _vat("0", "B", "S"),
            "6": _vat("0", "B", "S"),
            "7": _vat("0", "B", "S"),
        }
    ),
    payment_conditions=CONDITIONS,
    accounts=ACCOUNTS,
)
REFERENCE = {"BE": BE, "NL": NL}

VAT_CODES = {
    ("BE", Side.SALES): {
        "BE-21": "V21",
        "BE-12": "V12",
        "BE-06": "V06",
        "BE-06-RENOVATION": "V06",
        "BE-00-INTRA-EU": "VIB",
        "BE-00-EXPORT": "VEX",
        "BE-REVERSE-CHARGE": "VMC",
    },
    ("BE", Side.PURCHASE): {
        "BE-21": "A21",
        "BE-12": "A12",
        "BE-06": "A06",
        "BE-06-RENOVATION": "A06",
        "BE-00-INTRA-EU": "A00",
        "BE-00-EXPORT": "A00",
        "BE-REVERSE-CHARGE": "A00",
    },
    ("NL", Side.SALES): {
        "NL-21": "2",
        "NL-09": "1",
        "NL-00": "0",
        "NL-REVERSE-CHARGE": "5",
        "NL-INTRA-EU": "6",
        "NL-EXPORT": "7",
    },
    ("NL", Side.PURCHASE): {
        "NL-21": "2",
        "NL-09": "1",
        "NL-00": "0",
        "NL-REVERSE-CHARGE": "0",
        "NL-INTRA-EU": "0",
        "NL-EXPORT": "0",
    },
}
JOURNALS = {Side.SALES: ("70", "71"), Side.PURCHASE: ("60", "61")}
DEFAULT_GL = {
    ("BE", Side.SALES): "700000",
    ("BE", Side.PURCHASE): "604000",
    ("NL", Side.SALES): "8000",
    ("NL", Side.PURCHASE): "7000",
}
LINE_GL = {
    ("BE", Side.SALES): "705000",
    ("BE", Side.PURCHASE): "610000",
    ("NL", Side.SALES): "8010",
    ("NL", Side.PURCHASE): "4000",
}


def _settings(country="BE", side=Side.SALES, **changes) -> ExportSettings:
    journal, credit_note_journal = JOURNALS[side]
    tab = ExportSettings(
        enabled=True,
        journal=journal,
        credit_note_journal=credit_note_journal,
        default_gl_account=DEFAULT_GL[country, side],
        vat_codes=MappingProxyType(VAT_CODES[country, side]),
    )
    return dataclasses.replace(tab, **changes)


CUSTOMER = Party("C-001", "Van Dam Bouw", booking_codes=BookingCodes(exact_code="1001"))
SUPPLIER = Party("S-001", "Sanitair NV", booking_codes=BookingCodes(exact_code="2001"))


def _document(**changes) -> Document:
    """A validated Belgian sales invoice: 2 × 50.00 at 21 %."""
    document = Document(
        side=Side.SALES,
        type=DocumentType.INVOICE,
        number="2025-0042",
        party_ref="C-001",
        issue_date=date(2025, 3, 14),
        currency="EUR",
        lines=(Line("Worktop", Decimal("2"), Decimal("50.00"), "BE-21"),),
        due_date=date(2025, 4, 13),
        payment_reference="+++250/0700/04278+++",
        validated=True,
    )
    return dataclasses.replace(document, **changes)


def _book(document=None, party=None, tab=None, reference=BE, **options):
    document = document or _document()
    if party is None:
        party = CUSTOMER if document.side is Side.SALES else SUPPLIER
    tab = tab or _settings("BE", document.side)
    return build_booking(document, party, tab, "EUR", reference, **options)


def _booked(result) -> Booking:
    assert isinstance(result, Booking), result
    return result


def _only(result, code) -> BookingProblem:
    assert isinstance(result, BookingProblems), result
    assert result.codes == [code], result
    return result.problems[0]


# Property: the booking equals the document to the cent.

COMPANIES = {
    "BE": Company("acme-be", "Acme Keukens BV", "BE", "BE0403170701"),
    "NL": Company("acme-nl", "Acme Keukens B.V.", "NL", "NL004495445B01"),
}
# Quantities and prices in ten-thousandths, discounts in hundredths of a %.
LINES = {
    country: st.lists(
        st.tuples(
            st.sampled_from([s.code for s in scenarios_for(country)]),
            st.integers(min_value=-(10**7), max_value=10**7).filter(bool),
            st.integers(min_value=0, max_value=10**9),
            st.integers(min_value=0, max_value=100_00),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
    for country in COMPANIES
}
CURRENCIES = st.one_of(
    st.just(("EUR", None)),
    st.tuples(
        st.sampled_from(["USD", "GBP", "CHF"]),
        st.integers(min_value=1, max_value=5 * 10**6).map(
            lambda units: Decimal(units).scaleb(-6)
        ),
    ),
)


@st.composite
def cases(draw):
    country = draw(st.sampled_from(sorted(COMPANIES)))
    side = draw(st.sampled_from(Side))
    currency, rate = draw(CURRENCIES)
    document = Document(
        side=side,
        type=draw(st.sampled_from(DocumentType)),
        number="2025-0001",
        party_ref="P-001",
        issue_date=date(2025, 1, 15),
        currency=currency,
        exchange_rate=rate,
        validated=True,
        lines=tuple(
            Line(
                description="Cabinet",
                quantity=Decimal(quantity).scaleb(-4),
                unit_price=Decimal(price).scaleb(-4),
                vat_scenario=scenario,
                discount_percent=Decimal(discount).scaleb(-2),
                gl_account=LINE_GL[country, side] if own_gl else None,
            )
            for scenario, quantity, price, discount, own_gl in draw(LINES[country])
        ),
    )
    return country, document


@settings(max_examples=3_000, deadline=None)
@given(case=cases())
def test_build_booking_amounts_equal_document_to_the_cent(case):
    country, document = case
    amounts = document.amounts()
    assume(amounts.total >= 0)
    assert check_document(document, COMPANIES[country]) == []
    party = CUSTOMER if document.side is Side.SALES else SUPPLIER
    tab = _settings(country, document.side)
    sign = document.sign

    booking = _booked(build_booking(document, party, tab, "EUR", REFERENCE[country]))

    # Lines: net and VAT of the document, signed; the sum is the total.
    assert [line.amount_fc for line in booking.lines] == [
        sign * net for net in amounts.line_nets
    ]
    assert [line.vat_amount_fc for line in booking.lines] == [
        sign * vat for vat in amounts.line_vats
    ]
    booked = sum(line.amount_fc + line.vat_amount_fc for line in booking.lines)
    assert booked == sign * amounts.total
    # Per VAT code, the VAT of the rates mapped to it (VAT on the total).
    code_of_group = {}
    for line, booked_line in zip(document.lines, booking.lines, strict=True):
        scenario = VAT_SCENARIOS[line.vat_scenario]
        key = (scenario.category, scenario.rate)
        assert code_of_group.setdefault(key, booked_line.vat_code) == (
            booked_line.vat_code
        )
    for code in set(code_of_group.values()):
        per_code = sum(
            (line.vat_amount_fc for line in booking.lines if line.vat_code == code),
            Decimal("0.00"),
        )
        groups = [
            g for g in amounts.groups if code_of_group[g.category, g.rate] == code
        ]
        assert per_code == sign * sum((g.vat for g in groups), Decimal("0.00"))
    # Header: journal by type, rate only when foreign.
    assert booking.journal == JOURNALS[document.side][sign < 0]
    assert booking.rate == (
        None if document.currency == "EUR" else document.exchange_rate
    )

    # The payload carries the same amounts, as strings of two decimals.
    body = payload(booking)
    key = "SalesEntryLines" if document.side is Side.SALES else "PurchaseEntryLines"
    sent = body[key]
    assert len(sent) == len(booking.lines)
    for line, booked_line in zip(sent, booking.lines, strict=True):
        for field, value in (
            ("AmountFC", booked_line.amount_fc),
            ("VATAmountFC", booked_line.vat_amount_fc),
        ):
            assert re.fullmatch(r"-?\d+\.\d\d", line[field]), line[field]
            assert line[field] != "-0.00"
            assert Decimal(line[field]) == value
        assert Decimal(line["Quantity"]) == booked_line.quantity
    total = sum(
        Decimal(line["AmountFC"]) + Decimal(line["VATAmountFC"]) for line in sent
    )
    assert total == sign * amounts.total
    assert ("Rate" in body) is (document.currency != "EUR")
    if "Rate" in body:
        assert Decimal(body["Rate"]) == document.exchange_rate


# Mapping, field by field.


def test_build_booking_sales_invoice_every_field():
    booking = _booked(_book())

    assert booking == Booking(
        side=Side.SALES,
        journal="70",
        party_code="              1001",
        party_guid=_guid(1001),
        create_party=False,
        entry_date=date(2025, 3, 14),
        due_date=date(2025, 4, 13),
        your_ref="2025-0042",
        description="2025-0042 Van Dam Bouw",
        payment_reference="+++250/0700/04278+++",
        payment_condition="30",  # the term of 14 March to 13 April
        currency="EUR",
        rate=None,
        lines=(
            BookingLine(
                gl_account_guid=_guid(700000),
                gl_account_code="700000",
                vat_code="V21",
                amount_fc=Decimal("100.00"),
                vat_amount_fc=Decimal("21.00"),
                description="Worktop",
                quantity=Decimal("2"),
            ),
        ),
    )
    assert len(booking.party_code) == 18
    assert booking.resource == "salesentry/SalesEntries"


def test_payload_sales_invoice_exact_body():
    booking = _booked(_book(payment_condition="30"))

    assert payload(booking) == {
        "Journal": "70",
        "Customer": _guid(1001),
        "EntryDate": "2025-03-14",
        "DueDate": "2025-04-13",
        "YourRef": "2025-0042",
        "Description": "2025-0042 Van Dam Bouw",
        "PaymentReference": "+++250/0700/04278+++",
        "PaymentCondition": "30",
        "Currency": "EUR",
        "SalesEntryLines": [
            {
                "GLAccount": _guid(700000),
                "AmountFC": "100.00",
                "VATAmountFC": "21.00",
                "VATCode": "V21",
                "Description": "Worktop",
                "Quantity": "2",
            }
        ],
    }


def test_payload_purchase_invoice_supplier_and_purchase_lines():
    document = _document(
        side=Side.PURCHASE,
        number="INV-77",
        description="Sanitair March",
        due_date=None,
        payment_reference=None,
    )

    booking = _booked(_book(document))
    body = payload(booking)

    assert booking.resource == "purchaseentry/PurchaseEntries"
    assert body == {
        "Journal": "60",
        "Supplier": _guid(2001),
        "EntryDate": "2025-03-14",
        "YourRef": "INV-77",
        "Description": "Sanitair March",
        "Currency": "EUR",
        "PurchaseEntryLines": [
            {
                "GLAccount": _guid(604000),
                "AmountFC": "100.00",
                "VATAmountFC": "21.00",
                "VATCode": "A21",
                "Description": "Worktop",
                "Quantity": "2",
            }
        ],
    }


def test_build_booking_credit_note_negative_on_credit_note_journal():
    credit_note = _document(
        type=DocumentType.CREDIT_NOTE,
        lines=(
            Line("Worktop", Decimal("2"), Decimal("50.00"), "BE-21"),
            Line("Tap", Decimal("1"), Decimal("0.00"), "BE-21"),
        ),
    )

    booking = _booked(_book(credit_note))
    body = payload(booking)

    assert booking.journal == "71"
    assert [line.amount_fc for line in booking.lines] == [Decimal("-100.00"), 0]
    assert [line.vat_amount_fc for line in booking.lines] == [Decimal("-21.00"), 0]
    assert [line.quantity for line in booking.lines] == [-2, -1]
    assert [line["AmountFC"] for line in body["SalesEntryLines"]] == [
        "-100.00",
        "0.00",
    ]
    assert [line["VATAmountFC"] for line in body["SalesEntryLines"]] == [
        "-21.00",
        "0.00",
    ]
    assert [line["Quantity"] for line in body["SalesEntryLines"]] == ["-2", "-1"]


def test_build_booking_credit_note_without_its_journal_uses_the_journal():
    tab = _settings(credit_note_journal=None)

    booking = _booked(_book(_document(type=DocumentType.CREDIT_NOTE), tab=tab))

    assert booking.journal == "70"


def test_build_booking_purchase_credit_note_on_purchase_credit_note_journal():
    document = _document(side=Side.PURCHASE, type=DocumentType.CREDIT_NOTE)

    booking = _booked(_book(document))

    assert booking.journal == "61"
    assert booking.lines[0].amount_fc == Decimal("-100.00")


def test_build_booking_foreign_currency_sends_rate():
    document = _document(currency="USD", exchange_rate=Decimal("0.920000"))

    booking = _booked(_book(document))
    body = payload(booking)

    assert booking.currency == "USD"
    assert booking.rate == Decimal("0.92")
    assert body["Currency"] == "USD"
    assert body["Rate"] == "0.92"


def test_build_booking_own_currency_sends_no_rate():
    booking = _booked(_book(_document(exchange_rate=Decimal("1"))))

    assert booking.rate is None
    assert "Rate" not in payload(booking)


def test_build_booking_renovation_and_reverse_charge_lines_to_their_codes():
    document = _document(
        lines=(
            Line("Oven", Decimal("1"), Decimal("800.00"), "BE-21"),
            Line("Bathroom renovation", Decimal("1"), Decimal("5000.00"), "BE-06"),
            Line(
                "Kitchen fitting", Decimal("1"), Decimal("1200.00"), "BE-06-RENOVATION"
            ),
            Line("Works", Decimal("1"), Decimal("3000.00"), "BE-REVERSE-CHARGE"),
        )
    )

    booking = _booked(_book(document))

    assert [(line.vat_code, line.vat_amount_fc) for line in booking.lines] == [
        ("V21", Decimal("168.00")),
        ("V06", Decimal("300.00")),
        ("V06", Decimal("72.00")),
        ("VMC", Decimal("0.00")),
    ]


def test_build_booking_vat_per_rate_on_the_total_not_per_line():
    # charts.md §7.6: 3 × 0.35 at 21 % is 0.22 on the total, 0.21 per line.
    document = _document(
        lines=tuple(
            Line(f"Knob {n}", Decimal("1"), Decimal("0.35"), "BE-21") for n in (1, 2, 3)
        )
    )

    booking = _booked(_book(document))

    vats = [line.vat_amount_fc for line in booking.lines]
    assert sum(vats) == Decimal("0.22")
    assert sorted(vats) == [Decimal("0.07"), Decimal("0.07"), Decimal("0.08")]


def test_build_booking_nl_codes():
    document = _document(
        lines=(
            Line("Worktop", Decimal("1"), Decimal("100.00"), "NL-21"),
            Line("Installation", Decimal("1"), Decimal("100.00"), "NL-09"),
            Line("EU delivery", Decimal("1"), Decimal("100.00"), "NL-INTRA-EU"),
        )
    )

    booking = _booked(_book(document, tab=_settings("NL"), reference=NL))

    assert [line.vat_code for line in booking.lines] == ["2", "1", "6"]
    assert [line.gl_account_code for line in booking.lines] == ["8000"] * 3


def test_build_booking_line_vat_scenario_wins_over_the_partys():
    party = dataclasses.replace(
        CUSTOMER,
        booking_codes=BookingCodes(exact_code="1001", vat_scenario="BE-REVERSE-CHARGE"),
    )

    booking = _booked(_book(party=party))

    assert booking.lines[0].vat_code == "V21"
    assert booking.lines[0].vat_amount_fc == Decimal("21.00")


def test_build_booking_gl_account_line_then_party_then_default():
    party = dataclasses.replace(
        CUSTOMER, booking_codes=BookingCodes(exact_code="1001", gl_account="705000")
    )
    document = _document(
        lines=(
            Line("Oven", Decimal("1"), Decimal("10.00"), "BE-21", gl_account="700000"),
            Line("Fitting", Decimal("1"), Decimal("10.00"), "BE-21"),
        )
    )

    with_party = _booked(_book(document, party=party))
    without = _booked(_book(document))

    assert [line.gl_account_code for line in with_party.lines] == ["700000", "705000"]
    assert [line.gl_account_guid for line in with_party.lines] == [
        _guid(700000),
        _guid(705000),
    ]
    assert [line.gl_account_code for line in without.lines] == ["700000", "700000"]


def test_build_booking_cost_centre_from_booking_codes():
    party = dataclasses.replace(
        CUSTOMER, booking_codes=BookingCodes(exact_code="1001", cost_centre="SHOW1")
    )

    booking = _booked(_book(party=party))

    assert booking.lines[0].cost_centre == "SHOW1"
    assert payload(booking)["SalesEntryLines"][0]["CostCenter"] == "SHOW1"


def test_build_booking_no_due_date_left_to_exact():
    booking = _booked(_book(_document(due_date=None)))

    assert booking.due_date is None
    assert booking.payment_condition is None
    assert "DueDate" not in payload(booking)
    assert "PaymentCondition" not in payload(booking)


def test_build_booking_sends_the_condition_of_the_invoices_term():
    booking = _booked(_book(_document(due_date=date(2025, 3, 29))))

    assert booking.payment_condition == "15"
    assert payload(booking)["PaymentCondition"] == "15"
    assert payload(booking)["DueDate"] == "2025-03-29"


def test_build_booking_term_without_a_condition_sends_the_due_date_only():
    booking = _booked(_book(_document(due_date=date(2025, 4, 2))))  # 19 days

    assert booking.payment_condition is None
    assert "PaymentCondition" not in payload(booking)
    assert payload(booking)["DueDate"] == "2025-04-02"


def test_condition_for_matches_days_only_and_prefers_the_lowest_code():
    issued = date(2025, 1, 17)
    conditions = {
        "30B": ExactPaymentCondition(30),
        "30": ExactPaymentCondition(30),
        "EM": ExactPaymentCondition(14, end_of_months=1),
    }

    assert condition_for(issued, date(2025, 2, 16), conditions) == "30"
    # 31 January + 14 days would be an end-of-month condition: not matched.
    assert condition_for(issued, date(2025, 2, 14), conditions) is None
    assert condition_for(issued, None, conditions) is None
    assert condition_for(issued, date(2025, 2, 16), {}) is None


def test_build_booking_explicit_condition_wins_over_the_term():
    booking = _booked(_book(payment_condition="60"))  # the term is 30 days

    assert booking.payment_condition == "60"


def test_build_booking_description_of_the_document():
    booking = _booked(_book(_document(description="Kitchen Janssens")))

    assert booking.description == "Kitchen Janssens"


def test_build_booking_vat_code_mapping_padding_stripped():
    tab = _settings(vat_codes=MappingProxyType({"BE-21": "V21 "}))

    booking = _booked(_book(tab=tab))

    assert booking.lines[0].vat_code == "V21"


def test_payload_numbers_without_exponent():
    document = _document(
        currency="USD",
        exchange_rate=Decimal("1.085000"),
        lines=(Line("Tiles", Decimal("2.5000"), Decimal("40.00"), "BE-21"),),
    )

    body = payload(_booked(_book(document)))

    assert body["Rate"] == "1.085"
    assert body["SalesEntryLines"][0]["Quantity"] == "2.5"


def test_build_booking_missing_party_created_when_allowed():
    party = dataclasses.replace(CUSTOMER, booking_codes=BookingCodes(exact_code="42"))

    booking = _booked(_book(party=party, tab=_settings(create_missing_parties=True)))

    assert booking.create_party
    assert booking.party_guid is None
    assert booking.party_code == _pad("42")
    with pytest.raises(ValueError, match="create account 42 in Exact first"):
        payload(booking)
    created = booking.with_party(_guid(42))
    assert not created.create_party
    assert payload(created)["Customer"] == _guid(42)


def test_booking_frozen():
    booking = _booked(_book())

    with pytest.raises(dataclasses.FrozenInstanceError):
        booking.journal = "71"


# Problems: one example per code, each with its sentence and where.


def _with_lines(*lines, **changes):
    return _document(lines=tuple(lines), **changes)


PURCHASE = {"side": Side.PURCHASE}
PROBLEMS = [
    (
        "missing_customer_code",
        {"party": dataclasses.replace(CUSTOMER, booking_codes=BookingCodes())},
        "Customer Van Dam Bouw (C-001) has no code in Exact",
        CONTACT_CODES,
    ),
    (
        "missing_supplier_code",
        {
            "document": _document(**PURCHASE),
            "party": dataclasses.replace(SUPPLIER, booking_codes=BookingCodes()),
        },
        "enter its supplier number",
        SUPPLIER_CODES,
    ),
    (
        "party_missing_in_exact",
        {
            "party": dataclasses.replace(
                CUSTOMER, booking_codes=BookingCodes(exact_code="9999")
            )
        },
        "tick 'create missing customers in Exact'",
        CONTACT_CODES,
    ),
    (
        "party_not_customer",
        {"party": dataclasses.replace(CUSTOMER, booking_codes=SUPPLIER.booking_codes)},
        "set its status to Customer (C)",
        EXACT_ACCOUNTS,
    ),
    (
        "party_not_supplier",
        {
            "document": _document(**PURCHASE),
            "party": dataclasses.replace(
                SUPPLIER, booking_codes=CUSTOMER.booking_codes
            ),
        },
        "which is not a supplier",
        EXACT_ACCOUNTS,
    ),
    (
        "party_blocked",
        {
            "party": dataclasses.replace(
                CUSTOMER, booking_codes=BookingCodes(exact_code="3001")
            )
        },
        "account 3001 in Exact, which is blocked",
        EXACT_ACCOUNTS,
    ),
    (
        "no_journal",
        {"tab": _settings(journal=None)},
        "Choose the sales journal",
        SALES_TAB,
    ),
    (
        "journal_unknown",
        {"tab": _settings(journal="77")},
        "sales journal 77 is not in the Exact administration",
        SALES_TAB,
    ),
    (
        "journal_wrong_type",
        {"tab": _settings(journal="90")},
        "General journal journal in Exact, not a Sales journal",
        SALES_TAB,
    ),
    (
        "journal_wrong_type",
        {
            "document": _document(**PURCHASE),
            "tab": _settings(side=Side.PURCHASE, journal="70"),
        },
        "purchase journal 70 is a Sales journal in Exact, not a Purchase journal",
        PURCHASE_TAB,
    ),
    (
        "journal_blocked",
        {
            "document": _document(type=DocumentType.CREDIT_NOTE),
            "tab": _settings(credit_note_journal="79"),
        },
        "credit-note journal 79 is blocked",
        SALES_TAB,
    ),
    (
        "no_gl_account",
        {"tab": _settings(default_gl_account=None)},
        "set the default revenue GL account",
        SALES_TAB,
    ),
    (
        "gl_unknown",
        {"tab": _settings(default_gl_account="999999")},
        "GL account 999999 (the default revenue GL account) is not in Exact",
        SALES_TAB,
    ),
    (
        "gl_unknown",
        {
            "document": _with_lines(
                Line("Oven", Decimal("1"), Decimal("9"), "BE-21"),
                Line("Hob", Decimal("1"), Decimal("9"), "BE-21", gl_account="1"),
            )
        },
        "correct line 2 in the business application",
        "lines[1].gl_account",
    ),
    (
        "gl_wrong_type",
        {
            "party": dataclasses.replace(
                CUSTOMER,
                booking_codes=BookingCodes(exact_code="1001", gl_account="400000"),
            )
        },
        "is an accounts receivable account",
        CONTACT_CODES,
    ),
    (
        "gl_wrong_type",
        {"tab": _settings(default_gl_account="440000")},
        "is an accounts payable account",
        SALES_TAB,
    ),
    (
        "gl_wrong_type",
        {"tab": _settings(default_gl_account="451000")},
        "is a VAT account",
        SALES_TAB,
    ),
    (
        "gl_blocked",
        {"tab": _settings(default_gl_account="708000")},
        "GL account 708000 (the default revenue GL account) is blocked",
        SALES_TAB,
    ),
    (
        "vat_scenario_unknown",
        {"document": _with_lines(Line("Oven", Decimal("1"), Decimal("9"), "BE-99"))},
        "VAT scenario 'BE-99', which ledgerbridge does not know",
        "lines[0].vat_scenario",
    ),
    (
        "vat_scenario_unmapped",
        {"tab": _settings(vat_codes=MappingProxyType({"BE-12": "V12"}))},
        "VAT scenario BE-21 (21 % standard rate) has no Exact VAT code",
        SALES_TAB,
    ),
    (
        "vat_code_unknown",
        {"tab": _settings(vat_codes=MappingProxyType({"BE-21": "V99"}))},
        "VAT code V99, which is not in the Exact administration",
        SALES_TAB,
    ),
    (
        "vat_code_blocked",
        {"tab": _settings(vat_codes=MappingProxyType({"BE-21": "VXB"}))},
        "VAT code VXB, which is blocked",
        SALES_TAB,
    ),
    (
        "vat_code_wrong_side",
        {"tab": _settings(vat_codes=MappingProxyType({"BE-21": "A21"}))},
        "VAT code A21, which is not a sales code",
        SALES_TAB,
    ),
    (
        "vat_code_wrong_side",
        {
            "document": _document(**PURCHASE),
            "tab": _settings(
                side=Side.PURCHASE, vat_codes=MappingProxyType({"BE-21": "V21"})
            ),
        },
        "VAT code V21, which is not a purchase code",
        PURCHASE_TAB,
    ),
    (
        "vat_code_inclusive",
        {"tab": _settings(vat_codes=MappingProxyType({"BE-21": "V2I"}))},
        "use a code of type 'excluding'",
        SALES_TAB,
    ),
    (
        "vat_rate_mismatch",
        {
            "document": _with_lines(
                Line("Fitting", Decimal("1"), Decimal("9"), "BE-06-RENOVATION")
            ),
            "tab": _settings(vat_codes=MappingProxyType({"BE-06-RENOVATION": "V21"})),
        },
        "which is 21 % while the scenario charges 6 %",
        SALES_TAB,
    ),
    (
        "vat_rate_mismatch",
        {
            "document": _with_lines(
                Line("Works", Decimal("1"), Decimal("9"), "BE-REVERSE-CHARGE")
            ),
            "tab": _settings(vat_codes=MappingProxyType({"BE-REVERSE-CHARGE": "V21"})),
        },
        "reverse charge, intra-EU and export book with a 0 % code",
        SALES_TAB,
    ),
    (
        "vat_rate_mismatch",
        {
            "document": _with_lines(
                Line("Works", Decimal("1"), Decimal("9"), "BE-REVERSE-CHARGE"),
                **PURCHASE,
            ),
            "tab": _settings(
                side=Side.PURCHASE,
                vat_codes=MappingProxyType({"BE-REVERSE-CHARGE": "A21"}),
            ),
        },
        "which is 21 % while the scenario charges 0 %: use a 0 % code (reverse "
        "charge and intra-EU purchases book with a 0 % code or a charged code)",
        PURCHASE_TAB,
    ),
    (
        "vat_rate_mismatch",
        {
            "document": _with_lines(
                Line("Tiles", Decimal("1"), Decimal("9"), "BE-21"), **PURCHASE
            ),
            "tab": _settings(
                side=Side.PURCHASE, vat_codes=MappingProxyType({"BE-21": "AMC"})
            ),
        },
        "which is a charged code (21 % self-assessed, no VAT on the invoice) "
        "while the scenario charges 21 %",
        PURCHASE_TAB,
    ),
    (
        "not_validated",
        {"document": _document(validated=False)},
        "The invoice 2025-0042 is not validated yet",
        "validated",
    ),
    (
        "foreign_currency_without_rate",
        {"document": _document(currency="USD")},
        "send its exchange rate (1 USD = ? EUR)",
        "exchange_rate",
    ),
    (
        "payment_condition_unknown",
        {"payment_condition": "45"},
        "Payment condition 45 is not in the Exact administration",
        "payment_condition",
    ),
]


@pytest.mark.parametrize(
    ("code", "given", "phrase", "where"),
    PROBLEMS,
    ids=[f"{case[0]}-{n}" for n, case in enumerate(PROBLEMS)],
)
def test_build_booking_problem_reported(code, given, phrase, where):
    problem = _only(_book(**given), code)

    assert phrase in problem.sentence
    assert problem.where == where


def test_build_booking_problem_codes_all_covered():
    covered = {case[0] for case in PROBLEMS}

    assert covered == {
        "missing_customer_code",
        "missing_supplier_code",
        "party_missing_in_exact",
        "party_not_customer",
        "party_not_supplier",
        "party_blocked",
        "no_journal",
        "journal_unknown",
        "journal_wrong_type",
        "journal_blocked",
        "no_gl_account",
        "gl_unknown",
        "gl_wrong_type",
        "gl_blocked",
        "vat_scenario_unknown",
        "vat_scenario_unmapped",
        "vat_code_unknown",
        "vat_code_blocked",
        "vat_code_wrong_side",
        "vat_code_inclusive",
        "vat_rate_mismatch",
        "not_validated",
        "foreign_currency_without_rate",
        "payment_condition_unknown",
    }


def test_build_booking_every_problem_at_once():
    document = _with_lines(
        Line("Oven", Decimal("1"), Decimal("9"), "BE-21"),
        Line("Fitting", Decimal("1"), Decimal("9"), "BE-06-RENOVATION"),
        validated=False,
        currency="GBP",
    )
    tab = _settings(
        journal=None,
        default_gl_account=None,
        vat_codes=MappingProxyType({"BE-06-RENOVATION": "V2I"}),
    )
    party = dataclasses.replace(CUSTOMER, booking_codes=BookingCodes())

    result = _book(document, party=party, tab=tab, payment_condition="45")

    assert isinstance(result, BookingProblems)
    assert result.codes == [
        "not_validated",
        "missing_customer_code",
        "no_journal",
        "foreign_currency_without_rate",
        "payment_condition_unknown",
        "vat_scenario_unmapped",
        "vat_code_inclusive",
        "vat_rate_mismatch",
        "no_gl_account",
    ]
    assert len(result) == 9
    assert list(result) == list(result.problems)


def test_build_booking_same_problem_on_many_lines_reported_once():
    document = _with_lines(
        *(Line(f"Knob {n}", Decimal("1"), Decimal("1"), "BE-12") for n in range(5))
    )

    tab = _settings(
        default_gl_account="999999", vat_codes=MappingProxyType({"BE-21": "V21"})
    )

    result = _book(document, tab=tab)

    assert isinstance(result, BookingProblems)
    assert result.codes == ["vat_scenario_unmapped", "gl_unknown"]


def test_build_booking_gl_wrong_type_and_blocked_both_reported():
    reference = dataclasses.replace(
        BE,
        gl_accounts=MappingProxyType(
            {"400000": ExactGLAccount(_guid(400000), 20, blocked=True)}
        ),
    )

    result = _book(tab=_settings(default_gl_account="400000"), reference=reference)

    assert isinstance(result, BookingProblems)
    assert result.codes == ["gl_wrong_type", "gl_blocked"]
    assert {p.where for p in result} == {SALES_TAB}


# Reverse charge and intra-EU acquisitions on purchases: charged codes.


def _reverse_charge_purchase() -> Document:
    return _document(
        side=Side.PURCHASE,
        number="RC-2025-7",
        lines=(
            Line("Tiling works", Decimal("1"), Decimal("3000.00"), "BE-REVERSE-CHARGE"),
            Line("Taps from NL", Decimal("4"), Decimal("62.50"), "BE-00-INTRA-EU"),
        ),
        payment_reference=None,
    )


def _charged_tab() -> ExportSettings:
    codes = dict(VAT_CODES["BE", Side.PURCHASE])
    codes |= {"BE-REVERSE-CHARGE": "AMC", "BE-00-INTRA-EU": "AIB"}
    return _settings(side=Side.PURCHASE, vat_codes=MappingProxyType(codes))


def test_build_booking_reverse_charge_purchase_maps_to_charged_codes():
    booking = _booked(_book(_reverse_charge_purchase(), tab=_charged_tab()))
    body = payload(booking)

    assert [(line.vat_code, line.vat_amount_fc) for line in booking.lines] == [
        ("AMC", Decimal("0.00")),
        ("AIB", Decimal("0.00")),
    ]
    assert [
        (line["VATCode"], line["AmountFC"], line["VATAmountFC"])
        for line in body["PurchaseEntryLines"]
    ] == [("AMC", "3000.00", "0.00"), ("AIB", "250.00", "0.00")]


def test_build_booking_charged_code_refused_on_sales():
    tab = _settings(vat_codes=MappingProxyType({"BE-REVERSE-CHARGE": "AMC"}))
    document = _with_lines(
        Line("Works", Decimal("1"), Decimal("9"), "BE-REVERSE-CHARGE")
    )

    result = _book(document, tab=tab)

    assert isinstance(result, BookingProblems)
    assert result.codes == ["vat_code_wrong_side", "vat_rate_mismatch"]


def test_build_booking_reverse_charge_purchase_books_in_the_sandbox():
    """The payload of a charged-code booking, posted to the in-process sandbox
    (a test may import it; `src` may not): 201, and the entry owes the
    supplier the invoice's total, its net."""
    from fastapi.testclient import TestClient

    from ledgerbridge.sandbox.app import create_app
    from ledgerbridge.sandbox.core import Sandbox
    from tests.sandbox.conftest import sign_in, supplier

    sandbox = Sandbox()
    with TestClient(create_app(sandbox), base_url="http://sandbox.test") as http:
        created = http.post(
            "/_sandbox/divisions",
            json={"code": 1001, "template": "BE", "name": "Demo BE"},
        )
        assert created.status_code == 201, created.text
        exact = sign_in(http, sandbox, [1001])
        supplier(exact, 1001, "2001")

        def rows(resource: str, select: str, **query: str) -> list[dict]:
            found = exact.get(f"1001/{resource}", **{"$select": select, **query})
            return list(found.json()["d"]["results"])

        reference = ReferenceData(
            journals={
                row["Code"]: ExactJournal(row["Type"])
                for row in rows("financial/Journals", "Code,Type")
            },
            gl_accounts={
                row["Code"]: ExactGLAccount(row["ID"], row["Type"])
                for row in rows("financial/GLAccounts", "ID,Code,Type")
            },
            vat_codes={
                row["Code"].strip(): ExactVatCode(
                    Decimal(str(row["Percentage"])),
                    row["Type"],
                    row["VATTransactionType"],
                    row["IsBlocked"],
                    row["Charged"],
                )
                for row in rows(
                    "vat/VATCodes",
                    "Code,Percentage,Type,VATTransactionType,IsBlocked,Charged",
                )
            },
            accounts={
                row["Code"]: ExactAccount(
                    row["ID"], row["Status"] == "C", row["IsSupplier"]
                )
                for row in rows(
                    "crm/Accounts",
                    "ID,Code,Status,IsSupplier",
                    **{"$filter": f"Code eq '{_pad('2001')}'"},
                )
            },
        )
        document = _reverse_charge_purchase()
        booking = _booked(
            build_booking(document, SUPPLIER, _charged_tab(), "EUR", reference)
        )

        response = exact.post(f"1001/{booking.resource}", payload(booking))

    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert Decimal(str(entry["AmountFC"])) == document.amounts().total
    assert document.amounts().total == Decimal("3250.00")
    assert Decimal(str(entry["VATAmountFC"])) == Decimal("682.50")  # self-assessed
