"""The *Leads/Prospect > Contact* and *Purchase > Supplier* screens: a
company's contacts or suppliers with their code in Exact and how many of
their documents still wait to be booked, searched by name or code, a page at
a time; and one party with its booking codes for the edit dialog."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, func, or_, select
from sqlalchemy.orm import Session

from ledgerbridge.domain.documents import BookingStatus
from ledgerbridge.storage.tables import CompanyRow, DocumentRow, PartyRow

PAGE_SIZE = 50
SEARCH_MAX = 100

WAITING = (
    BookingStatus.NOT_BOOKED.value,
    BookingStatus.PENDING.value,
    BookingStatus.FAILED.value,
)
"""The booking statuses of a document the export has still to book."""


@dataclass(frozen=True, slots=True)
class PartyLine:
    """One contact or supplier of a list."""

    id: int
    ref: str
    name: str
    exact_code: str | None
    vat_number: str | None
    country: str
    pending: int
    """Its documents not booked yet (waiting, or failed)."""


@dataclass(frozen=True, slots=True)
class PartyPage:
    lines: tuple[PartyLine, ...]
    total: int
    """How many parties match the search, on every page."""
    offset: int
    limit: int
    search: str

    @property
    def first(self) -> int:
        """The position of the page's first line, counted from 1."""
        return self.offset + 1 if self.lines else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.lines)

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None


@dataclass(frozen=True, slots=True)
class PartyDetail:
    """A contact or supplier as its edit dialog shows it."""

    id: int
    role: str
    ref: str
    name: str
    vat_number: str | None
    email: str | None
    street: str
    postal_code: str
    city: str
    country: str
    exact_code: str | None
    gl_account: str | None
    vat_scenario: str | None
    cost_centre: str | None
    pending: int


def list_parties(
    session: Session,
    company: CompanyRow,
    role: str,
    search: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> PartyPage:
    """The company's parties of `role` whose name, code in Exact or reference
    holds `search` (any case), by name."""
    search = search.strip()[:SEARCH_MAX]
    offset = max(offset, 0)
    where: list[ColumnElement[bool]] = [
        PartyRow.company_id == company.id,
        PartyRow.role == role,
    ]
    if search:
        wanted = search.lower()
        where.append(
            or_(
                func.lower(PartyRow.name).contains(wanted, autoescape=True),
                func.lower(PartyRow.exact_code).contains(wanted, autoescape=True),
                func.lower(PartyRow.ref).contains(wanted, autoescape=True),
            )
        )

    total = session.scalar(select(func.count()).select_from(PartyRow).where(*where))
    pending = _pending_counts()
    rows = session.execute(
        select(PartyRow, func.coalesce(pending.c.pending, 0))
        .outerjoin(pending, pending.c.party_id == PartyRow.id)
        .where(*where)
        .order_by(func.lower(PartyRow.name), PartyRow.id)
        .limit(limit)
        .offset(offset)
    ).all()
    lines = tuple(
        PartyLine(
            id=row.id,
            ref=row.ref,
            name=row.name,
            exact_code=row.exact_code,
            vat_number=row.vat_number,
            country=row.country,
            pending=int(count),
        )
        for row, count in rows
    )
    return PartyPage(lines, int(total or 0), offset, limit, search)


def get_party(
    session: Session, company: CompanyRow, role: str, party_id: int
) -> PartyDetail | None:
    """The party `party_id` when it is one of `company`'s parties of `role`;
    None otherwise (another company's party is not found)."""
    row = session.scalar(
        select(PartyRow).where(
            PartyRow.id == party_id,
            PartyRow.company_id == company.id,
            PartyRow.role == role,
        )
    )
    if row is None:
        return None
    pending = session.scalar(
        select(func.count())
        .select_from(DocumentRow)
        .where(
            DocumentRow.party_id == row.id,
            DocumentRow.booking_status.in_(WAITING),
        )
    )
    return PartyDetail(
        id=row.id,
        role=row.role,
        ref=row.ref,
        name=row.name,
        vat_number=row.vat_number,
        email=row.email,
        street=row.street,
        postal_code=row.postal_code,
        city=row.city,
        country=row.country,
        exact_code=row.exact_code,
        gl_account=row.gl_account,
        vat_scenario=row.vat_scenario,
        cost_centre=row.cost_centre,
        pending=int(pending or 0),
    )


def _pending_counts() -> Subquery:
    """Per party, its documents still to book."""
    return (
        select(DocumentRow.party_id, func.count().label("pending"))
        .where(DocumentRow.booking_status.in_(WAITING))
        .group_by(DocumentRow.party_id)
        .subquery()
    )
