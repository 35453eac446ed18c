"""API keys: created once and shown once, kept only as a hash.

A key reads `lb_<prefix>_<secret>`. The prefix finds the row; the secret is
compared against its SHA-256 (a 256-bit random secret needs no slow hash).
A key may be limited to some companies, named by their reference.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.storage.tables import ApiKeyCompanyRow, ApiKeyRow
from ledgerbridge.storage.types import utcnow

PREFIX_BYTES = 6
SECRET_BYTES = 32
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's name and the companies it may reach."""

    key_name: str
    companies: frozenset[str] | None
    """None: every company."""

    def may_reach(self, company_ref: str) -> bool:
        return self.companies is None or company_ref in self.companies


def create(
    session: Session, name: str, companies: Sequence[str] = ()
) -> tuple[ApiKeyRow, str]:
    """A new key and its plaintext, which is never stored and never shown again."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    row = ApiKeyRow(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        companies=[ApiKeyCompanyRow(company_ref=ref) for ref in sorted(set(companies))],
    )
    session.add(row)
    session.flush()
    return row, f"lb_{prefix}_{secret}"


def authenticate(session: Session, presented: str) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "lb":
        return None
    _, prefix, secret = parts
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None

    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    refs = frozenset(c.company_ref for c in row.companies)
    return Principal(row.name, refs or None)


def list_keys(session: Session) -> Sequence[ApiKeyRow]:
    return session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()


def revoke(session: Session, prefix: str) -> ApiKeyRow | None:
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
