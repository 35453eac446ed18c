"""Financial > Payments: the payments read back from Exact, newest first, each
with the state of the invoice it paid; and how the company's invoices in
Exact stand (open, partly paid, paid, reopened)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerbridge.domain.documents import PaymentStatus, Side
from ledgerbridge.storage.tables import DocumentRow, PartyRow, PaymentRow

PAGE_SIZE = 50
FOLLOW_UP_SHOWN = 20
"""Partly paid and reopened invoices listed on the page (the latest)."""

IN_EXACT = ("booked", "linked")
"""Booking states of a document that is in Exact, so has a payment state."""

STATE_LABELS = {
    PaymentStatus.OPEN: "Open",
    PaymentStatus.PARTLY_PAID: "Partly paid",
    PaymentStatus.PAID: "Paid",
    PaymentStatus.REOPENED: "Reopened",
}


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """Where an invoice stands: its state and what is still to pay."""

    status: PaymentStatus
    total: Decimal
    paid: Decimal

    @property
    def open_amount(self) -> Decimal:
        return max(self.total - self.paid, Decimal("0.00"))

    @property
    def label(self) -> str:
        return STATE_LABELS[self.status]

    @property
    def shows_open_amount(self) -> bool:
        return self.status in (PaymentStatus.PARTLY_PAID, PaymentStatus.REOPENED)


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One payment of the list."""

    id: int
    paid_on: date
    amount: Decimal
    currency: str
    number: str
    """The number of the invoice (or credit note) it paid."""
    credit_note: bool
    side: Side
    party_name: str
    invoice: InvoiceState

    @property
    def direction(self) -> str:
        return "Received" if self.side is Side.SALES else "Paid out"


@dataclass(frozen=True, slots=True)
class PaymentPage:
    lines: tuple[PaymentLine, ...]
    total: int
    """Payments over all pages."""
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class StateCount:
    """How many of the company's invoices in Exact are in one state."""

    status: PaymentStatus
    invoices: int
    open_amount: Decimal

    @property
    def label(self) -> str:
        return STATE_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A partly paid or reopened invoice: something is still to pay."""

    number: str
    issue_date: date
    side: Side
    party_name: str
    currency: str
    invoice: InvoiceState


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    states: tuple[StateCount, ...]
    follow_up: tuple[FollowUp, ...]
    """The latest partly paid and reopened invoices, newest first."""
    follow_up_total: int


def list_payments(
    session: Session, company_id: int, *, page: int = 1, page_size: int = PAGE_SIZE
) -> PaymentPage:
    """The company's payments, newest first; page `page` (from 1, past the
    last page gives the last)."""
    total = session.scalar(
        select(func.count())
        .select_from(PaymentRow)
        .where(PaymentRow.company_id == company_id)
    )
    count = total or 0
    pages = max(1, math.ceil(count / page_size))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(PaymentRow, DocumentRow, PartyRow.name)
        .join(DocumentRow, PaymentRow.document_id == DocumentRow.id)
        .join(PartyRow, DocumentRow.party_id == PartyRow.id)
        .where(PaymentRow.company_id == company_id)
        .order_by(PaymentRow.paid_on.desc(), PaymentRow.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    lines = tuple(
        PaymentLine(
            id=payment.id,
            paid_on=payment.paid_on,
            amount=payment.amount,
            currency=payment.currency,
            number=document.number,
            credit_note=document.type == "credit_note",
            side=Side(document.side),
            party_name=party_name,
            invoice=_state(document),
        )
        for payment, document, party_name in rows
    )
    return PaymentPage(lines, count, page, pages)


def payment_summary(session: Session, company_id: int) -> PaymentSummary:
    """How the company's invoices in Exact stand, per payment state, and the
    partly paid and reopened ones to follow up."""
    in_exact = (
        DocumentRow.company_id == company_id,
        DocumentRow.booking_status.in_(IN_EXACT),
    )
    counted = {
        status: (invoices, total or Decimal("0.00"), paid or Decimal("0.00"))
        for status, invoices, total, paid in session.execute(
            select(
                DocumentRow.payment_status,
                func.count(),
                func.sum(DocumentRow.total),
                func.sum(DocumentRow.paid_amount),
            )
            .where(*in_exact)
            .group_by(DocumentRow.payment_status)
        )
    }
    states = []
    for status in PaymentStatus:
        invoices, total, paid = counted.get(
            status.value, (0, Decimal("0.00"), Decimal("0.00"))
        )
        open_amount = Decimal("0.00") if status is PaymentStatus.PAID else total - paid
        states.append(
            StateCount(status, invoices, Decimal(open_amount).quantize(Decimal("0.01")))
        )

    owing = (PaymentStatus.PARTLY_PAID.value, PaymentStatus.REOPENED.value)
    rows = session.execute(
        select(DocumentRow, PartyRow.name)
        .join(PartyRow, DocumentRow.party_id == PartyRow.id)
        .where(*in_exact, DocumentRow.payment_status.in_(owing))
        .order_by(DocumentRow.issue_date.desc(), DocumentRow.id.desc())
        .limit(FOLLOW_UP_SHOWN)
    ).all()
    follow_up = tuple(
        FollowUp(
            number=document.number,
            issue_date=document.issue_date,
            side=Side(document.side),
            party_name=party_name,
            currency=document.currency,
            invoice=_state(document),
        )
        for document, party_name in rows
    )
    owing_total = sum(counted.get(status, (0, None, None))[0] for status in owing)
    return PaymentSummary(tuple(states), follow_up, owing_total)


def _state(document: DocumentRow) -> InvoiceState:
    return InvoiceState(
        PaymentStatus(document.payment_status), document.total, document.paid_amount
    )
