"""The tables, as typed SQLAlchemy models.

Amounts are integer cents (`Cents`), other decimals integers of fixed scale;
constraint names follow one convention so migrations read the same on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledgerbridge.storage.types import Cents, ScaledDecimal, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )


class CompanyRow(Timestamped, Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    vat_number: Mapped[str] = mapped_column(String(20))
    base_currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64))

    settings: Mapped[AccountingSettingsRow] = relationship(
        back_populates="company", cascade="all, delete-orphan", uselist=False
    )


class AccountingSettingsRow(Base):
    """The three tabs of *Accounting settings*, one row per company."""

    __tablename__ = "accounting_settings"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    sales_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sales_daily: Mapped[bool] = mapped_column(Boolean, default=False)
    sales_daily_at: Mapped[str] = mapped_column(String(5), default="02:30")
    sales_journal: Mapped[str | None] = mapped_column(String(20))
    sales_credit_note_journal: Mapped[str | None] = mapped_column(String(20))
    sales_default_gl_account: Mapped[str | None] = mapped_column(String(20))
    sales_create_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    sales_attach_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    purchase_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    purchase_daily: Mapped[bool] = mapped_column(Boolean, default=False)
    purchase_daily_at: Mapped[str] = mapped_column(String(5), default="02:30")
    purchase_journal: Mapped[str | None] = mapped_column(String(20))
    purchase_credit_note_journal: Mapped[str | None] = mapped_column(String(20))
    purchase_default_gl_account: Mapped[str | None] = mapped_column(String(20))
    purchase_create_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    purchase_attach_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    payments_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    payments_daily: Mapped[bool] = mapped_column(Boolean, default=False)
    payments_daily_at: Mapped[str] = mapped_column(String(5), default="03:00")

    company: Mapped[CompanyRow] = relationship(back_populates="settings")


class VatCodeMappingRow(Base):
    """Which Exact VAT code a company books a VAT scenario with, per side."""

    __tablename__ = "vat_code_mapping"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    side: Mapped[str] = mapped_column(String(10), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(32), primary_key=True)
    vat_code: Mapped[str] = mapped_column(String(3))


class PartyRow(Timestamped, Base):
    """A customer (*contact*) or a supplier, with its booking codes."""

    __tablename__ = "party"
    __table_args__ = (UniqueConstraint("company_id", "role", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    exact_code: Mapped[str | None] = mapped_column(String(18))
    gl_account: Mapped[str | None] = mapped_column(String(20))
    vat_scenario: Mapped[str | None] = mapped_column(String(32))
    cost_centre: Mapped[str | None] = mapped_column(String(8))

    company: Mapped[CompanyRow] = relationship()


class DocumentRow(Timestamped, Base):
    """A customer or supplier invoice or credit note, and how it booked."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("company_id", "side", "ref"),
        # One number per party: the same supplier invoice stored twice would
        # be booked twice.
        UniqueConstraint("party_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(12))
    number: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(6))
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    validated: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_total: Mapped[Decimal | None] = mapped_column(Cents())
    net_total: Mapped[Decimal] = mapped_column(Cents())
    vat_total: Mapped[Decimal] = mapped_column(Cents())
    total: Mapped[Decimal] = mapped_column(Cents())
    fingerprint: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    booking_status: Mapped[str] = mapped_column(String(24), default="not_booked")
    booking_entry_number: Mapped[int | None] = mapped_column(Integer)
    booking_entry_id: Mapped[str | None] = mapped_column(String(36))
    booking_reason: Mapped[str | None] = mapped_column(Text)
    booking_code: Mapped[str | None] = mapped_column(String(40))
    """The reason code of the last failure (`failed`), else None."""
    booking_exact_message: Mapped[str | None] = mapped_column(Text)
    booking_fingerprint: Mapped[str | None] = mapped_column(String(64))
    """The fingerprint the document had when it was booked or linked."""
    booking_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set before the POST (exactly-once intent), cleared once settled."""
    booking_journal: Mapped[str | None] = mapped_column(String(20))
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exact_document_id: Mapped[str | None] = mapped_column(String(36))
    """The Exact Document holding the PDF, once created."""
    payment_status: Mapped[str] = mapped_column(String(12), default="open")
    paid_amount: Mapped[Decimal] = mapped_column(Cents(), default=Decimal("0.00"))

    party: Mapped[PartyRow] = relationship()
    lines: Mapped[list[DocumentLineRow]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        order_by="DocumentLineRow.position",
    )
    pdf: Mapped[DocumentPdfRow | None] = relationship(
        cascade="all, delete-orphan", uselist=False
    )


class DocumentLineRow(Base):
    __tablename__ = "document_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    unit_price: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    discount_percent: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    vat_scenario: Mapped[str] = mapped_column(String(32))
    gl_account: Mapped[str | None] = mapped_column(String(20))
    net: Mapped[Decimal] = mapped_column(Cents())
    vat: Mapped[Decimal] = mapped_column(Cents())

    document: Mapped[DocumentRow] = relationship(back_populates="lines")


class DocumentPdfRow(Base):
    __tablename__ = "document_pdf"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class PaymentRow(Base):
    """A payment on a document, as read back from Exact: one paid cash-flow
    term (`exact_reference` is the term's ID)."""

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("company_id", "exact_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Cents())
    currency: Mapped[str] = mapped_column(String(3))
    exact_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[DocumentRow] = relationship()


class ApiKeyRow(Base):
    """An API key: only a hash of its secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    companies: Mapped[list[ApiKeyCompanyRow]] = relationship(
        cascade="all, delete-orphan"
    )


class ApiKeyCompanyRow(Base):
    """A company an API key is limited to; a key with none may reach all."""

    __tablename__ = "api_key_company"

    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True
    )
    company_ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class ExactConnectionRow(Timestamped, Base):
    """A company's connection to Exact Online: where, which administration,
    its tokens (Fernet ciphertext, see `storage/secrets.py`) and the last
    rate limits Exact reported."""

    __tablename__ = "exact_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), unique=True
    )
    base_url: Mapped[str] = mapped_column(String(200))
    division: Mapped[int | None] = mapped_column(Integer)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    needs_sign_in: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    daily_remaining: Mapped[int | None] = mapped_column(Integer)
    daily_reset: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutely_limit: Mapped[int | None] = mapped_column(Integer)
    minutely_remaining: Mapped[int | None] = mapped_column(Integer)
    minutely_reset: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never show a token, not even encrypted
        return (
            f"ExactConnectionRow(id={self.id!r}, company_id={self.company_id!r}, "
            f"division={self.division!r}, needs_sign_in={self.needs_sign_in!r})"
        )


class RunRow(Base):
    """One run of a flow for a company and a period: who started it, how it
    went, and its counts. At most one run per company is queued or running
    (the partial unique index), so a company's runs never overlap."""

    __tablename__ = "run"
    __table_args__ = (
        Index(
            "ix_run_active_company",
            "company_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    flow: Mapped[str] = mapped_column(String(20))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(10))
    started_by: Mapped[str] = mapped_column(String(200))
    documents: Mapped[str | None] = mapped_column(Text)
    """Refs of the chosen documents, one per line; None for the period."""
    status: Mapped[str] = mapped_column(String(12))
    message: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    """host:pid of the process running it, to tell a crashed run."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked: Mapped[int] = mapped_column(Integer, default=0)
    linked: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    payments: Mapped[int] = mapped_column(Integer, default=0)
    already_done: Mapped[int] = mapped_column(Integer, default=0)
    exact_calls: Mapped[int] = mapped_column(Integer, default=0)

    company: Mapped[CompanyRow] = relationship()


class RunDocumentRow(Base):
    """What a run did with one document (or, for payments, one document
    whose payment state changed)."""

    __tablename__ = "run_document"
    __table_args__ = (UniqueConstraint("run_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("run.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(12))
    entry_number: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[str | None] = mapped_column(String(36))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    exact_message: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """*Mark as handled* on a failed outcome: it leaves the open problems."""
    handled_by: Mapped[str | None] = mapped_column(String(64))


class TermsAcceptanceRow(Base):
    """A company's acceptance of a version of the terms and conditions."""

    __tablename__ = "terms_acceptance"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(64))
    accepted_by: Mapped[str] = mapped_column(String(200))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentTermRow(Base):
    """A cash-flow term of an entry, as `sync/Cashflow/PaymentTerms` last
    gave it; a payment splits a term, so an entry may have several."""

    __tablename__ = "payment_term"
    __table_args__ = (UniqueConstraint("company_id", "exact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    exact_id: Mapped[str] = mapped_column(String(36))
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    line_type: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Cents())
    paid: Mapped[bool] = mapped_column(Boolean)
    last_payment_on: Mapped[date | None] = mapped_column(Date)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class PaymentImportStateRow(Base):
    """Where a company's payments import stands in Exact's sync feed."""

    __tablename__ = "payment_import_state"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    division: Mapped[int] = mapped_column(Integer)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)


class NoticeRow(Base):
    """Something users must see: a failed automatic run, for instance."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("run.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DailyRunClaimRow(Base):
    """A daily run of a flow on a local day, claimed once however many ticks
    or processes see it due."""

    __tablename__ = "daily_run_claim"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("run.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserRow(Base):
    """A person who signs in to the web pages; only a hash of the password
    is kept (`ledgerbridge.users`)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    companies: Mapped[list[UserCompanyRow]] = relationship(cascade="all, delete-orphan")


class UserCompanyRow(Base):
    """A company a bookkeeper or viewer may see; an admin sees every one."""

    __tablename__ = "app_user_company"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    company_ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class UserSessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, never the
    token itself, and the token its forms must send back (CSRF)."""

    __tablename__ = "app_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[UserRow] = relationship()
