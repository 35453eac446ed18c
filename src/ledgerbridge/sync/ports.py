"""What the use cases need from the database and from Exact Online.

`adapters/sync_store.py` implements `Store` on SQLAlchemy and
`adapters/exact_gateway.py` implements `ExactGateway` on `exact.ExactClient`;
tests use the same adapters against the sandbox and a real database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from ledgerbridge.domain.accounting import AccountingSettings
from ledgerbridge.domain.booking import Booking, ReferenceData
from ledgerbridge.domain.documents import Side
from ledgerbridge.domain.parties import Company, Party
from ledgerbridge.sync.model import (
    BookedEntry,
    Counts,
    DocumentResult,
    ExportItem,
    RunInfo,
    RunRequest,
    RunStatus,
    Term,
    TermChanges,
)


@dataclass(frozen=True, slots=True)
class CompanyContext:
    company: Company
    settings: AccountingSettings
    accepted_terms: str | None
    """The version of the terms it last accepted, or None."""
    ever_accepted: bool


@dataclass(frozen=True, slots=True)
class Plan:
    party_codes: frozenset[str]
    """Exact codes of the parties of the documents still to book."""
    todo: int
    """Documents an export looks at: not booked yet, or changed since."""
    done: int
    """Booked or linked before, unchanged: left alone."""


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """A booked document of the period and the terms of its entry."""

    document_id: int
    number: str
    total: Decimal
    status: str
    """`PaymentStatus` as stored."""
    paid: Decimal
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    document_id: int
    number: str
    status: str
    paid: Decimal
    payments: tuple[Term, ...]
    """The paid terms: one payment each."""
    changed: bool


class Store(Protocol):
    """The database, as the use cases see it. Each method is one transaction."""

    def company(self, company_ref: str) -> CompanyContext: ...

    def accept_terms(self, company_ref: str, version: str, user: str) -> None: ...

    # Runs

    def create_run(
        self,
        request: RunRequest,
        status: RunStatus,
        then: Callable[[Any, RunInfo], None] | None = None,
    ) -> RunInfo:
        """Raises `RunInProgress` when the company has an active run whose
        process is alive; marks a dead one interrupted first. `then` is
        called with the database connection and the new run inside the same
        transaction (a job queue enqueues there: rolled back, no job)."""
        ...

    def claim_run(self, run_id: int) -> RunInfo:
        """Mark the run running by this process (and alive)."""
        ...

    def run(self, run_id: int) -> RunInfo: ...

    def heartbeat(self, run_id: int) -> None: ...

    def planned(self, run_id: int, already_done: int) -> None:
        """Note how many documents of the period were done before the run."""
        ...

    def finish_run(
        self, run_id: int, status: RunStatus, message: str | None, exact_calls: int
    ) -> RunInfo: ...

    def run_results(self, run_id: int) -> list[DocumentResult]: ...

    # Export

    def plan(
        self,
        company_ref: str,
        side: Side,
        first: date,
        last: date,
        refs: Sequence[str] = (),
    ) -> Plan:
        """What an export of the period has to do, before doing it."""
        ...

    def export_items(
        self,
        company_ref: str,
        side: Side,
        first: date,
        last: date,
        refs: Sequence[str] = (),
        batch: int = 200,
    ) -> Iterator[list[ExportItem]]:
        """Documents of the period still to book (not booked or linked, or
        booked and changed since), in batches, oldest first."""
        ...

    def pdf(self, document_id: int) -> tuple[str, bytes] | None: ...

    def mark_pending(self, document_ids: Iterable[int]) -> None:
        """Record the intent to post, before posting (exactly once)."""
        ...

    def record(self, run_id: int, results: Sequence[DocumentResult]) -> None:
        """Store outcomes on the documents and the run, and count them."""
        ...

    # Payments

    def payment_cursor(self, company_ref: str, division: int) -> int: ...

    def save_terms(
        self, company_ref: str, division: int, terms: Sequence[Term], cursor: int
    ) -> None:
        """Upsert terms by their Exact ID and move the cursor, together."""
        ...

    def payment_inputs(
        self, company_ref: str, first: date, last: date
    ) -> Iterator[list[PaymentInput]]:
        """The period's booked documents with their stored terms, in batches."""
        ...

    def save_payments(
        self, run_id: int, company_ref: str, updates: Sequence[PaymentUpdate]
    ) -> Counts:
        """Write payment states and payments (one per paid term, upserted by
        the term's ID, removed when the term reopens); count them on the run."""
        ...


class ExactGateway(Protocol):
    """One company's Exact administration, as the use cases see it. Raises
    `GatewayError`s only."""

    @property
    def division(self) -> int: ...

    @property
    def calls(self) -> int:
        """Calls made through this gateway so far."""
        ...

    def seconds_for(self, calls: int) -> float:
        """How long `calls` more calls take at the division's rate limit."""
        ...

    def reference_data(
        self, side: Side, party_codes: Iterable[str]
    ) -> ReferenceData: ...

    def booked_entries(
        self, side: Side, journals: Sequence[str], first: date, last: date
    ) -> list[BookedEntry]: ...

    def find_entries(
        self, side: Side, your_ref: str, journal: str
    ) -> list[BookedEntry]: ...

    def create_party(self, side: Side, code: str, party: Party) -> str:
        """Create the customer or supplier; its guid."""
        ...

    def attach_pdf(self, booking: Booking, filename: str, content: bytes) -> str:
        """A Document holding the PDF; its guid, for the entry's `Document`."""
        ...

    def post_entry(self, booking: Booking, document: str | None) -> BookedEntry: ...

    def payment_terms_since(self, cursor: int) -> TermChanges: ...


class Progress(Protocol):
    """Told as a run goes, for a progress bar."""

    def start(self, total: int) -> None: ...

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None:
        pass
