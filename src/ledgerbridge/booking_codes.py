"""A contact's *Accountancy booking codes* and a supplier's *Specific booking
codes*, as the edit dialogs change them: saving them, and checking a code in
Exact while it is typed.

`save` validates with the domain's rules and writes nothing when one is
broken (`InvalidInput`, every problem at once); the caller owns the
transaction. `look_up` asks Exact about one code with one filtered call, and
says in a sentence what the export will do with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.domain.parties import BookingCodes, check_booking_codes
from ledgerbridge.domain.problems import InvalidInput, Problem
from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.errors import ExactError, NeedsSignIn, RateLimited
from ledgerbridge.intake import CUSTOMER
from ledgerbridge.runner import NoExactClient
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import CompanyRow, PartyRow

logger = structlog.get_logger(__name__)

SETTINGS_SCREEN = "Financial settings > Accounting settings"


class UnknownParty(LookupError):
    """The party is not one of the company's parties of that role."""


def save(
    session: Session,
    company: CompanyRow,
    role: str,
    party_id: int,
    codes: BookingCodes,
) -> PartyRow:
    """Give the party `party_id` of `company` the booking `codes`.

    Raises `UnknownParty` when it is not the company's, and `InvalidInput`
    (nothing written) when a code breaks Exact's rules.
    """
    row = session.scalar(
        select(PartyRow).where(
            PartyRow.id == party_id,
            PartyRow.company_id == company.id,
            PartyRow.role == role,
        )
    )
    if row is None:
        raise UnknownParty(party_id)
    problems = check_booking_codes(codes, repo.company_from_row(company))
    if problems:
        raise InvalidInput(problems)

    row.exact_code = codes.exact_code
    row.gl_account = codes.gl_account
    row.vat_scenario = codes.vat_scenario
    row.cost_centre = codes.cost_centre
    session.flush()
    logger.info(
        "booking_codes.saved",
        company=company.ref,
        role=role,
        party=row.ref,
        exact_code=codes.exact_code,
    )
    return row


class Found(StrEnum):
    EMPTY = "empty"
    INVALID = "invalid"
    EXISTS = "exists"
    """In Exact and usable as the party."""
    WRONG_KIND = "wrong_kind"
    """In Exact, but not as a customer (or supplier), or blocked."""
    WILL_BE_CREATED = "will_be_created"
    UNKNOWN = "unknown"
    NOT_CONNECTED = "not_connected"
    NOT_CHECKED = "not_checked"
    """Exact could not be asked now (limit reached, unavailable)."""


@dataclass(frozen=True, slots=True)
class CodeLookup:
    found: Found
    sentence: str
    name: str | None = None
    """The account's name in Exact, when it is there."""


def look_up(
    session: Session,
    client_of: Callable[[str], ExactClient],
    company: CompanyRow,
    role: str,
    code: str,
) -> CodeLookup:
    """What the export will do with the code `code` of a party of `role`:
    book on the account of that code, create it, or stop. `client_of` gives
    the company's Exact client (`Runner.client`), and raises when the company
    is not connected."""
    word = "customer" if role == CUSTOMER else "supplier"
    code = code.strip()
    if not code:
        return CodeLookup(
            Found.EMPTY,
            f"No code: the export cannot book this {word}'s invoices until it has one.",
        )
    problems = check_booking_codes(
        BookingCodes(exact_code=code), repo.company_from_row(company)
    )
    if problems:
        return CodeLookup(Found.INVALID, _sentence(problems[0].message))

    try:
        client = client_of(company.ref)
        account = resources.find_account(client, code)
    except NeedsSignIn as exc:
        return CodeLookup(Found.NOT_CONNECTED, exc.sentence)
    except RateLimited:
        return CodeLookup(
            Found.NOT_CHECKED,
            "The code cannot be checked now: the company has used its Exact "
            "calls for the moment. It is checked again at the export.",
        )
    except ExactError as exc:
        logger.warning("booking_codes.look_up_failed", company=company.ref, error=exc)
        why = exc.message or "Exact did not answer"
        return CodeLookup(
            Found.NOT_CHECKED,
            f"The code cannot be checked now ({why}). It is checked again at the "
            "export.",
        )
    except NoExactClient:
        return CodeLookup(
            Found.NOT_CONNECTED,
            "The code cannot be checked until the company is connected to "
            f"Exact Online ({SETTINGS_SCREEN}).",
        )

    if account is None:
        return _missing(session, company, role, word)
    name = str(account.get("Name") or "").strip() or None
    called = name or f"Account {code}"
    # The export books only on a customer (Status C) or a supplier that is
    # not blocked (domain/booking.py).
    if role == CUSTOMER and account.get("Status") != "C":
        return CodeLookup(
            Found.WRONG_KIND,
            f"{called} in Exact is not a customer: set its status to Customer (C) "
            "in Exact.",
            name,
        )
    if role != CUSTOMER and not account.get("IsSupplier"):
        return CodeLookup(
            Found.WRONG_KIND,
            f"{called} in Exact is not a supplier: tick Supplier on the account "
            "in Exact.",
            name,
        )
    if account.get("Blocked"):
        return CodeLookup(
            Found.WRONG_KIND, f"{called} is blocked in Exact: unblock it.", name
        )
    return CodeLookup(Found.EXISTS, f"In Exact: {called}.", name)


def _missing(session: Session, company: CompanyRow, role: str, word: str) -> CodeLookup:
    settings = repo.load_settings(session, company)
    side = settings.sales if role == CUSTOMER else settings.purchases
    tab = "Customer invoice" if role == CUSTOMER else "Supplier invoice"
    if side.create_missing_parties:
        return CodeLookup(
            Found.WILL_BE_CREATED,
            f"Not in Exact yet: it will be created as a new {word} at the first "
            "export.",
        )
    return CodeLookup(
        Found.UNKNOWN,
        f"Unknown in Exact: create it there, or tick 'create missing {word}s in "
        f"Exact' on the {tab} tab ({SETTINGS_SCREEN}).",
    )


def field_sentences(problems: list[Problem]) -> dict[str, str]:
    """The problems of `save` as a sentence per form field (`exact_code`,
    `gl_account`, `vat_scenario`, `cost_centre`)."""
    return {p.field.rpartition(".")[2]: _sentence(p.message) for p in problems}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
