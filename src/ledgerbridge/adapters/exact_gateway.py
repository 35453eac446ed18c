"""`sync.ports.ExactGateway` on `exact.ExactClient`: the calls the sync
engine makes, and Exact's errors turned into the engine's."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from ledgerbridge.domain.booking import (
    Booking,
    ExactAccount,
    ExactGLAccount,
    ExactJournal,
    ExactPaymentCondition,
    ExactVatCode,
    ReferenceData,
    payload,
)
from ledgerbridge.domain.documents import Side
from ledgerbridge.domain.parties import Party
from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.errors import (
    BadRequest,
    DailyLimitReached,
    ErrorBudgetExhausted,
    ExactError,
    Forbidden,
    NeedsSignIn,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from ledgerbridge.exact.odata import pad_account_code, parse_date, to_decimal
from ledgerbridge.sync import errors
from ledgerbridge.sync.model import BookedEntry, Term, TermChanges

T = TypeVar("T")
KIND: dict[Side, Literal["sales", "purchase"]] = {
    Side.SALES: "sales",
    Side.PURCHASE: "purchase",
}
SECONDS_PER_CALL_UNKNOWN = 1.0  # 60 a minute, Exact's usual limit


class ClientGateway:
    def __init__(self, client: ExactClient) -> None:
        self.client = client

    @property
    def division(self) -> int:
        return self.client.division

    @property
    def calls(self) -> int:
        return self.client.calls

    def seconds_for(self, calls: int) -> float:
        per_minute = self.client.limits.minutely_limit
        if not per_minute:
            return calls * SECONDS_PER_CALL_UNKNOWN
        return calls * 60.0 / per_minute

    # Reads

    def reference_data(self, side: Side, party_codes: Iterable[str]) -> ReferenceData:
        with _reading():
            journals = {
                str(row["Code"]).strip(): ExactJournal(
                    type=int(row["Type"]), blocked=bool(row.get("IsBlocked"))
                )
                for row in resources.journals(self.client)
            }
            gl_accounts = {
                str(row["Code"]).strip(): ExactGLAccount(
                    guid=str(row["ID"]),
                    type=int(row["Type"] or 0),
                    blocked=bool(row.get("IsBlocked")),
                )
                for row in resources.gl_accounts(self.client)
            }
            vat_codes = {
                str(row["Code"]).strip(): ExactVatCode(
                    percentage=to_decimal(row.get("Percentage")) or Decimal(0),
                    type=str(row.get("Type") or "E"),
                    side=str(row.get("VATTransactionType") or "B"),
                    blocked=bool(row.get("IsBlocked")),
                    charged=bool(row.get("Charged")),
                )
                for row in resources.vat_codes(self.client)
            }
            conditions = {
                str(row["Code"]).strip(): ExactPaymentCondition(
                    days=int(row.get("PaymentDays") or 0),
                    end_of_months=int(row.get("PaymentEndOfMonths") or 0),
                )
                for row in resources.payment_conditions(self.client)
            }
            codes = sorted({code.strip() for code in party_codes if code.strip()})
            found = resources.accounts_by_code(self.client, codes) if codes else {}
        accounts = {
            pad_account_code(code): ExactAccount(
                guid=str(row["ID"]),
                is_customer=row.get("Status") == "C",
                is_supplier=bool(row.get("IsSupplier")),
                blocked=bool(row.get("Blocked")),
            )
            for code, row in found.items()
        }
        return ReferenceData(
            journals=journals,
            gl_accounts=gl_accounts,
            vat_codes=vat_codes,
            payment_conditions=conditions,
            accounts=accounts,
        )

    def booked_entries(
        self, side: Side, journals: Sequence[str], first: date, last: date
    ) -> list[BookedEntry]:
        entries: list[BookedEntry] = []
        with _reading():
            for journal in journals:
                for entry_id, row in resources.booked_between(
                    self.client, journal, first, last
                ).items():
                    entries.append(
                        BookedEntry(
                            entry_id=entry_id.lower(),
                            entry_number=_int(row.get("EntryNumber")),
                            your_ref=row.get("YourRef"),
                            journal=str(row.get("JournalCode") or journal).strip(),
                            account_code=_code(row.get("AccountCode")),
                        )
                    )
        return entries

    def find_entries(
        self, side: Side, your_ref: str, journal: str
    ) -> list[BookedEntry]:
        with _reading():
            rows = resources.find_entries(self.client, KIND[side], your_ref, journal)
        return [_entry(row, journal) for row in rows]

    def payment_terms_since(self, cursor: int) -> TermChanges:
        before = self.client.calls
        with _reading():
            changes = resources.payment_terms_since(self.client, cursor)
        terms = [
            Term(
                exact_id=str(row["ID"]).lower(),
                entry_id=str(row.get("TransactionEntryID") or "").lower(),
                line_type=int(row.get("LineType") or 0),
                amount=to_decimal(row.get("AmountFC"))
                or to_decimal(row.get("AmountDC"))
                or Decimal("0.00"),
                paid=bool(row.get("IsFullyPaid")) or row.get("Status") == 50,
                last_payment_on=_day(row.get("LastPaymentDate")),
                timestamp=int(row["Timestamp"]),
            )
            for row in changes.rows
            if row.get("TransactionEntryID")
        ]
        return TermChanges(terms, changes.cursor, self.client.calls - before)

    # Writes

    def create_party(self, side: Side, code: str, party: Party) -> str:
        account = resources.NewAccount(
            code=code,
            name=party.name,
            customer=side is Side.SALES,
            supplier=side is Side.PURCHASE,
            vat_number=party.vat_number,
            country=party.address.country or None,
            address=party.address.street or None,
            postcode=party.address.postal_code or None,
            city=party.address.city or None,
            email=party.email,
        )
        row = _write(lambda: resources.create_account(self.client, account))
        return str(row["ID"])

    def attach_pdf(self, booking: Booking, filename: str, content: bytes) -> str:
        document = _write(
            lambda: resources.create_document(
                self.client,
                f"{booking.your_ref} {booking.description}"[:200],
                KIND[booking.side],
                booking.party_guid,
                booking.entry_date,
            )
        )
        encoded = base64.b64encode(content).decode("ascii")
        _write(
            lambda: resources.attach(
                self.client, str(document["ID"]), filename, encoded
            )
        )
        return str(document["ID"])

    def post_entry(self, booking: Booking, document: str | None) -> BookedEntry:
        body = payload(booking)
        if document:
            body["Document"] = document
        row = _write(
            lambda: resources.create_entry(self.client, KIND[booking.side], body)
        )
        return _entry(row, booking.journal)


def _write(call: Callable[[], T]) -> T:
    try:
        return call()
    except (ValidationFailed, BadRequest, NotFound) as exc:
        kind = getattr(exc, "kind", "other")
        raise errors.ExactRefused(exc.message or str(exc), kind) from exc
    except OutcomeUnknown as exc:
        raise errors.OutcomeLost(str(exc)) from exc
    except ExactError as exc:
        raise _stop(exc) from exc


@contextmanager
def _reading() -> Iterator[None]:
    try:
        yield
    except ExactError as exc:
        raise _stop(exc) from exc


def _stop(exc: ExactError) -> errors.StopRun:
    if isinstance(exc, NeedsSignIn):
        return errors.SignInNeeded(exc.sentence)
    if isinstance(exc, Unauthorized):
        return errors.SignInNeeded(
            "Exact Online refused the company's sign-in: connect the company to "
            "Exact again (Financial settings > Accounting settings > Connect)."
        )
    if isinstance(exc, Forbidden):
        return errors.SignInNeeded(
            "The Exact Online user who connected the company may not do this in "
            f"the administration ({exc.reason or exc.message or exc.status}): "
            "connect again with a user who has the rights, or give them in Exact."
        )
    if isinstance(exc, DailyLimitReached):
        when = f" (it resets at {exc.reset:%H:%M} UTC)" if exc.reset else ""
        return errors.LimitReached(
            "The company's Exact Online calls for today are used up, or only the "
            f"reserve is left{when}; the rest goes with the next run."
        )
    if isinstance(exc, RateLimited):
        return errors.LimitReached(
            "Exact Online kept refusing calls over its per-minute limit; the run "
            "stopped and the rest goes with the next run."
        )
    if isinstance(exc, ErrorBudgetExhausted):
        return errors.ExactBlocked(
            f"Exact Online refused {exc.path} too often this hour; ledgerbridge "
            "paused it so that Exact does not block the app (it does after 10 "
            "errors an hour). Fix the cause shown on the failed documents and run "
            "again after the hour."
        )
    return errors.ExactUnavailable(
        f"Exact Online did not answer as expected ({exc}); what was booked is "
        "kept, and the next run carries on."
    )


def _entry(row: dict[str, Any], journal: str) -> BookedEntry:
    return BookedEntry(
        entry_id=str(row["EntryID"]).lower(),
        entry_number=_int(row.get("EntryNumber")),
        your_ref=row.get("YourRef"),
        journal=str(row.get("Journal") or journal).strip(),
    )


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _code(value: Any) -> str | None:
    text = str(value or "").strip()
    return text or None


def _day(value: Any) -> date | None:
    moment = parse_date(value) if isinstance(value, str) else None
    return moment.date() if moment else None
