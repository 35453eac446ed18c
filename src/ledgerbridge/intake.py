"""Taking in the business application's data: companies, customers,
suppliers and documents, upserted by the application's own reference.

Every upsert validates with the domain rules first and reports every problem
at once; pushing the same thing twice changes nothing; a validated document
is locked. The caller owns the transaction: on any error it rolls back, so a
document is written whole or not at all.

Errors::

    IntakeError
     ├── UnknownCompany     the company is not known (push it first)
     ├── InvalidInput       what was sent breaks a rule (field, sentence)
     └── DocumentLocked     a validated document would change
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from sqlalchemy.orm import Session

from ledgerbridge.domain.accounting import AccountingSettings, check_settings
from ledgerbridge.domain.documents import (
    PDF_MAX_BYTES,
    Document,
    DocumentType,
    Side,
    check_document,
)
from ledgerbridge.domain.parties import Company, Party, check_company, check_party
from ledgerbridge.domain.problems import InvalidInput, Problem
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import (
    CompanyRow,
    DocumentPdfRow,
    DocumentRow,
    PartyRow,
)

logger = structlog.get_logger(__name__)

CUSTOMER = "customer"
SUPPLIER = "supplier"

R = TypeVar("R")


class IntakeError(Exception):
    """Base of what intake refuses."""


class UnknownCompany(IntakeError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(
            f"company {ref!r} is not known: create it first with "
            f"PUT /api/v1/companies/{ref}"
        )


class DocumentLocked(IntakeError):
    def __init__(self, document: DocumentRow) -> None:
        kind = "credit note" if document.type == DocumentType.CREDIT_NOTE else "invoice"
        super().__init__(
            f"{kind} {document.number} is validated and locked, so it cannot "
            "change; correct it with a credit note"
        )


__all__ = ["DocumentLocked", "IntakeError", "InvalidInput", "UnknownCompany"]


@dataclass(frozen=True, slots=True)
class Upserted(Generic[R]):
    row: R
    created: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class Pdf:
    filename: str
    content: bytes


def require_company(session: Session, ref: str) -> CompanyRow:
    row = repo.get_company(session, ref)
    if row is None:
        raise UnknownCompany(ref)
    return row


def upsert_company(session: Session, company: Company) -> Upserted[CompanyRow]:
    problems = check_company(company)
    if problems:
        raise InvalidInput(problems)

    row = repo.get_company(session, company.ref)
    if row is not None and repo.company_from_row(row) == company:
        return Upserted(row, created=False, changed=False)
    created = row is None
    if row is None:
        row = CompanyRow()
        session.add(row)
    elif row.country != company.country:
        raise InvalidInput(
            [
                Problem(
                    "country",
                    f"company {company.ref!r} is in {row.country}; its country "
                    "cannot change (its VAT scenarios and bookings depend on it)",
                )
            ]
        )
    repo.write_company(row, company)
    session.flush()
    return Upserted(row, created=created, changed=True)


def save_settings(
    session: Session, company: CompanyRow, settings: AccountingSettings
) -> None:
    problems = check_settings(settings, repo.company_from_row(company))
    if problems:
        raise InvalidInput(problems)
    repo.save_settings(session, company, settings)
    session.flush()


def upsert_party(
    session: Session, company: CompanyRow, role: str, party: Party
) -> Upserted[PartyRow]:
    problems = check_party(party, repo.company_from_row(company))
    if problems:
        raise InvalidInput(problems)

    row = repo.get_party(session, company, role, party.ref)
    if row is not None and repo.party_from_row(row) == party:
        return Upserted(row, created=False, changed=False)
    created = row is None
    if row is None:
        row = PartyRow(company_id=company.id, role=role)
        session.add(row)
    repo.write_party(row, party)
    session.flush()
    return Upserted(row, created=created, changed=True)


def upsert_document(
    session: Session,
    company: CompanyRow,
    ref: str,
    document: Document,
    pdf: Pdf | None,
) -> Upserted[DocumentRow]:
    """Store `document` under the application's `ref`, or leave it unchanged.

    Raises `InvalidInput` with every problem found, and `DocumentLocked` when
    a validated document would change.
    """
    role = CUSTOMER if document.side is Side.SALES else SUPPLIER
    party_field = "customer" if role == CUSTOMER else "supplier"
    problems = check_document(document, repo.company_from_row(company))
    party = repo.get_party(session, company, role, document.party_ref)
    if party is None:
        path = "contacts" if role == CUSTOMER else "suppliers"
        problems.insert(
            0,
            Problem(
                party_field,
                f"{role} {document.party_ref!r} is not known in company "
                f"{company.ref!r}: create it first with PUT "
                f"/api/v1/companies/{company.ref}/{path}/{document.party_ref}",
            ),
        )
    elif document.side is Side.PURCHASE:
        twin = repo.find_document_number(session, party, document.number)
        if twin is not None and twin.ref != ref:
            problems.append(
                Problem(
                    "number",
                    f"supplier {party.ref!r} already has a document "
                    f"{document.number!r}, stored as {twin.ref!r}: the same "
                    "supplier invoice twice would be booked twice",
                )
            )
    if pdf is not None and len(pdf.content) > PDF_MAX_BYTES:
        problems.append(
            Problem("pdf", f"the PDF is larger than {PDF_MAX_BYTES // 2**20} MB")
        )
    if problems:
        logger.info(
            "document.refused",
            company=company.ref,
            side=document.side,
            ref=ref,
            problems=len(problems),
        )
        raise InvalidInput(problems)
    assert party is not None  # an unknown party was reported above

    row = repo.get_document(session, company, document.side, ref)
    pdf_hash = hashlib.sha256(pdf.content).hexdigest() if pdf else None
    if row is not None:
        stored_pdf_hash = row.pdf.sha256 if row.pdf else None
        same = repo.document_from_row(row) == document and stored_pdf_hash == pdf_hash
        if same:
            return Upserted(row, created=False, changed=False)
        if row.validated:
            logger.info(
                "document.locked", company=company.ref, side=document.side, ref=ref
            )
            raise DocumentLocked(row)
        row.revision += 1

    created = row is None
    if row is None:
        row = DocumentRow(company_id=company.id, ref=ref)
        session.add(row)
    repo.write_document(row, document, party)
    if pdf is None:
        row.pdf = None
    elif pdf_hash != (row.pdf.sha256 if row.pdf else None):
        row.pdf = DocumentPdfRow(
            filename=pdf.filename, sha256=pdf_hash, content=pdf.content
        )
    session.flush()
    logger.debug(
        "document.stored",
        company=company.ref,
        side=document.side,
        ref=ref,
        created=created,
        revision=row.revision,
    )
    return Upserted(row, created=created, changed=True)
