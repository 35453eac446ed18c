"""Customer and supplier invoices and credit notes, and the rules they obey.

Amounts on a document are as the business application printed them: a credit
note's lines are positive, like the UBL CreditNote it mirrors; `sign` says
which way it books. A validated document is locked: it can only be corrected
by a credit note.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.domain import structured_reference
from ledgerbridge.domain.money import round_cents
from ledgerbridge.domain.parties import Company, check_scenario
from ledgerbridge.domain.problems import Problem
from ledgerbridge.domain.vat import DocumentAmounts, compute_amounts
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS

QUANTITY_DECIMALS = 4
UNIT_PRICE_DECIMALS = 4
DISCOUNT_DECIMALS = 2
MAX_LINE_AMOUNT = Decimal("99999999999.99")  # keeps any total inside 64-bit cents
PDF_MAX_BYTES = 10 * 1024 * 1024  # Exact refuses larger attachments (API.md §5)


class Side(StrEnum):
    SALES = "sales"
    PURCHASE = "purchase"


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class BookingStatus(StrEnum):
    NOT_BOOKED = "not_booked"
    PENDING = "pending"
    BOOKED = "booked"
    LINKED = "linked"
    """Found already in Exact (keyed by hand, or by a run that died before it
    heard back) and linked to that entry."""
    FAILED = "failed"
    CHANGED_AFTER_BOOKING = "changed_after_booking"


class PaymentStatus(StrEnum):
    OPEN = "open"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_scenario: str
    discount_percent: Decimal = Decimal("0")
    gl_account: str | None = None

    @property
    def net(self) -> Decimal:
        """Quantity × price less discount, rounded to the cent (EN 16931 BT-131)."""
        gross = self.quantity * self.unit_price
        return round_cents(gross * (100 - self.discount_percent) / 100)


@dataclass(frozen=True, slots=True)
class Document:
    side: Side
    type: DocumentType
    number: str
    party_ref: str
    issue_date: date
    currency: str
    lines: tuple[Line, ...]
    due_date: date | None = None
    exchange_rate: Decimal | None = None
    payment_reference: str | None = None
    description: str = ""
    validated: bool = False
    expected_total: Decimal | None = None
    """The total printed on the document, when the application sends it."""

    @property
    def sign(self) -> int:
        """+1 when the document adds to the party's balance, -1 for a credit note."""
        return -1 if self.type is DocumentType.CREDIT_NOTE else 1

    def amounts(self) -> DocumentAmounts:
        return compute_amounts(
            [(line.net, VAT_SCENARIOS[line.vat_scenario]) for line in self.lines]
        )

    def fingerprint(self) -> str:
        """A hash of everything that books, to tell a changed document apart."""
        content = {
            "side": self.side,
            "type": self.type,
            "number": self.number,
            "party": self.party_ref,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "rate": _text(self.exchange_rate),
            "reference": self.payment_reference,
            "description": self.description,
            "lines": [
                [
                    line.description,
                    _text(line.quantity),
                    _text(line.unit_price),
                    _text(line.discount_percent),
                    line.vat_scenario,
                    line.gl_account,
                ]
                for line in self.lines
            ],
        }
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


def check_document(document: Document, company: Company) -> list[Problem]:
    """Every problem that keeps `document` from being stored, with its field."""
    problems: list[Problem] = []
    kind = "credit note" if document.type is DocumentType.CREDIT_NOTE else "invoice"

    if not document.number.strip():
        problems.append(Problem("number", f"the {kind} needs a number"))
    if document.due_date and document.due_date < document.issue_date:
        problems.append(
            Problem(
                "due_date",
                f"the due date {document.due_date} is before the {kind} date "
                f"{document.issue_date}",
            )
        )
    problems.extend(_check_currency(document, company))
    if document.payment_reference and structured_reference.is_structured(
        document.payment_reference
    ):
        try:
            structured_reference.normalise(document.payment_reference)
        except structured_reference.InvalidStructuredReference as exc:
            problems.append(Problem("payment_reference", str(exc)))

    if not document.lines:
        problems.append(Problem("lines", f"the {kind} has no lines"))
    for index, line in enumerate(document.lines):
        problems.extend(_check_line(line, f"lines[{index}]", company))

    if not problems:
        problems.extend(_check_totals(document, kind))
    return problems


def _check_currency(document: Document, company: Company) -> list[Problem]:
    rate = document.exchange_rate
    if document.currency == company.base_currency:
        if rate is not None and rate != 1:
            return [
                Problem(
                    "exchange_rate",
                    f"the document is in the company's own currency "
                    f"{company.base_currency}: leave the exchange rate out",
                )
            ]
        return []
    if rate is None:
        return [
            Problem(
                "exchange_rate",
                f"the document is in {document.currency}, not in the company's "
                f"{company.base_currency}: send the exchange rate used "
                f"(1 {document.currency} = ? {company.base_currency})",
            )
        ]
    if rate <= 0:
        return [Problem("exchange_rate", "the exchange rate must be above zero")]
    return []


def _check_line(line: Line, where: str, company: Company) -> list[Problem]:
    numbers = (line.quantity, line.unit_price, line.discount_percent)
    if not all(value.is_finite() for value in numbers):
        return [Problem(where, "quantity, unit price and discount must be numbers")]
    problems: list[Problem] = []
    if line.quantity == 0:
        problems.append(Problem(f"{where}.quantity", "the quantity is zero"))
    if _decimals(line.quantity) > QUANTITY_DECIMALS:
        problems.append(
            Problem(f"{where}.quantity", f"at most {QUANTITY_DECIMALS} decimals")
        )
    if _decimals(line.unit_price) > UNIT_PRICE_DECIMALS:
        problems.append(
            Problem(f"{where}.unit_price", f"at most {UNIT_PRICE_DECIMALS} decimals")
        )
    if not 0 <= line.discount_percent <= 100:
        problems.append(
            Problem(f"{where}.discount_percent", "a discount is between 0 and 100 %")
        )
    elif _decimals(line.discount_percent) > DISCOUNT_DECIMALS:
        problems.append(
            Problem(
                f"{where}.discount_percent", f"at most {DISCOUNT_DECIMALS} decimals"
            )
        )
    if line.quantity < 0 and line.net > 0:
        problems.append(
            Problem(
                f"{where}.quantity",
                f"the quantity is negative but the line total is positive "
                f"({line.quantity} × {line.unit_price}): a returned item has a "
                "negative quantity and a positive unit price",
            )
        )
    if abs(line.net) > MAX_LINE_AMOUNT:
        problems.append(
            Problem(
                f"{where}.unit_price",
                f"the line totals {line.net}, more than the {MAX_LINE_AMOUNT} a "
                "line can book; check the quantity and the unit price",
            )
        )
    scenario_problem = check_scenario(line.vat_scenario, company.country)
    if scenario_problem:
        problems.append(Problem(f"{where}.vat_scenario", scenario_problem))
    return problems


def _check_totals(document: Document, kind: str) -> list[Problem]:
    amounts = document.amounts()
    if amounts.total < 0:
        advice = (
            "send a credit note with positive amounts instead"
            if document.type is DocumentType.INVOICE
            else "a credit note's lines are positive; it credits them"
        )
        return [
            Problem("lines", f"the {kind} totals {amounts.total}, below zero: {advice}")
        ]
    expected = document.expected_total
    if expected is not None and round_cents(expected) != amounts.total:
        return [
            Problem(
                "expected_total",
                f"the {kind} says {expected} but its lines make "
                f"{amounts.net_total} net + {amounts.vat_total} VAT = "
                f"{amounts.total} (VAT per rate on the total, rounded half up)",
            )
        ]
    return []


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.normalize())
