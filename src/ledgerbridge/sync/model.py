"""The words of the sync engine: flows, triggers, runs and outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.domain.documents import Document, DocumentType, Side
from ledgerbridge.domain.parties import Party


class Flow(StrEnum):
    CUSTOMER_INVOICES = "customer_invoices"
    SUPPLIER_INVOICES = "supplier_invoices"
    PAYMENTS = "payments"

    @property
    def side(self) -> Side | None:
        return _SIDES.get(self)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def for_side(cls, side: Side) -> Flow:
        return cls.CUSTOMER_INVOICES if side is Side.SALES else cls.SUPPLIER_INVOICES


_SIDES = {Flow.CUSTOMER_INVOICES: Side.SALES, Flow.SUPPLIER_INVOICES: Side.PURCHASE}
_LABELS = {
    Flow.CUSTOMER_INVOICES: "customer invoice export",
    Flow.SUPPLIER_INVOICES: "supplier invoice export",
    Flow.PAYMENTS: "payments import",
}


class Trigger(StrEnum):
    MANUAL = "manual"
    DAILY = "daily"
    API = "api"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    """Every document went through (booked, linked or skipped)."""
    PARTIAL = "partial"
    """Finished, but some documents failed."""
    STOPPED = "stopped"
    """Stopped before the end: sign-in needed, daily limit, Exact down."""
    INTERRUPTED = "interrupted"
    """Its process died; the next run settles what it left pending."""

    @property
    def active(self) -> bool:
        return self in {RunStatus.QUEUED, RunStatus.RUNNING}


class Outcome(StrEnum):
    BOOKED = "booked"
    LINKED = "linked"
    """Already in Exact (keyed by hand or by an earlier run): linked, not
    posted again."""
    SKIPPED = "skipped"
    FAILED = "failed"
    UPDATED = "updated"
    """Payments import: the document's payment state changed."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    company_ref: str
    flow: Flow
    first: date
    last: date
    trigger: Trigger
    started_by: str
    documents: tuple[str, ...] = ()
    """Only these documents (the application's refs), e.g. a *Retry*; those
    dated outside the period are skipped. Empty: the whole period."""


@dataclass(frozen=True, slots=True)
class Counts:
    booked: int = 0
    linked: int = 0
    skipped: int = 0
    failed: int = 0
    updated: int = 0
    already_done: int = 0
    """Booked or linked before this run: left alone."""
    payments: int = 0
    """Payments import: payments recorded (new ones)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    company_ref: str
    flow: Flow
    first: date
    last: date
    trigger: Trigger
    started_by: str
    status: RunStatus
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: Counts
    exact_calls: int = 0
    documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """What a run did with one document."""

    document_id: int
    number: str
    outcome: Outcome
    entry_number: int | None = None
    entry_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    exact_message: str | None = None
    exact_document_id: str | None = None
    """The Exact Document holding the PDF, when one was made."""
    journal: str | None = None
    fingerprint: str | None = None
    still_pending: bool = False
    """The outcome in Exact is unknown: leave the intent for the next run."""


@dataclass(frozen=True, slots=True)
class ExportItem:
    """A document selected for an export, with what it needs to book."""

    document_id: int
    ref: str
    document: Document
    party: Party
    status: str
    """`BookingStatus` as stored."""
    fingerprint: str
    booking_fingerprint: str | None
    pending: bool
    entry_number: int | None
    entry_id: str | None
    journal: str | None
    exact_document_id: str | None
    has_pdf: bool

    @property
    def number(self) -> str:
        return self.document.number

    @property
    def credit_note(self) -> bool:
        return self.document.type is DocumentType.CREDIT_NOTE


@dataclass(frozen=True, slots=True)
class BookedEntry:
    """An entry found in Exact."""

    entry_id: str
    entry_number: int | None
    your_ref: str | None
    journal: str
    account_code: str | None = None
    """Without padding."""


@dataclass(frozen=True, slots=True)
class Term:
    """A cash-flow term of an entry, as Exact's sync feed gives it."""

    exact_id: str
    entry_id: str
    line_type: int
    """20 receivable (sales), 22 payment (purchase)."""
    amount: Decimal
    """In the entry's currency, signed as Exact gives it."""
    paid: bool
    last_payment_on: date | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class TermChanges:
    terms: list[Term]
    cursor: int
    calls: int = 1


@dataclass(frozen=True, slots=True)
class PreviewLine:
    gl_account: str
    vat_code: str
    description: str
    net: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class PreviewDocument:
    document_id: int
    number: str
    issue_date: date
    party: str
    party_code: str | None
    journal: str | None
    total: Decimal
    currency: str
    will: str
    """What the export would do: book, link, skip or fail."""
    lines: tuple[PreviewLine, ...] = ()
    problems: tuple[tuple[str, str, str], ...] = ()
    """(code, sentence, where)."""
    entry_number: int | None = None
    create_party: bool = False


@dataclass(frozen=True, slots=True)
class Preview:
    company_ref: str
    flow: Flow
    first: date
    last: date
    documents: tuple[PreviewDocument, ...] = field(default_factory=tuple)

    def count(self, will: str) -> int:
        return sum(1 for document in self.documents if document.will == will)
