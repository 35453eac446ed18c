"""Companies, their customers (contacts) and their suppliers.

A *booking code* is what ties a party to the Exact administration: the
customer's or supplier's code there, and optional overrides for the GL
account, VAT scenario and cost centre of its invoice lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stdnum import vatin
from stdnum.exceptions import ValidationError

from ledgerbridge.domain.problems import Problem
from ledgerbridge.domain.vat_catalogue import SUPPORTED_COUNTRIES, VAT_SCENARIOS

# Exact stores account codes right-aligned in 18 characters (API.md §5).
EXACT_CODE_MAX = 18
GL_ACCOUNT_MAX = 20
COST_CENTRE_MAX = 8


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Company:
    ref: str
    name: str
    country: str
    vat_number: str
    base_currency: str = "EUR"
    time_zone: str = "Europe/Brussels"


@dataclass(frozen=True, slots=True)
class BookingCodes:
    """*Accountancy booking codes* of a contact, *Specific booking codes* of a
    supplier: the code in Exact and the overrides for its invoice lines."""

    exact_code: str | None = None
    gl_account: str | None = None
    vat_scenario: str | None = None
    cost_centre: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A customer (contact) or supplier of a company."""

    ref: str
    name: str
    vat_number: str | None = None
    email: str | None = None
    address: Address = field(default_factory=Address)
    booking_codes: BookingCodes = field(default_factory=BookingCodes)


def check_company(company: Company) -> list[Problem]:
    problems: list[Problem] = []
    if not company.name.strip():
        problems.append(Problem("name", "the company needs a name"))
    if company.country not in SUPPORTED_COUNTRIES:
        problems.append(
            Problem(
                "country",
                f"{company.country!r} is not supported yet: ledgerbridge books "
                f"companies of {', '.join(sorted(SUPPORTED_COUNTRIES))}",
            )
        )
    elif not vat_number_is_valid(company.vat_number, company.country):
        problems.append(
            Problem(
                "vat_number",
                f"{company.vat_number!r} is not a valid {company.country} VAT number "
                "(for example BE0403170701 or NL004495445B01)",
            )
        )
    try:
        ZoneInfo(company.time_zone)
    # A folder of the time zone database, such as "Europe", raises
    # IsADirectoryError (an OSError) rather than ZoneInfoNotFoundError.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        problems.append(
            Problem(
                "time_zone",
                f"{company.time_zone!r} is not a time zone; use a name such as "
                "Europe/Brussels",
            )
        )
    return problems


def check_party(party: Party, company: Company) -> list[Problem]:
    problems: list[Problem] = []
    if not party.name.strip():
        problems.append(Problem("name", "the name is empty"))
    if party.vat_number and not vat_number_is_valid(party.vat_number):
        problems.append(
            Problem(
                "vat_number",
                f"{party.vat_number!r} is not a valid EU VAT number; write it with "
                "its country prefix, such as BE0123456749",
            )
        )
    problems.extend(check_booking_codes(party.booking_codes, company))
    return problems


def check_booking_codes(codes: BookingCodes, company: Company) -> list[Problem]:
    problems: list[Problem] = []
    where = "booking_codes"
    if codes.exact_code is not None and not _is_code(codes.exact_code, EXACT_CODE_MAX):
        problems.append(
            Problem(
                f"{where}.exact_code",
                f"the code in Exact is 1 to {EXACT_CODE_MAX} letters or digits, "
                "without spaces",
            )
        )
    if codes.gl_account is not None and not _is_code(codes.gl_account, GL_ACCOUNT_MAX):
        problems.append(
            Problem(
                f"{where}.gl_account",
                f"a GL account is 1 to {GL_ACCOUNT_MAX} letters or digits",
            )
        )
    if codes.cost_centre is not None and not _is_code(
        codes.cost_centre, COST_CENTRE_MAX
    ):
        problems.append(
            Problem(
                f"{where}.cost_centre",
                f"a cost centre is 1 to {COST_CENTRE_MAX} letters or digits",
            )
        )
    if codes.vat_scenario is not None:
        problem = check_scenario(codes.vat_scenario, company.country)
        if problem:
            problems.append(Problem(f"{where}.vat_scenario", problem))
    return problems


def check_scenario(code: str, country: str) -> str | None:
    """Why `code` cannot be used by a company of `country`, or None."""
    scenario = VAT_SCENARIOS.get(code)
    own = ", ".join(c for c, s in VAT_SCENARIOS.items() if s.country == country)
    if scenario is None:
        return f"unknown VAT scenario {code!r}; use one of {own}"
    if scenario.country != country:
        return f"VAT scenario {code!r} is for {scenario.country}; use one of {own}"
    return None


def vat_number_is_valid(number: str, country: str | None = None) -> bool:
    compact = number.replace(" ", "").replace(".", "").upper()
    if country and not compact.startswith(country):
        compact = country + compact
    try:
        vatin.validate(compact)
    except ValidationError:
        return False
    return True


def _is_code(value: str, max_length: int) -> bool:
    return (
        0 < len(value) <= max_length
        and value.replace("-", "").replace(".", "").isalnum()
    )
