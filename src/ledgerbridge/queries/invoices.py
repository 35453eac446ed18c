"""The customer and supplier invoice lists: each document with how it booked
in Exact and how far it is paid, filtered by status and period, a page at a
time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ledgerbridge.domain.documents import (
    BookingStatus,
    DocumentType,
    PaymentStatus,
    Side,
)
from ledgerbridge.storage.tables import DocumentRow, PartyRow

PAGE_SIZE = 50


class ListStatus(StrEnum):
    """A document's place in the export, as the lists show and filter it."""

    NOT_VALIDATED = "not_validated"
    """A draft: the export leaves it until it is validated."""
    PENDING = "pending"
    """Validated and waiting for the next export."""
    SENDING = "sending"
    """Sent, and Exact's answer not heard yet: the next run settles it."""
    BOOKED = "booked"
    LINKED = "linked"
    FAILED = "failed"
    CHANGED = "changed"
    """Changed after it was booked."""

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ListStatus.NOT_VALIDATED: "Not validated",
    ListStatus.PENDING: "Pending",
    ListStatus.SENDING: "Pending (sent, awaiting Exact)",
    ListStatus.BOOKED: "Booked",
    ListStatus.LINKED: "Linked",
    ListStatus.FAILED: "Failed",
    ListStatus.CHANGED: "Changed after booking",
}

PAYMENT_LABELS = {
    PaymentStatus.OPEN: "Open",
    PaymentStatus.PARTLY_PAID: "Partly paid",
    PaymentStatus.PAID: "Paid",
    PaymentStatus.REOPENED: "Reopened",
}


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One document of a list."""

    id: int
    ref: str
    number: str
    issue_date: date
    party_name: str
    party_ref: str
    credit_note: bool
    currency: str
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    status: ListStatus
    entry_number: int | None
    journal: str | None
    reason: str | None
    exact_message: str | None
    payment: PaymentStatus | None
    """Known once the document is in Exact (booked or linked)."""
    open_amount: Decimal

    @property
    def payment_label(self) -> str:
        return PAYMENT_LABELS[self.payment] if self.payment else ""


@dataclass(frozen=True, slots=True)
class InvoicePage:
    lines: tuple[InvoiceLine, ...]
    total: int
    """Documents matching the filter, over all pages."""
    page: int
    pages: int


def list_invoices(
    session: Session,
    company_id: int,
    side: Side,
    *,
    status: ListStatus | None = None,
    first: date | None = None,
    last: date | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> InvoicePage:
    """The company's documents of `side`, newest first, with `status` and
    issued from `first` to `last` when given; page `page` (from 1)."""
    where: list[ColumnElement[bool]] = [
        DocumentRow.company_id == company_id,
        DocumentRow.side == side.value,
    ]
    if status is not None:
        where.append(_status_is(status))
    if first is not None:
        where.append(DocumentRow.issue_date >= first)
    if last is not None:
        where.append(DocumentRow.issue_date <= last)

    total = session.scalar(select(func.count()).select_from(DocumentRow).where(*where))
    pages = max(1, math.ceil((total or 0) / page_size))
    page = min(max(page, 1), pages)

    rows = session.execute(
        select(DocumentRow, PartyRow.name, PartyRow.ref)
        .join(PartyRow, PartyRow.id == DocumentRow.party_id)
        .where(*where)
        .order_by(DocumentRow.issue_date.desc(), DocumentRow.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    lines = tuple(_line(row, name, ref) for row, name, ref in rows)
    return InvoicePage(lines, total or 0, page, pages)


def _status_is(status: ListStatus) -> ColumnElement[bool]:
    booking = DocumentRow.booking_status
    if status is ListStatus.NOT_VALIDATED:
        return and_(
            booking == BookingStatus.NOT_BOOKED.value, DocumentRow.validated.is_(False)
        )
    if status is ListStatus.PENDING:
        return and_(
            booking == BookingStatus.NOT_BOOKED.value, DocumentRow.validated.is_(True)
        )
    return booking == _BOOKING_OF[status].value


_BOOKING_OF = {
    ListStatus.SENDING: BookingStatus.PENDING,
    ListStatus.BOOKED: BookingStatus.BOOKED,
    ListStatus.LINKED: BookingStatus.LINKED,
    ListStatus.FAILED: BookingStatus.FAILED,
    ListStatus.CHANGED: BookingStatus.CHANGED_AFTER_BOOKING,
}
_STATUS_OF = {booking.value: status for status, booking in _BOOKING_OF.items()}


def list_status(booking_status: str, validated: bool) -> ListStatus:
    found = _STATUS_OF.get(booking_status)
    if found is not None:
        return found
    return ListStatus.PENDING if validated else ListStatus.NOT_VALIDATED


def _line(row: DocumentRow, party_name: str, party_ref: str) -> InvoiceLine:
    status = list_status(row.booking_status, row.validated)
    in_exact = status in {ListStatus.BOOKED, ListStatus.LINKED, ListStatus.CHANGED}
    failed = status is ListStatus.FAILED
    return InvoiceLine(
        id=row.id,
        ref=row.ref,
        number=row.number,
        issue_date=row.issue_date,
        party_name=party_name,
        party_ref=party_ref,
        credit_note=row.type == DocumentType.CREDIT_NOTE.value,
        currency=row.currency,
        net_total=row.net_total,
        vat_total=row.vat_total,
        total=row.total,
        status=status,
        entry_number=row.booking_entry_number if in_exact else None,
        journal=row.booking_journal if in_exact else None,
        reason=row.booking_reason if failed else None,
        exact_message=row.booking_exact_message if failed else None,
        payment=PaymentStatus(row.payment_status) if in_exact else None,
        open_amount=row.total - row.paid_amount,
    )
