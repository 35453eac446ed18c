"""What the *History* screen reads: a company's runs, what a run did with each
document, the failed documents still open, and the notices of failed
automatic runs.

A failed document is an *open problem* while the last export run that looked
at it failed it and nobody marked that failure (the same reason, since the
document last went through) as handled. A later run that books or links it
closes the problem; a new reason opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ledgerbridge.storage.tables import (
    DocumentRow,
    NoticeRow,
    RunDocumentRow,
    RunRow,
)
from ledgerbridge.sync.model import Flow, Outcome, RunStatus, Trigger

RUNS_PER_PAGE = 25
MAX_PROBLEMS = 500
EXPORTS = (Flow.CUSTOMER_INVOICES.value, Flow.SUPPLIER_INVOICES.value)


@dataclass(frozen=True, slots=True)
class RunLine:
    id: int
    flow: Flow
    trigger: Trigger
    started_by: str
    first: date
    last: date
    status: RunStatus
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    booked: int
    linked: int
    skipped: int
    failed: int
    updated: int
    payments: int
    already_done: int
    exact_calls: int
    documents: tuple[str, ...]
    """The refs a *Retry* chose; empty for a whole period."""


@dataclass(frozen=True, slots=True)
class RunsPage:
    runs: tuple[RunLine, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    """What a run did with one document; `id` is the outcome's own."""

    id: int
    run_id: int
    flow: Flow
    document_id: int
    number: str
    ref: str
    side: str
    party_id: int
    issue_date: date
    outcome: Outcome
    entry_number: int | None
    reason_code: str | None
    reason: str | None
    exact_message: str | None
    handled_at: datetime | None
    handled_by: str | None
    booking_status: str
    """The document's booking status now."""


@dataclass(frozen=True, slots=True)
class RunDetail:
    company_ref: str
    run: RunLine
    outcomes: tuple[DocumentOutcome, ...]


@dataclass(frozen=True, slots=True)
class NoticeLine:
    id: int
    run_id: int | None
    kind: str
    message: str
    created_at: datetime


def runs_page(session: Session, company_id: int, page: int = 1) -> RunsPage:
    """The company's runs, newest first, `RUNS_PER_PAGE` a page."""
    total = (
        session.scalar(
            select(func.count())
            .select_from(RunRow)
            .where(RunRow.company_id == company_id)
        )
        or 0
    )
    pages = max(1, -(-total // RUNS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(RunRow)
        .where(RunRow.company_id == company_id)
        .order_by(RunRow.id.desc())
        .limit(RUNS_PER_PAGE)
        .offset((page - 1) * RUNS_PER_PAGE)
    )
    return RunsPage(tuple(_run_line(row) for row in rows), total, page, pages)


def run_detail(session: Session, run_id: int) -> RunDetail | None:
    """A run with its outcomes, document by document; None when there is no
    such run (the page checks the user may see its company)."""
    run = session.get(RunRow, run_id)
    if run is None:
        return None
    rows = session.execute(
        _outcomes().where(RunDocumentRow.run_id == run_id).order_by(RunDocumentRow.id)
    ).all()
    return RunDetail(
        run.company.ref,
        _run_line(run),
        tuple(_outcome(row, flow, document) for row, flow, document in rows),
    )


def open_problems(session: Session, company_id: int) -> tuple[DocumentOutcome, ...]:
    """The failed documents still to fix, newest failure first."""
    latest = (
        select(func.max(RunDocumentRow.id))
        .join(RunRow, RunRow.id == RunDocumentRow.run_id)
        .where(RunRow.company_id == company_id, RunRow.flow.in_(EXPORTS))
        .group_by(RunDocumentRow.document_id)
    )
    failed = [
        _outcome(row, flow, document)
        for row, flow, document in session.execute(
            _outcomes()
            .where(
                RunDocumentRow.id.in_(latest),
                RunDocumentRow.outcome == Outcome.FAILED.value,
            )
            .order_by(RunDocumentRow.id.desc())
            .limit(MAX_PROBLEMS)
        )
    ]
    handled = _handled_since_done(session, [problem.document_id for problem in failed])
    return tuple(
        problem
        for problem in failed
        if (problem.document_id, problem.reason_code) not in handled
    )


def outcome(
    session: Session, company_id: int, outcome_id: int
) -> DocumentOutcome | None:
    """One outcome of one of the company's runs; None for another company's."""
    row = session.execute(
        _outcomes().where(
            RunDocumentRow.id == outcome_id, RunRow.company_id == company_id
        )
    ).first()
    return None if row is None else _outcome(row[0], row[1], row[2])


def notices(session: Session, company_id: int) -> tuple[NoticeLine, ...]:
    """The notices nobody dismissed yet, newest first."""
    rows = session.scalars(
        select(NoticeRow)
        .where(NoticeRow.company_id == company_id, NoticeRow.read_at.is_(None))
        .order_by(NoticeRow.id.desc())
    )
    return tuple(
        NoticeLine(row.id, row.run_id, row.kind, row.message, row.created_at)
        for row in rows
    )


def _outcomes() -> Select[RunDocumentRow, str, DocumentRow]:
    return (
        select(RunDocumentRow, RunRow.flow, DocumentRow)
        .join(RunRow, RunRow.id == RunDocumentRow.run_id)
        .join(DocumentRow, DocumentRow.id == RunDocumentRow.document_id)
    )


def _handled_since_done(
    session: Session, document_ids: list[int]
) -> set[tuple[int, str | None]]:
    """(document, reason) pairs marked as handled since the document was
    last booked or linked."""
    if not document_ids:
        return set()
    handled: dict[int, set[str | None]] = {}
    rows = session.execute(
        select(
            RunDocumentRow.document_id,
            RunDocumentRow.outcome,
            RunDocumentRow.reason_code,
            RunDocumentRow.handled_at,
        )
        .join(RunRow, RunRow.id == RunDocumentRow.run_id)
        .where(RunDocumentRow.document_id.in_(document_ids), RunRow.flow.in_(EXPORTS))
        .order_by(RunDocumentRow.id)
    )
    for document_id, result, reason_code, handled_at in rows:
        if result in (Outcome.BOOKED.value, Outcome.LINKED.value):
            handled.pop(document_id, None)
        elif handled_at is not None:
            handled.setdefault(document_id, set()).add(reason_code)
    return {(document, code) for document, codes in handled.items() for code in codes}


def _outcome(row: RunDocumentRow, flow: str, document: DocumentRow) -> DocumentOutcome:
    return DocumentOutcome(
        id=row.id,
        run_id=row.run_id,
        flow=Flow(flow),
        document_id=row.document_id,
        number=row.number,
        ref=document.ref,
        side=document.side,
        party_id=document.party_id,
        issue_date=document.issue_date,
        outcome=Outcome(row.outcome),
        entry_number=row.entry_number,
        reason_code=row.reason_code,
        reason=row.reason,
        exact_message=row.exact_message,
        handled_at=row.handled_at,
        handled_by=row.handled_by,
        booking_status=document.booking_status,
    )


def _run_line(row: RunRow) -> RunLine:
    return RunLine(
        id=row.id,
        flow=Flow(row.flow),
        trigger=Trigger(row.trigger),
        started_by=row.started_by,
        first=row.first_day,
        last=row.last_day,
        status=RunStatus(row.status),
        message=row.message,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        booked=row.booked,
        linked=row.linked,
        skipped=row.skipped,
        failed=row.failed,
        updated=row.updated,
        payments=row.payments,
        already_done=row.already_done,
        exact_calls=row.exact_calls,
        documents=tuple(row.documents.splitlines()) if row.documents else (),
    )
