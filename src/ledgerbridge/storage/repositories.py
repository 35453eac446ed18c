"""Reading and writing rows, and turning them into domain objects and back.

Repositories take the caller's `Session` and never commit: the caller owns
the transaction, so one request writes all of a document or none of it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session, selectinload

from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.domain.documents import Document, DocumentType, Line, Side
from ledgerbridge.domain.parties import Address, BookingCodes, Company, Party
from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    CompanyRow,
    DocumentLineRow,
    DocumentRow,
    PartyRow,
    PaymentRow,
    VatCodeMappingRow,
)

T = TypeVar("T")
AnyRow = Row[*tuple[Any, ...]]
"""A result row of any columns."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, query: Select[T], limit: int, offset: int) -> Page[T]:
    total = session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    items = session.scalars(query.limit(limit).offset(offset)).all()
    return Page(items, total or 0, limit, offset)


# Companies


def get_company(session: Session, ref: str) -> CompanyRow | None:
    return session.scalar(select(CompanyRow).where(CompanyRow.ref == ref))


def list_companies(
    session: Session, refs: Collection[str] | None, limit: int, offset: int
) -> Page[CompanyRow]:
    query = select(CompanyRow).order_by(CompanyRow.ref)
    if refs is not None:
        query = query.where(CompanyRow.ref.in_(refs))
    return paginate(session, query, limit, offset)


def company_from_row(row: CompanyRow) -> Company:
    return Company(
        ref=row.ref,
        name=row.name,
        country=row.country,
        vat_number=row.vat_number,
        base_currency=row.base_currency,
        time_zone=row.time_zone,
    )


def write_company(row: CompanyRow, company: Company) -> None:
    row.ref = company.ref
    row.name = company.name
    row.country = company.country
    row.vat_number = company.vat_number
    row.base_currency = company.base_currency
    row.time_zone = company.time_zone


# Accounting settings


def settings_from_rows(
    row: AccountingSettingsRow | None, mappings: Sequence[VatCodeMappingRow]
) -> AccountingSettings:
    if row is None:
        return AccountingSettings()

    def codes(side: Side) -> MappingProxyType[str, str]:
        return MappingProxyType(
            {m.scenario: m.vat_code for m in mappings if m.side == side}
        )

    def export(prefix: str, side: Side) -> ExportSettings:
        def value(name: str) -> Any:
            return getattr(row, f"{prefix}_{name}")

        return ExportSettings(
            enabled=value("enabled"),
            daily=DailyRun(value("daily"), time.fromisoformat(value("daily_at"))),
            journal=value("journal"),
            credit_note_journal=value("credit_note_journal"),
            default_gl_account=value("default_gl_account"),
            vat_codes=codes(side),
            create_missing_parties=value("create_missing"),
            attach_pdf=value("attach_pdf"),
        )

    return AccountingSettings(
        sales=export("sales", Side.SALES),
        purchases=export("purchase", Side.PURCHASE),
        payments=PaymentImportSettings(
            enabled=row.payments_enabled,
            daily=DailyRun(
                row.payments_daily, time.fromisoformat(row.payments_daily_at)
            ),
        ),
    )


def load_settings(session: Session, company: CompanyRow) -> AccountingSettings:
    mappings = session.scalars(
        select(VatCodeMappingRow).where(VatCodeMappingRow.company_id == company.id)
    ).all()
    return settings_from_rows(company.settings, mappings)


def save_settings(
    session: Session, company: CompanyRow, settings: AccountingSettings
) -> None:
    row = company.settings or AccountingSettingsRow(company_id=company.id)
    company.settings = row
    for prefix, export in (("sales", settings.sales), ("purchase", settings.purchases)):
        values: dict[str, Any] = {
            "enabled": export.enabled,
            "daily": export.daily.enabled,
            "daily_at": export.daily.at.strftime("%H:%M"),
            "journal": export.journal,
            "credit_note_journal": export.credit_note_journal,
            "default_gl_account": export.default_gl_account,
            "create_missing": export.create_missing_parties,
            "attach_pdf": export.attach_pdf,
        }
        for name, value in values.items():
            setattr(row, f"{prefix}_{name}", value)
    row.payments_enabled = settings.payments.enabled
    row.payments_daily = settings.payments.daily.enabled
    row.payments_daily_at = settings.payments.daily.at.strftime("%H:%M")

    existing = session.scalars(
        select(VatCodeMappingRow).where(VatCodeMappingRow.company_id == company.id)
    ).all()
    for mapping in existing:
        session.delete(mapping)
    session.flush()
    for side, export in (
        (Side.SALES, settings.sales),
        (Side.PURCHASE, settings.purchases),
    ):
        for scenario, vat_code in export.vat_codes.items():
            session.add(
                VatCodeMappingRow(
                    company_id=company.id,
                    side=side,
                    scenario=scenario,
                    vat_code=vat_code,
                )
            )


# Parties


def get_party(
    session: Session, company: CompanyRow, role: str, ref: str
) -> PartyRow | None:
    return session.scalar(
        select(PartyRow).where(
            PartyRow.company_id == company.id,
            PartyRow.role == role,
            PartyRow.ref == ref,
        )
    )


def list_parties(
    session: Session, company: CompanyRow, role: str, limit: int, offset: int
) -> Page[PartyRow]:
    query = (
        select(PartyRow)
        .where(PartyRow.company_id == company.id, PartyRow.role == role)
        .order_by(PartyRow.ref)
    )
    return paginate(session, query, limit, offset)


def party_from_row(row: PartyRow) -> Party:
    return Party(
        ref=row.ref,
        name=row.name,
        vat_number=row.vat_number,
        email=row.email,
        address=Address(row.street, row.postal_code, row.city, row.country),
        booking_codes=BookingCodes(
            exact_code=row.exact_code,
            gl_account=row.gl_account,
            vat_scenario=row.vat_scenario,
            cost_centre=row.cost_centre,
        ),
    )


def write_party(row: PartyRow, party: Party) -> None:
    row.ref = party.ref
    row.name = party.name
    row.vat_number = party.vat_number
    row.email = party.email
    row.street = party.address.street
    row.postal_code = party.address.postal_code
    row.city = party.address.city
    row.country = party.address.country
    row.exact_code = party.booking_codes.exact_code
    row.gl_account = party.booking_codes.gl_account
    row.vat_scenario = party.booking_codes.vat_scenario
    row.cost_centre = party.booking_codes.cost_centre


# Documents


def get_document(
    session: Session, company: CompanyRow, side: Side, ref: str
) -> DocumentRow | None:
    return session.scalar(
        select(DocumentRow)
        .where(
            DocumentRow.company_id == company.id,
            DocumentRow.side == side,
            DocumentRow.ref == ref,
        )
        .options(selectinload(DocumentRow.lines), selectinload(DocumentRow.party))
    )


def find_document_number(
    session: Session, party: PartyRow, number: str
) -> DocumentRow | None:
    return session.scalar(
        select(DocumentRow).where(
            DocumentRow.party_id == party.id, DocumentRow.number == number
        )
    )


def list_documents(
    session: Session, company: CompanyRow, side: Side, limit: int, offset: int
) -> Page[DocumentRow]:
    query = (
        select(DocumentRow)
        .where(DocumentRow.company_id == company.id, DocumentRow.side == side)
        .order_by(DocumentRow.issue_date.desc(), DocumentRow.ref)
        .options(selectinload(DocumentRow.lines), selectinload(DocumentRow.party))
    )
    return paginate(session, query, limit, offset)


def document_from_row(row: DocumentRow) -> Document:
    return document_from_columns(
        row, row.party.ref, [line_from_columns(line) for line in row.lines]
    )


def document_from_columns(
    row: DocumentRow | AnyRow, party_ref: str, lines: Sequence[Line]
) -> Document:
    """A document from its row's columns: an ORM row, or a plain result row
    that selected the same columns (what an export reads in bulk)."""
    return Document(
        side=Side(row.side),
        type=DocumentType(row.type),
        number=row.number,
        party_ref=party_ref,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        exchange_rate=row.exchange_rate,
        payment_reference=row.payment_reference,
        description=row.description,
        validated=row.validated,
        expected_total=row.expected_total,
        lines=tuple(lines),
    )


def line_from_columns(line: DocumentLineRow | AnyRow) -> Line:
    return Line(
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        vat_scenario=line.vat_scenario,
        gl_account=line.gl_account,
    )


def write_document(row: DocumentRow, document: Document, party: PartyRow) -> None:
    """Copy `document` and its computed amounts onto `row`, lines replaced."""
    amounts = document.amounts()
    row.side = document.side
    row.type = document.type
    row.number = document.number
    row.party = party
    row.issue_date = document.issue_date
    row.due_date = document.due_date
    row.currency = document.currency
    row.exchange_rate = document.exchange_rate
    row.payment_reference = document.payment_reference
    row.description = document.description
    row.validated = document.validated
    row.expected_total = document.expected_total
    row.net_total = amounts.net_total
    row.vat_total = amounts.vat_total
    row.total = amounts.total
    row.fingerprint = document.fingerprint()
    row.lines = [
        DocumentLineRow(
            position=index,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            vat_scenario=line.vat_scenario,
            gl_account=line.gl_account,
            net=net,
            vat=vat,
        )
        for index, (line, net, vat) in enumerate(
            zip(document.lines, amounts.line_nets, amounts.line_vats, strict=True)
        )
    ]


# Payments


def list_payments(
    session: Session, company: CompanyRow, limit: int, offset: int
) -> Page[PaymentRow]:
    query = (
        select(PaymentRow)
        .where(PaymentRow.company_id == company.id)
        .order_by(PaymentRow.paid_on.desc(), PaymentRow.id)
        .options(selectinload(PaymentRow.document))
    )
    return paginate(session, query, limit, offset)


def paid_so_far(session: Session, document: DocumentRow) -> Decimal:
    payments = session.scalars(
        select(PaymentRow).where(PaymentRow.document_id == document.id)
    ).all()
    return sum((p.amount for p in payments), Decimal("0.00"))
