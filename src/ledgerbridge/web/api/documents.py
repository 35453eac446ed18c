"""Customer and supplier invoices and credit notes, and how they booked."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from ledgerbridge import intake
from ledgerbridge.domain.documents import Document, DocumentType, Line, Side
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import CompanyRow, DocumentRow
from ledgerbridge.web.api.deps import (
    ApiError,
    CompanyDep,
    Limit,
    Offset,
    SessionDep,
    errors,
)
from ledgerbridge.web.api.schemas import (
    REF_PATTERN,
    BookingOut,
    CustomerInvoiceIn,
    DocumentIn,
    DocumentOut,
    LineOut,
    PageOut,
    PaymentStateOut,
    SupplierInvoiceIn,
    TotalsOut,
    VatGroupOut,
)

DocumentRef = Annotated[str, Path(pattern=REF_PATTERN)]

router = APIRouter()


def _reads(side: Side, path: str, noun: str) -> None:
    tags: list[str | Enum] = [path]

    @router.get(
        f"/companies/{{company}}/{path}",
        tags=tags,
        responses=errors(401, 403, 404, 422),
    )
    def list_documents(
        company: CompanyDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
    ) -> PageOut[DocumentOut]:
        page = repo.list_documents(session, company, side, limit, offset)
        return PageOut[DocumentOut].of(page, document_out)

    @router.get(
        f"/companies/{{company}}/{path}/{{ref}}",
        tags=tags,
        responses=errors(401, 403, 404, 422),
    )
    def get_document(
        company: CompanyDep, ref: DocumentRef, session: SessionDep
    ) -> DocumentOut:
        row = repo.get_document(session, company, side, ref)
        if row is None:
            raise ApiError(404, "not_found", f"{noun} {ref!r} is not known")
        return document_out(row)

    list_documents.__doc__ = f"The company's {noun}s and credit notes, newest first."
    get_document.__doc__ = f"One {noun} with its lines, totals and booking status."


_reads(Side.SALES, "customer-invoices", "customer invoice")
_reads(Side.PURCHASE, "supplier-invoices", "supplier invoice")


@router.put(
    "/companies/{company}/customer-invoices/{ref}",
    tags=["customer-invoices"],
    responses=errors(400, 401, 403, 404, 409, 422, created=DocumentOut),
)
def put_customer_invoice(
    company: CompanyDep,
    ref: DocumentRef,
    body: CustomerInvoiceIn,
    session: SessionDep,
    response: Response,
) -> DocumentOut:
    """Create or update a customer invoice or credit note under its number.

    Sending the same document again changes nothing; a validated one is
    locked (409) and is corrected with a credit note.
    """
    document = document_in(company, body, Side.SALES, ref, body.customer)
    return _upsert(session, company, ref, document, body, response)


@router.put(
    "/companies/{company}/supplier-invoices/{ref}",
    tags=["supplier-invoices"],
    responses=errors(400, 401, 403, 404, 409, 422, created=DocumentOut),
)
def put_supplier_invoice(
    company: CompanyDep,
    ref: DocumentRef,
    body: SupplierInvoiceIn,
    session: SessionDep,
    response: Response,
) -> DocumentOut:
    """Create or update a supplier invoice or credit note under the
    application's own id; `number` is the supplier's invoice number."""
    document = document_in(company, body, Side.PURCHASE, body.number, body.supplier)
    return _upsert(session, company, ref, document, body, response)


def _upsert(
    session: Session,
    company: CompanyRow,
    ref: str,
    document: Document,
    body: DocumentIn,
    response: Response,
) -> DocumentOut:
    pdf = intake.Pdf(body.pdf.filename, body.pdf.content()) if body.pdf else None
    result = intake.upsert_document(session, company, ref, document, pdf)
    session.commit()
    if result.created:
        response.status_code = 201
    return document_out(result.row)


def document_in(
    company: CompanyRow, body: DocumentIn, side: Side, number: str, party: str
) -> Document:
    return Document(
        side=side,
        type=DocumentType(body.type),
        number=number,
        party_ref=party,
        issue_date=body.issue_date,
        due_date=body.due_date,
        currency=body.currency or company.base_currency,
        exchange_rate=body.exchange_rate,
        payment_reference=body.payment_reference or None,
        description=body.description,
        validated=body.validated,
        expected_total=body.total,
        lines=tuple(
            Line(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                vat_scenario=line.vat_scenario,
                gl_account=line.gl_account,
            )
            for line in body.lines
        ),
    )


def document_out(row: DocumentRow) -> DocumentOut:
    amounts = repo.document_from_row(row).amounts()
    return DocumentOut(
        ref=row.ref,
        type=DocumentType(row.type),
        number=row.number,
        party=row.party.ref,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        exchange_rate=row.exchange_rate,
        payment_reference=row.payment_reference,
        description=row.description,
        validated=row.validated,
        lines=[
            LineOut.model_validate(line, from_attributes=True) for line in row.lines
        ],
        totals=TotalsOut(
            net=row.net_total,
            vat=row.vat_total,
            total=row.total,
            vat_breakdown=[
                VatGroupOut(
                    category=group.category,
                    rate=group.rate,
                    taxable=group.taxable,
                    vat=group.vat,
                )
                for group in amounts.groups
            ],
        ),
        has_pdf=row.pdf is not None,
        revision=row.revision,
        booking=BookingOut(
            status=row.booking_status,
            entry_number=row.booking_entry_number,
            entry_id=row.booking_entry_id,
            reason=row.booking_reason,
        ),
        payment=PaymentStateOut(
            status=row.payment_status,
            paid=row.paid_amount,
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
