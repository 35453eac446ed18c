"""What people do with problems after a run: mark a failed document as
handled, dismiss a notice, and ask for a *Retry* of one document.

Marking keeps who and when on the failed outcome; the outcome stays in the
history. A retry is an ordinary run of the document's flow, limited to that
one document and dated on its day (`sync.model.RunRequest.documents`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.domain.documents import Side
from ledgerbridge.storage.tables import NoticeRow, RunDocumentRow, RunRow
from ledgerbridge.storage.types import utcnow
from ledgerbridge.sync.model import Flow, Outcome, RunRequest, Trigger


class NotAProblem(Exception):
    """The outcome is not a failure of the company's: nothing to handle."""


def mark_handled(
    session: Session, company_id: int, outcome_id: int, username: str
) -> RunDocumentRow:
    """Record that `username` handled the failed outcome; marking it again
    keeps the first mark. Raises `NotAProblem`."""
    row = session.scalar(
        select(RunDocumentRow)
        .join(RunRow, RunRow.id == RunDocumentRow.run_id)
        .where(RunDocumentRow.id == outcome_id, RunRow.company_id == company_id)
    )
    if row is None or row.outcome != Outcome.FAILED.value:
        raise NotAProblem(outcome_id)
    if row.handled_at is None:
        row.handled_at = utcnow()
        row.handled_by = username[:64]
    return row


def dismiss_notice(session: Session, company_id: int, notice_id: int) -> bool:
    """Mark the company's notice as read; False when it has no such notice."""
    row = session.get(NoticeRow, notice_id)
    if row is None or row.company_id != company_id:
        return False
    if row.read_at is None:
        row.read_at = utcnow()
    return True


def retry_request(
    company_ref: str, side: str, ref: str, day: date, username: str
) -> RunRequest:
    """The run that tries one document again: its flow, its day, only it."""
    return RunRequest(
        company_ref,
        Flow.for_side(Side(side)),
        day,
        day,
        Trigger.MANUAL,
        username,
        documents=(ref,),
    )
