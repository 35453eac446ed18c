"""Builders of rows to hang storage tests on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ledgerbridge import intake
from ledgerbridge.domain.parties import Company
from ledgerbridge.storage.tables import CompanyRow, DocumentRow, PartyRow


def add_company(session: Session, ref: str = "acme") -> CompanyRow:
    company = Company(
        ref=ref, name=f"Company {ref}", country="BE", vat_number="BE0403170701"
    )
    return intake.upsert_company(session, company).row


def add_document(session: Session, total: Decimal, ref: str = "d1") -> DocumentRow:
    """A bare sales document row whose amount columns all hold `total`."""
    company = add_company(session)
    party = PartyRow(company_id=company.id, role="customer", ref="c1", name="Jan")
    session.add(party)
    session.flush()
    row = DocumentRow(
        company_id=company.id,
        side="sales",
        ref=ref,
        type="invoice",
        number="F-1",
        party_id=party.id,
        issue_date=date(2026, 11, 2),
        currency="EUR",
        net_total=total,
        vat_total=total,
        total=total,
        fingerprint="0" * 64,
    )
    session.add(row)
    session.flush()
    return row
