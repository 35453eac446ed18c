"""Who accepted which version of the terms and conditions for a company,
and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.storage.tables import TermsAcceptanceRow


@dataclass(frozen=True, slots=True)
class Acceptance:
    version: str
    accepted_by: str
    accepted_at: datetime


def acceptances(session: Session, company_id: int, limit: int = 20) -> list[Acceptance]:
    """The company's acceptances of the terms, the latest first."""
    rows = session.scalars(
        select(TermsAcceptanceRow)
        .where(TermsAcceptanceRow.company_id == company_id)
        .order_by(TermsAcceptanceRow.id.desc())
        .limit(limit)
    )
    return [Acceptance(row.version, row.accepted_by, row.accepted_at) for row in rows]
