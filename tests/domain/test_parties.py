import dataclasses

import pytest

from ledgerbridge.domain.parties import (
    BookingCodes,
    Party,
    check_booking_codes,
    check_company,
    check_party,
    check_scenario,
    vat_number_is_valid,
)


def _fields(problems):
    return [p.field for p in problems]


# check_company


def test_check_company_valid_belgian(be_company):
    assert check_company(be_company) == []


def test_check_company_valid_dutch(nl_company):
    assert check_company(nl_company) == []


@pytest.mark.parametrize("number", ["0403170701", "BE 0403.170.701", "be0403170701"])
def test_check_company_vat_number_usual_spellings(be_company, number):
    company = dataclasses.replace(be_company, vat_number=number)

    assert check_company(company) == []


def test_check_company_name_empty(be_company):
    problems = check_company(dataclasses.replace(be_company, name=" "))

    assert _fields(problems) == ["name"]
    assert "needs a name" in problems[0].message


def test_check_company_country_unsupported(be_company):
    company = dataclasses.replace(be_company, country="FR", vat_number="FR40303265045")

    problems = check_company(company)

    assert _fields(problems) == ["country"]
    assert "'FR' is not supported yet" in problems[0].message
    assert "BE, NL" in problems[0].message


def test_check_company_vat_number_bad_check_digits(be_company):
    problems = check_company(dataclasses.replace(be_company, vat_number="BE0403170702"))

    assert _fields(problems) == ["vat_number"]
    assert "'BE0403170702' is not a valid BE VAT number" in problems[0].message


def test_check_company_vat_number_of_other_country(be_company):
    company = dataclasses.replace(be_company, vat_number="NL004495445B01")

    assert _fields(check_company(company)) == ["vat_number"]


@pytest.mark.parametrize(
    "time_zone", ["Mars/Olympus", "europe/brussels", "", "/etc/localtime", "Europe"]
)
def test_check_company_time_zone_unknown(be_company, time_zone):
    problems = check_company(dataclasses.replace(be_company, time_zone=time_zone))

    assert _fields(problems) == ["time_zone"]
    assert "is not a time zone" in problems[0].message
    assert "Europe/Brussels" in problems[0].message


def test_check_company_every_problem_reported(be_company):
    company = dataclasses.replace(
        be_company, name="", country="FR", time_zone="Nowhere"
    )

    assert _fields(check_company(company)) == ["name", "country", "time_zone"]


# check_party


def test_check_party_valid(be_company):
    party = Party(
        ref="C-001",
        name="Jan Peeters",
        vat_number="BE0403170701",
        booking_codes=BookingCodes(exact_code="400001", vat_scenario="BE-06"),
    )

    assert check_party(party, be_company) == []


def test_check_party_private_customer_without_vat_number_valid(be_company):
    assert check_party(Party(ref="C-002", name="An Janssens"), be_company) == []


def test_check_party_foreign_eu_vat_number_valid(be_company):
    party = Party(ref="C-003", name="Keukens NL", vat_number="NL004495445B01")

    assert check_party(party, be_company) == []


def test_check_party_name_empty(be_company):
    problems = check_party(Party(ref="C-001", name=""), be_company)

    assert _fields(problems) == ["name"]
    assert "name is empty" in problems[0].message


@pytest.mark.parametrize("number", ["BE0403170702", "0403170701", "not a number"])
def test_check_party_vat_number_invalid(be_company, number):
    problems = check_party(Party("C-001", "Jan", vat_number=number), be_company)

    assert _fields(problems) == ["vat_number"]
    assert "not a valid EU VAT number" in problems[0].message
    assert "country prefix" in problems[0].message


def test_check_party_booking_codes_checked(be_company):
    party = Party("C-001", "Jan", booking_codes=BookingCodes(vat_scenario="NL-21"))

    assert _fields(check_party(party, be_company)) == ["booking_codes.vat_scenario"]


# check_booking_codes


def test_check_booking_codes_none_valid(be_company):
    assert check_booking_codes(BookingCodes(), be_company) == []


def test_check_booking_codes_longest_valid(be_company):
    codes = BookingCodes(
        exact_code="A" * 18,
        gl_account="7" * 20,
        vat_scenario="BE-REVERSE-CHARGE",
        cost_centre="KB-01.02",
    )

    assert check_booking_codes(codes, be_company) == []


@pytest.mark.parametrize("code", ["A" * 19, "", "ABC 123", "40/0001"])
def test_check_booking_codes_exact_code_invalid(be_company, code):
    problems = check_booking_codes(BookingCodes(exact_code=code), be_company)

    assert _fields(problems) == ["booking_codes.exact_code"]
    assert "1 to 18 letters or digits" in problems[0].message


def test_check_booking_codes_gl_account_too_long(be_company):
    problems = check_booking_codes(BookingCodes(gl_account="7" * 21), be_company)

    assert _fields(problems) == ["booking_codes.gl_account"]
    assert "1 to 20" in problems[0].message


def test_check_booking_codes_cost_centre_too_long(be_company):
    problems = check_booking_codes(BookingCodes(cost_centre="C" * 9), be_company)

    assert _fields(problems) == ["booking_codes.cost_centre"]
    assert "1 to 8" in problems[0].message


def test_check_booking_codes_vat_scenario_unknown(be_company):
    problems = check_booking_codes(BookingCodes(vat_scenario="BE-99"), be_company)

    assert _fields(problems) == ["booking_codes.vat_scenario"]
    assert "unknown VAT scenario 'BE-99'" in problems[0].message


def test_check_booking_codes_vat_scenario_of_other_country(nl_company):
    problems = check_booking_codes(BookingCodes(vat_scenario="BE-21"), nl_company)

    assert _fields(problems) == ["booking_codes.vat_scenario"]
    assert "'BE-21' is for BE; use one of NL-21" in problems[0].message


# check_scenario and vat_number_is_valid


def test_check_scenario_own_country_none():
    assert check_scenario("NL-09", "NL") is None


def test_check_scenario_lists_only_own_country():
    reason = check_scenario("XX", "BE")

    assert reason is not None
    assert "BE-21" in reason
    assert "NL-" not in reason


@pytest.mark.parametrize(
    ("number", "country", "valid"),
    [
        ("BE0403170701", None, True),
        ("0403170701", "BE", True),
        ("0403170701", None, False),
        ("NL004495445B01", "NL", True),
        ("004495445B01", "NL", True),
        ("NL004495445B99", "NL", True),  # Bnn is a sequence, not a check
        ("NL004495444B01", "NL", False),
        ("", "BE", False),
    ],
)
def test_vat_number_is_valid_cases(number, country, valid):
    assert vat_number_is_valid(number, country) is valid
