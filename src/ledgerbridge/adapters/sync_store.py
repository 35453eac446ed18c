"""`sync.ports.Store` on SQLAlchemy: runs, outcomes, intents and payments.

Each method is one transaction. A run's process is told apart by its owner
(`host:pid`) and heartbeat, so a run whose process died is marked
interrupted when the next one starts, and what it left pending is settled by
the exactly-once protocol.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ledgerbridge.domain.documents import BookingStatus, Line, PaymentStatus, Side
from ledgerbridge.domain.parties import Party
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.repositories import AnyRow
from ledgerbridge.storage.tables import (
    CompanyRow,
    DocumentLineRow,
    DocumentPdfRow,
    DocumentRow,
    PartyRow,
    PaymentImportStateRow,
    PaymentRow,
    PaymentTermRow,
    RunDocumentRow,
    RunRow,
    TermsAcceptanceRow,
)
from ledgerbridge.storage.types import utcnow
from ledgerbridge.sync import errors
from ledgerbridge.sync.model import (
    Counts,
    DocumentResult,
    ExportItem,
    Flow,
    Outcome,
    RunInfo,
    RunRequest,
    RunStatus,
    Term,
    Trigger,
)
from ledgerbridge.sync.ports import CompanyContext, PaymentInput, PaymentUpdate, Plan

STALE_AFTER = timedelta(minutes=10)
"""A run on another machine without a heartbeat for this long is dead."""
ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
DONE = (BookingStatus.BOOKED.value, BookingStatus.LINKED.value)
WAITING = (
    BookingStatus.NOT_BOOKED.value,
    BookingStatus.PENDING.value,
    BookingStatus.FAILED.value,
)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_dead(owner: str | None, heartbeat: datetime | None, now: datetime) -> bool:
    """Whether the process that runs a run is gone: on this machine, its
    pid no longer exists; elsewhere, its heartbeat stopped."""
    if owner is None:
        return False  # queued: a worker will take it
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return heartbeat is None or now - heartbeat > STALE_AFTER


class SqlStore:
    def __init__(self, sessions: sessionmaker[Session], owner: str | None = None):
        self.sessions = sessions
        self.owner = owner or this_process()

    # Companies and terms

    def company(self, company_ref: str) -> CompanyContext:
        with self.sessions() as session:
            row = self._company(session, company_ref)
            latest = session.scalar(
                select(TermsAcceptanceRow)
                .where(TermsAcceptanceRow.company_id == row.id)
                .order_by(TermsAcceptanceRow.id.desc())
                .limit(1)
            )
            return CompanyContext(
                company=repo.company_from_row(row),
                settings=repo.load_settings(session, row),
                accepted_terms=latest.version if latest else None,
                ever_accepted=latest is not None,
            )

    def accept_terms(self, company_ref: str, version: str, user: str) -> None:
        with self.sessions.begin() as session:
            row = self._company(session, company_ref)
            session.add(
                TermsAcceptanceRow(company_id=row.id, version=version, accepted_by=user)
            )

    # Runs

    def create_run(
        self,
        request: RunRequest,
        status: RunStatus,
        then: Callable[[Any, RunInfo], None] | None = None,
    ) -> RunInfo:
        now = utcnow()
        try:
            with self.sessions.begin() as session:
                company = self._company(session, request.company_ref)
                self._clear_dead_runs(session, company, now)
                run = RunRow(
                    company_id=company.id,
                    flow=request.flow.value,
                    first_day=request.first,
                    last_day=request.last,
                    trigger=request.trigger.value,
                    started_by=request.started_by[:200],
                    documents="\n".join(request.documents) or None,
                    status=status.value,
                    owner=self.owner if status is RunStatus.RUNNING else None,
                    started_at=now if status is RunStatus.RUNNING else None,
                    heartbeat_at=now if status is RunStatus.RUNNING else None,
                )
                session.add(run)
                session.flush()
                info = _run_info(run, company.ref)
                if then is not None:
                    then(session.connection().connection.driver_connection, info)
                return info
        except IntegrityError:
            pass  # another request won the race: tell which run
        with self.sessions() as session:
            company = self._company(session, request.company_ref)
            active = self._active_run(session, company)
            if active is None:  # it finished meanwhile
                return self.create_run(request, status, then)
            raise errors.RunInProgress(
                company.ref, active.id, Flow(active.flow), active.status
            )

    def _clear_dead_runs(
        self, session: Session, company: CompanyRow, now: datetime
    ) -> None:
        active = self._active_run(session, company)
        if active is None:
            return
        if not owner_is_dead(active.owner, active.heartbeat_at, now):
            raise errors.RunInProgress(
                company.ref, active.id, Flow(active.flow), active.status
            )
        active.status = RunStatus.INTERRUPTED.value
        active.finished_at = now
        active.message = (
            "The process running it stopped; the next run settled what it had started."
        )
        session.flush()

    def _active_run(self, session: Session, company: CompanyRow) -> RunRow | None:
        return session.scalar(
            select(RunRow).where(
                RunRow.company_id == company.id, RunRow.status.in_(ACTIVE)
            )
        )

    def claim_run(self, run_id: int) -> RunInfo:
        now = utcnow()
        with self.sessions.begin() as session:
            run = self._run(session, run_id)
            run.status = RunStatus.RUNNING.value
            run.owner = self.owner
            run.started_at = run.started_at or now
            run.heartbeat_at = now
            return _run_info(run, run.company.ref)

    def run(self, run_id: int) -> RunInfo:
        with self.sessions() as session:
            run = self._run(session, run_id)
            return _run_info(run, run.company.ref)

    def runs(
        self, company_ref: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunInfo]:
        with self.sessions() as session:
            query = (
                select(RunRow)
                .options(selectinload(RunRow.company))
                .order_by(RunRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            if company_ref is not None:
                company = self._company(session, company_ref)
                query = query.where(RunRow.company_id == company.id)
            return [_run_info(run, run.company.ref) for run in session.scalars(query)]

    def heartbeat(self, run_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(RunRow).where(RunRow.id == run_id).values(heartbeat_at=utcnow())
            )

    def planned(self, run_id: int, already_done: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(already_done=already_done, heartbeat_at=utcnow())
            )

    def finish_run(
        self, run_id: int, status: RunStatus, message: str | None, exact_calls: int
    ) -> RunInfo:
        with self.sessions.begin() as session:
            run = self._run(session, run_id)
            run.status = status.value
            run.message = message
            run.finished_at = utcnow()
            run.exact_calls += exact_calls
            return _run_info(run, run.company.ref)

    def run_results(self, run_id: int) -> list[DocumentResult]:
        with self.sessions() as session:
            self._run(session, run_id)
            rows = session.scalars(
                select(RunDocumentRow)
                .where(RunDocumentRow.run_id == run_id)
                .order_by(RunDocumentRow.id)
            )
            return [
                DocumentResult(
                    document_id=row.document_id,
                    number=row.number,
                    outcome=Outcome(row.outcome),
                    entry_number=row.entry_number,
                    entry_id=row.entry_id,
                    reason_code=row.reason_code,
                    reason=row.reason,
                    exact_message=row.exact_message,
                )
                for row in rows
            ]

    # Export

    def plan(
        self,
        company_ref: str,
        side: Side,
        first: date,
        last: date,
        refs: Sequence[str] = (),
    ) -> Plan:
        with self.sessions() as session:
            company = self._company(session, company_ref)
            period = _period(company, side, first, last, refs)
            codes = session.scalars(
                select(PartyRow.exact_code)
                .join(DocumentRow, DocumentRow.party_id == PartyRow.id)
                .where(*period, _to_do())
                .distinct()
            ).all()
            todo = session.scalar(
                select(func.count()).select_from(DocumentRow).where(*period, _to_do())
            )
            done = session.scalar(
                select(func.count())
                .select_from(DocumentRow)
                .where(*period, not_(_to_do()))
            )
            return Plan(
                frozenset(code.strip() for code in codes if code and code.strip()),
                todo or 0,
                done or 0,
            )

    def export_items(
        self,
        company_ref: str,
        side: Side,
        first: date,
        last: date,
        refs: Sequence[str] = (),
        batch: int = 200,
    ) -> Iterator[list[ExportItem]]:
        # Read as plain rows, not ORM objects: building thousands of mapped
        # instances per run cost more than the rest of a batch's reading
        # (bench/sync_export.py speed). Each batch is read afresh, so a
        # booking code fixed during a long run counts from the next batch.
        with self.sessions() as session:
            company_id = self._company(session, company_ref).id
        after = 0
        while True:
            with self.sessions() as session:
                company = session.get_one(CompanyRow, company_id)
                rows = session.execute(
                    select(*_ITEM_COLUMNS)
                    .where(
                        *_period(company, side, first, last, refs),
                        _to_do(),
                        DocumentRow.id > after,
                    )
                    .order_by(DocumentRow.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return
                ids = [row.id for row in rows]
                lines: dict[int, list[Line]] = {}
                for line in session.execute(
                    select(DocumentLineRow)
                    .with_only_columns(*_LINE_COLUMNS)
                    .where(DocumentLineRow.document_id.in_(ids))
                    .order_by(DocumentLineRow.document_id, DocumentLineRow.position)
                ):
                    lines.setdefault(line.document_id, []).append(
                        repo.line_from_columns(line)
                    )
                parties = {
                    party.id: (party.ref, repo.party_from_row(party))
                    for party in session.scalars(
                        select(PartyRow).where(
                            PartyRow.id.in_({row.party_id for row in rows})
                        )
                    )
                }
                with_pdf = set(
                    session.scalars(
                        select(DocumentPdfRow.document_id).where(
                            DocumentPdfRow.document_id.in_(ids)
                        )
                    )
                )
            after = rows[-1].id
            yield [
                _export_item(
                    row, *parties[row.party_id], lines.get(row.id, []), with_pdf
                )
                for row in rows
            ]

    def pdf(self, document_id: int) -> tuple[str, bytes] | None:
        with self.sessions() as session:
            row = session.get(DocumentPdfRow, document_id)
            return None if row is None else (row.filename, row.content)

    def mark_pending(self, document_ids: Iterable[int]) -> None:
        ids = list(document_ids)
        if not ids:
            return
        with self.sessions.begin() as session:
            session.execute(
                update(DocumentRow)
                .where(DocumentRow.id.in_(ids))
                .values(
                    booking_status=BookingStatus.PENDING.value,
                    booking_pending_since=utcnow(),
                )
            )

    def record(self, run_id: int, results: Sequence[DocumentResult]) -> None:
        # Once per batch of every export, so its cost is a share of each
        # invoice's: plain statements, no unit of work. The two columns the
        # new state depends on are read as tuples; the documents are then
        # updated with one executemany per shape of change, the run's rows
        # go in as one bulk INSERT and its counters move in one UPDATE.
        if not results:
            return
        now = utcnow()
        documents = cast(Table, DocumentRow.__table__)
        with self.sessions.begin() as session:
            if session.get(RunRow, run_id) is None:
                raise errors.UnknownRun(run_id)
            current = {
                row.id: (row.booking_status, row.fingerprint)
                for row in session.execute(
                    select(
                        DocumentRow.id,
                        DocumentRow.booking_status,
                        DocumentRow.fingerprint,
                    ).where(DocumentRow.id.in_([r.document_id for r in results]))
                )
            }
            changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            counts: dict[str, int] = {}
            for result in results:
                status, fingerprint = current[result.document_id]
                values = document_changes(status, fingerprint, result, now)
                if values:
                    changes.setdefault(tuple(sorted(values)), []).append(
                        {"document": result.document_id, **values}
                    )
                count = _COUNTERS.get(result.outcome)
                if count:
                    counts[count] = counts.get(count, 0) + 1
            for columns, rows in changes.items():
                session.execute(
                    update(documents)
                    .where(documents.c.id == bindparam("document"))
                    .values({name: bindparam(name) for name in columns}),
                    rows,
                )
            session.execute(
                insert(RunDocumentRow),
                [
                    {
                        "run_id": run_id,
                        "document_id": result.document_id,
                        "number": result.number,
                        "outcome": result.outcome.value,
                        "entry_number": result.entry_number,
                        "entry_id": result.entry_id,
                        "reason_code": result.reason_code,
                        "reason": result.reason,
                        "exact_message": result.exact_message,
                        "at": now,
                    }
                    for result in results
                ],
            )
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(
                    heartbeat_at=now,
                    **{
                        name: getattr(RunRow, name) + added
                        for name, added in counts.items()
                    },
                )
            )

    # Payments

    def payment_cursor(self, company_ref: str, division: int) -> int:
        with self.sessions() as session:
            company = self._company(session, company_ref)
            state = session.get(PaymentImportStateRow, company.id)
            if state is None or state.division != division:
                return 0
            return state.cursor

    def save_terms(
        self, company_ref: str, division: int, terms: Sequence[Term], cursor: int
    ) -> None:
        with self.sessions.begin() as session:
            company = self._company(session, company_ref)
            state = session.get(PaymentImportStateRow, company.id)
            if state is None:
                state = PaymentImportStateRow(company_id=company.id, division=division)
                session.add(state)
            elif state.division != division:
                # Another administration: its terms mean nothing here.
                session.execute(
                    delete(PaymentTermRow).where(
                        PaymentTermRow.company_id == company.id
                    )
                )
            state.division = division
            state.cursor = cursor
            ids = [term.exact_id for term in terms]
            existing: dict[str, PaymentTermRow] = {}
            for start in range(0, len(ids), 500):
                existing.update(
                    (row.exact_id, row)
                    for row in session.scalars(
                        select(PaymentTermRow).where(
                            PaymentTermRow.company_id == company.id,
                            PaymentTermRow.exact_id.in_(ids[start : start + 500]),
                        )
                    )
                )
            for term in terms:
                row = existing.get(term.exact_id)
                if row is None:
                    row = PaymentTermRow(company_id=company.id, exact_id=term.exact_id)
                    session.add(row)
                    existing[term.exact_id] = row
                elif row.timestamp > term.timestamp:
                    continue  # an older version of what we have
                row.entry_id = term.entry_id.lower()
                row.line_type = term.line_type
                row.amount = term.amount
                row.paid = term.paid
                row.last_payment_on = term.last_payment_on
                row.timestamp = term.timestamp

    def payment_inputs(
        self, company_ref: str, first: date, last: date
    ) -> Iterator[list[PaymentInput]]:
        with self.sessions() as session:
            company_id = self._company(session, company_ref).id
        after = 0
        while True:
            with self.sessions() as session:
                documents = session.scalars(
                    select(DocumentRow)
                    .where(
                        DocumentRow.company_id == company_id,
                        DocumentRow.issue_date >= first,
                        DocumentRow.issue_date <= last,
                        DocumentRow.booking_status.in_(DONE),
                        DocumentRow.booking_entry_id.is_not(None),
                        DocumentRow.id > after,
                    )
                    .order_by(DocumentRow.id)
                    .limit(500)
                ).all()
                if not documents:
                    return
                entry_ids = [str(row.booking_entry_id).lower() for row in documents]
                terms: dict[str, list[Term]] = {}
                for row in session.scalars(
                    select(PaymentTermRow).where(
                        PaymentTermRow.company_id == company_id,
                        PaymentTermRow.entry_id.in_(entry_ids),
                    )
                ):
                    terms.setdefault(row.entry_id, []).append(_term(row))
                batch = [
                    PaymentInput(
                        document_id=row.id,
                        number=row.number,
                        total=row.total,
                        status=row.payment_status,
                        paid=row.paid_amount,
                        terms=tuple(terms.get(str(row.booking_entry_id).lower(), ())),
                    )
                    for row in documents
                ]
            after = documents[-1].id
            yield batch

    def save_payments(
        self, run_id: int, company_ref: str, updates: Sequence[PaymentUpdate]
    ) -> Counts:
        updated = new_payments = 0
        now = utcnow()
        with self.sessions.begin() as session:
            company = self._company(session, company_ref)
            run = self._run(session, run_id)
            ids = [update.document_id for update in updates]
            documents = {
                row.id: row
                for row in session.scalars(
                    select(DocumentRow).where(DocumentRow.id.in_(ids))
                )
            }
            payments: dict[int, dict[str, PaymentRow]] = {}
            for row in session.scalars(
                select(PaymentRow).where(PaymentRow.document_id.in_(ids))
            ):
                payments.setdefault(row.document_id, {})[str(row.exact_reference)] = row
            for change in updates:
                document = documents[change.document_id]
                stored = payments.get(change.document_id, {})
                paid_ids = {term.exact_id for term in change.payments}
                for reference, row in stored.items():
                    if reference not in paid_ids:
                        session.delete(row)  # the term was reopened
                for term in change.payments:
                    if term.exact_id in stored:
                        continue
                    new_payments += 1
                    session.add(
                        PaymentRow(
                            company_id=company.id,
                            document_id=document.id,
                            paid_on=term.last_payment_on or now.date(),
                            amount=abs(term.amount),
                            currency=document.currency,
                            exact_reference=term.exact_id,
                        )
                    )
                if not change.changed:
                    continue
                updated += 1
                document.payment_status = change.status
                document.paid_amount = Decimal(change.paid)
                session.add(
                    RunDocumentRow(
                        run_id=run_id,
                        document_id=document.id,
                        number=document.number,
                        outcome=Outcome.UPDATED.value,
                        entry_number=document.booking_entry_number,
                        entry_id=document.booking_entry_id,
                        reason_code=change.status,
                        reason=_payment_sentence(change, document),
                        at=now,
                    )
                )
            run.updated += updated
            run.payments += new_payments
            run.heartbeat_at = now
        return Counts(updated=updated, payments=new_payments)

    # Helpers

    def _company(self, session: Session, ref: str) -> CompanyRow:
        row = repo.get_company(session, ref)
        if row is None:
            raise errors.UnknownCompany(ref)
        return row

    def _run(self, session: Session, run_id: int) -> RunRow:
        run = session.get(RunRow, run_id, options=[selectinload(RunRow.company)])
        if run is None:
            raise errors.UnknownRun(run_id)
        return run


_COUNTERS = {
    Outcome.BOOKED: "booked",
    Outcome.LINKED: "linked",
    Outcome.SKIPPED: "skipped",
    Outcome.FAILED: "failed",
}


def _period(
    company: CompanyRow, side: Side, first: date, last: date, refs: Sequence[str]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        DocumentRow.company_id == company.id,
        DocumentRow.side == side.value,
    ]
    if refs:
        # Chosen documents: outside the period they are skipped, not hidden.
        conditions.append(DocumentRow.ref.in_(list(refs)))
    else:
        conditions += [DocumentRow.issue_date >= first, DocumentRow.issue_date <= last]
    return conditions


def _to_do() -> ColumnElement[bool]:
    """Not booked or linked yet, or changed since (and not yet flagged: a
    flagged one waits for a person, not for the next run)."""
    return or_(
        DocumentRow.booking_status.in_(WAITING),
        and_(
            DocumentRow.booking_status.in_(DONE),
            DocumentRow.booking_fingerprint.is_not(None),
            DocumentRow.fingerprint != DocumentRow.booking_fingerprint,
        ),
    )


_ITEM_COLUMNS = (
    DocumentRow.id,
    DocumentRow.ref,
    DocumentRow.party_id,
    DocumentRow.side,
    DocumentRow.type,
    DocumentRow.number,
    DocumentRow.issue_date,
    DocumentRow.due_date,
    DocumentRow.currency,
    DocumentRow.exchange_rate,
    DocumentRow.payment_reference,
    DocumentRow.description,
    DocumentRow.validated,
    DocumentRow.expected_total,
    DocumentRow.fingerprint,
    DocumentRow.booking_status,
    DocumentRow.booking_fingerprint,
    DocumentRow.booking_entry_number,
    DocumentRow.booking_entry_id,
    DocumentRow.booking_journal,
    DocumentRow.exact_document_id,
)
"""What an export reads of a document: `repo.document_from_columns`'s
columns and the booking state."""
_LINE_COLUMNS = (
    DocumentLineRow.document_id,
    DocumentLineRow.description,
    DocumentLineRow.quantity,
    DocumentLineRow.unit_price,
    DocumentLineRow.discount_percent,
    DocumentLineRow.vat_scenario,
    DocumentLineRow.gl_account,
)


def _export_item(
    row: AnyRow,
    party_ref: str,
    party: Party,
    lines: Sequence[Line],
    with_pdf: Collection[int],
) -> ExportItem:
    return ExportItem(
        document_id=row.id,
        ref=row.ref,
        document=repo.document_from_columns(row, party_ref, lines),
        party=party,
        status=row.booking_status,
        fingerprint=row.fingerprint,
        booking_fingerprint=row.booking_fingerprint,
        pending=row.booking_status == BookingStatus.PENDING,
        entry_number=row.booking_entry_number,
        entry_id=row.booking_entry_id,
        journal=row.booking_journal,
        exact_document_id=row.exact_document_id,
        has_pdf=row.id in with_pdf,
    )


def document_changes(
    status: str, fingerprint: str, result: DocumentResult, now: datetime
) -> dict[str, Any]:
    """The columns of a document row that `result` changes, given its
    booking status and fingerprint now."""
    changes: dict[str, Any] = {}
    if result.exact_document_id:
        changes["exact_document_id"] = result.exact_document_id
    if result.outcome in {Outcome.BOOKED, Outcome.LINKED}:
        return changes | {
            "booking_status": (
                BookingStatus.BOOKED.value
                if result.outcome is Outcome.BOOKED
                else BookingStatus.LINKED.value
            ),
            "booking_entry_number": result.entry_number,
            "booking_entry_id": result.entry_id,
            "booking_journal": result.journal,
            "booking_fingerprint": result.fingerprint or fingerprint,
            "booking_pending_since": None,
            "booked_at": now,
            "booking_reason": None,
            "booking_code": None,
            "booking_exact_message": None,
        }
    changes |= {
        "booking_reason": result.reason,
        "booking_code": result.reason_code,
        "booking_exact_message": result.exact_message,
    }
    if result.still_pending:
        return changes  # the intent stays: the next run looks it up first
    if result.reason_code == "changed_after_export":
        return changes | {
            "booking_status": BookingStatus.CHANGED_AFTER_BOOKING.value,
            "booking_fingerprint": fingerprint,  # flagged once
        }
    changes["booking_pending_since"] = None
    if result.outcome is Outcome.FAILED:
        changes["booking_status"] = BookingStatus.FAILED.value
    elif status == BookingStatus.PENDING:
        changes["booking_status"] = BookingStatus.NOT_BOOKED.value
    return changes


def _term(row: PaymentTermRow) -> Term:
    return Term(
        exact_id=row.exact_id,
        entry_id=row.entry_id,
        line_type=row.line_type,
        amount=row.amount,
        paid=row.paid,
        last_payment_on=row.last_payment_on,
        timestamp=row.timestamp,
    )


def _payment_sentence(change: PaymentUpdate, document: DocumentRow) -> str:
    status = PaymentStatus(change.status)
    open_amount = document.total - Decimal(change.paid)
    words = {
        PaymentStatus.OPEN: f"open: {document.total} {document.currency} to pay",
        PaymentStatus.PARTLY_PAID: (
            f"partly paid: {change.paid} paid, {open_amount} {document.currency} open"
        ),
        PaymentStatus.PAID: f"paid: {change.paid} {document.currency}",
        PaymentStatus.REOPENED: (
            f"reopened: {open_amount} {document.currency} open again"
        ),
    }
    return words[status]


def _run_info(run: RunRow, company_ref: str) -> RunInfo:
    return RunInfo(
        id=run.id,
        company_ref=company_ref,
        flow=Flow(run.flow),
        first=run.first_day,
        last=run.last_day,
        trigger=Trigger(run.trigger),
        started_by=run.started_by,
        status=RunStatus(run.status),
        message=run.message,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        counts=Counts(
            booked=run.booked,
            linked=run.linked,
            skipped=run.skipped,
            failed=run.failed,
            updated=run.updated,
            already_done=run.already_done,
            payments=run.payments,
        ),
        exact_calls=run.exact_calls,
        documents=tuple(run.documents.split("\n")) if run.documents else (),
    )
