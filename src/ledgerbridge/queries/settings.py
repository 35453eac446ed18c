"""What the *Accounting settings* screen reads: the company's settings, how
its Exact connection stands (no tokens), the terms it accepted, and what
the current mapping leaves unbookable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ledgerbridge.domain.accounting import AccountingSettings, ExportSettings
from ledgerbridge.domain.documents import BookingStatus, Side
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import (
    CompanyRow,
    DocumentLineRow,
    DocumentRow,
    ExactConnectionRow,
    TermsAcceptanceRow,
)

REFRESH_LIFETIME = timedelta(days=30)
"""A refresh token lives 30 days from issue (API.md §3, "Refresh token
lifetime"); every refresh issues a new one."""

WAITING = (BookingStatus.NOT_BOOKED, BookingStatus.FAILED)
"""Booking statuses of documents still to be booked."""


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    """A company's Exact connection as the screen shows it."""

    connected: bool
    """Tokens are stored for a chosen administration."""
    division: int | None
    base_url: str | None
    needs_sign_in: bool
    reason: str | None
    chain_alive_until: datetime | None
    """When the stored refresh token expires unless it is used before."""
    calls_left_today: int | None
    daily_limit: int | None

    @property
    def usable(self) -> bool:
        return self.connected and not self.needs_sign_in

    def chain_alive(self, now: datetime) -> bool:
        return (
            self.usable
            and self.chain_alive_until is not None
            and now < self.chain_alive_until
        )


NOT_CONNECTED = ConnectionHealth(False, None, None, False, None, None, None, None)


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """Waiting documents the current settings cannot book."""

    side: Side
    documents: int
    sentence: str


def accounting_settings(session: Session, company: CompanyRow) -> AccountingSettings:
    return repo.load_settings(session, company)


def connection_health(
    session: Session, company: CompanyRow, now: datetime
) -> ConnectionHealth:
    row = session.scalar(
        select(ExactConnectionRow).where(ExactConnectionRow.company_id == company.id)
    )
    if row is None:
        return NOT_CONNECTED
    connected = row.division is not None and row.refresh_token is not None
    calls_left = row.daily_remaining
    if row.daily_reset is not None and now >= row.daily_reset:
        calls_left = row.daily_limit  # a new day since Exact last said
    return ConnectionHealth(
        connected=connected,
        division=row.division,
        base_url=row.base_url,
        needs_sign_in=row.needs_sign_in,
        reason=row.reason,
        chain_alive_until=row.issued_at + REFRESH_LIFETIME
        if connected and row.issued_at
        else None,
        calls_left_today=calls_left,
        daily_limit=row.daily_limit,
    )


def accepted_terms(session: Session, company: CompanyRow) -> str | None:
    """The version of the terms the company last accepted, or None."""
    return session.scalar(
        select(TermsAcceptanceRow.version)
        .where(TermsAcceptanceRow.company_id == company.id)
        .order_by(TermsAcceptanceRow.id.desc())
        .limit(1)
    )


def mapping_problems(
    session: Session, company: CompanyRow, settings: AccountingSettings
) -> list[MappingProblem]:
    """Per side: waiting validated documents whose VAT scenario has no VAT
    code, and those with no journal to go to."""
    problems: list[MappingProblem] = []
    for side, export in (
        (Side.SALES, settings.sales),
        (Side.PURCHASE, settings.purchases),
    ):
        problems += _side_problems(session, company, side, export)
    return problems


def _side_problems(
    session: Session, company: CompanyRow, side: Side, export: ExportSettings
) -> list[MappingProblem]:
    waiting = (
        DocumentRow.company_id == company.id,
        DocumentRow.side == side,
        DocumentRow.validated.is_(True),
        DocumentRow.booking_status.in_(WAITING),
    )
    kind = "invoices" if side is Side.SALES else "supplier invoices"
    tab = "Customer invoice" if side is Side.SALES else "Supplier invoice"
    problems: list[MappingProblem] = []

    if not export.journal:
        count = session.scalar(select(func.count(DocumentRow.id)).where(*waiting)) or 0
        if count:
            problems.append(
                MappingProblem(
                    side,
                    count,
                    f"{_documents(count, kind)} cannot be booked: no journal is "
                    f"chosen on the {tab} tab.",
                )
            )

    per_scenario = session.execute(
        select(DocumentLineRow.vat_scenario, func.count(distinct(DocumentRow.id)))
        .join(DocumentRow, DocumentLineRow.document_id == DocumentRow.id)
        .where(*waiting)
        .group_by(DocumentLineRow.vat_scenario)
        .order_by(DocumentLineRow.vat_scenario)
    ).all()
    for scenario, count in per_scenario:
        if scenario in export.vat_codes:
            continue
        known = VAT_SCENARIOS.get(scenario)
        name = f"{scenario} ({known.label})" if known else scenario
        problems.append(
            MappingProblem(
                side,
                count,
                f"{_documents(count, kind, 'use')} the VAT scenario {name}, which "
                f"has no VAT code: choose one on the {tab} tab.",
            )
        )
    return problems


def _documents(count: int, kind: str, verb: str = "") -> str:
    noun = kind if count != 1 else kind.removesuffix("s")
    if verb:
        verb = f" {verb}s" if count == 1 else f" {verb}"
    return f"{count} pending {noun}{verb}"
