"""Payments read back from Exact, and the VAT scenarios a company can use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import PaymentRow
from ledgerbridge.web.api.deps import (
    CompanyDep,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    errors,
)
from ledgerbridge.web.api.schemas import PageOut, PaymentOut, VatScenarioOut

router = APIRouter()


@router.get(
    "/companies/{company}/payments",
    tags=["payments"],
    responses=errors(401, 403, 404, 422),
)
def list_payments(
    company: CompanyDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> PageOut[PaymentOut]:
    """Payments received and made on the company's documents, newest first."""
    page = repo.list_payments(session, company, limit, offset)
    return PageOut[PaymentOut].of(page, payment_out)


def payment_out(row: PaymentRow) -> PaymentOut:
    return PaymentOut(
        id=row.id,
        side=row.document.side,
        document_ref=row.document.ref,
        document_number=row.document.number,
        paid_on=row.paid_on,
        amount=row.amount,
        currency=row.currency,
        exact_reference=row.exact_reference,
    )


@router.get("/vat-scenarios", tags=["reference"], responses=errors(401, 422))
def list_vat_scenarios(
    _principal: PrincipalDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> list[VatScenarioOut]:
    """The VAT scenarios lines and booking codes may name, per country."""
    return [
        VatScenarioOut(
            code=s.code,
            country=s.country,
            label=s.label,
            rate=s.rate,
            category=s.category,
            invoice_mention=s.invoice_mention,
        )
        for s in VAT_SCENARIOS.values()
        if country is None or s.country == country
    ]
