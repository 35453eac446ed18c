"""People who sign in to the web pages: their passwords, roles, companies and
sign-in sessions.

A password is kept only as an Argon2id hash (argon2-cffi's defaults, RFC 9106's
low-memory profile); a hash made with older parameters is replaced by a fresh
one at the next successful sign-in. No password, hash or session token is ever
logged or put in a message.

Roles: an *admin* sees every company and may change settings and users; a
*bookkeeper* exports, imports and sets booking codes, and a *viewer* only
reads, both for the companies given to them (by reference) alone.

A sign-in session is a random token in the browser's cookie; the database
keeps its SHA-256 only, with the CSRF token the session's forms send back. A
session ends after `SESSION_IDLE` without a request, after `SESSION_LIFETIME`
whatever happens, at sign-out, and when its user is disabled.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ledgerbridge.storage.tables import (
    CompanyRow,
    UserCompanyRow,
    UserRow,
    UserSessionRow,
)
from ledgerbridge.storage.types import utcnow

logger = structlog.get_logger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]*")
USERNAME_MIN, USERNAME_MAX = 3, 64
PASSWORD_MIN, PASSWORD_MAX = 12, 256

SESSION_IDLE = timedelta(hours=1)
SESSION_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)

HASHER = PasswordHasher()
"""Replaced in tests by a cheaper one; a hash it did not make is rehashed."""


class Role(StrEnum):
    ADMIN = "admin"
    BOOKKEEPER = "bookkeeper"
    VIEWER = "viewer"


class UserError(Exception):
    """A user cannot be created as asked; the message says what to change."""


class UserExists(UserError):
    """The username is taken."""


class UnknownUser(UserError):
    """No user has this username."""


@dataclass(frozen=True, slots=True)
class User:
    """Who is signed in, and what they may see."""

    id: int
    username: str
    role: Role
    companies: frozenset[str] | None
    """The companies' references; None: every company (an admin)."""

    def may_see(self, company_ref: str) -> bool:
        return self.companies is None or company_ref in self.companies


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just opened: the token goes into the cookie (and nowhere
    else); the CSRF token into every form and htmx request of the session."""

    token: str
    csrf_token: str
    user: User


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_new_user(
    username: str, password: str, role: str, companies: Sequence[str]
) -> list[str]:
    """Every reason the user cannot be created, as sentences; empty when it
    can."""
    problems = []
    name = normalise_username(username)
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        problems.append(
            f"The username must be {USERNAME_MIN} to {USERNAME_MAX} characters "
            f"long (it has {len(name)})."
        )
    elif not USERNAME_PATTERN.fullmatch(name):
        problems.append(
            "The username may hold only letters, digits and . _ @ - "
            "(and starts with a letter or digit)."
        )
    if len(password) < PASSWORD_MIN:
        problems.append(
            f"The password must be at least {PASSWORD_MIN} characters long "
            f"(it has {len(password)})."
        )
    elif len(password) > PASSWORD_MAX:
        problems.append(f"The password must be at most {PASSWORD_MAX} characters.")
    elif name and password.strip().lower() == name:
        problems.append("The password must not be the username.")
    if role not in {r.value for r in Role}:
        choices = ", ".join(r.value for r in Role)
        problems.append(f"The role {role!r} is not known; choose one of {choices}.")
    elif role == Role.ADMIN and companies:
        problems.append(
            "An admin sees every company: leave out the companies for an admin."
        )
    return problems


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    companies: Sequence[str] = (),
) -> UserRow:
    """A new user (flushed, not committed). Raises `UserError` with every
    problem, `UserExists` when the username is taken; a company must exist."""
    problems = check_new_user(username, password, role, companies)
    refs = sorted({ref.strip() for ref in companies if ref.strip()})
    if refs and not problems:
        known = set(
            session.scalars(select(CompanyRow.ref).where(CompanyRow.ref.in_(refs)))
        )
        problems += [
            f"No company has the reference {ref!r}; see 'ledgerbridge companies list'."
            for ref in refs
            if ref not in known
        ]
    if problems:
        raise UserError(" ".join(problems))
    name = normalise_username(username)
    if find_user(session, name) is not None:
        raise UserExists(f"A user named {name!r} exists already.")

    row = UserRow(
        username=name,
        password_hash=HASHER.hash(password),
        role=Role(role).value,
        companies=[UserCompanyRow(company_ref=ref) for ref in refs],
    )
    session.add(row)
    session.flush()
    logger.info("user.created", username=name, role=row.role, companies=refs)
    return row


def find_user(session: Session, username: str) -> UserRow | None:
    name = normalise_username(username)
    return session.scalar(select(UserRow).where(UserRow.username == name))


def list_users(session: Session) -> Sequence[UserRow]:
    return session.scalars(select(UserRow).order_by(UserRow.username)).all()


def user_of(row: UserRow) -> User:
    role = Role(row.role)
    refs = frozenset(c.company_ref for c in row.companies)
    return User(row.id, row.username, role, None if role == Role.ADMIN else refs)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password is theirs and they are not disabled; None
    otherwise, in about the same time whether the username exists or not.

    A hash made with other parameters than `HASHER`'s is replaced (flushed)."""
    if len(password) > PASSWORD_MAX or len(username) > USERNAME_MAX * 4:
        _refused(username, "too long")
        return None
    row = find_user(session, username)
    if row is None:
        _verify(_dummy_hash(), password)
        _refused(username, "unknown user")
        return None
    if not _verify(row.password_hash, password):
        _refused(username, "wrong password")
        return None
    if row.disabled:
        _refused(username, "disabled")
        return None
    if _needs_rehash(row.password_hash):
        row.password_hash = HASHER.hash(password)
        session.flush()
        logger.info("user.password_rehashed", username=row.username)
    return user_of(row)


def visible_companies(session: Session, user: User) -> list[CompanyRow]:
    """The companies `user` may see, by name."""
    query = select(CompanyRow).order_by(CompanyRow.name, CompanyRow.ref)
    if user.companies is not None:
        query = query.where(CompanyRow.ref.in_(sorted(user.companies)))
    return list(session.scalars(query))


def visible_company(session: Session, user: User, ref: str) -> CompanyRow | None:
    """The company when it exists and `user` may see it; None otherwise (the
    two are not told apart)."""
    if not user.may_see(ref):
        return None
    return session.scalar(select(CompanyRow).where(CompanyRow.ref == ref))


def set_disabled(session: Session, username: str, disabled: bool) -> UserRow:
    """Disable (or enable again) a user; disabling ends their sessions."""
    row = find_user(session, username)
    if row is None:
        raise UnknownUser(f"No user is named {normalise_username(username)!r}.")
    row.disabled = disabled
    if disabled:
        session.execute(delete(UserSessionRow).where(UserSessionRow.user_id == row.id))
    session.flush()
    return row


# Sign-in sessions


def open_session(
    session: Session, user: User, replacing: str | None = None
) -> SignedIn:
    """A new session for `user` (flushed). The session the browser had, if
    any, ends: a session token is never reused across a sign-in."""
    now = utcnow()
    if replacing:
        close_session(session, replacing)
    session.execute(
        delete(UserSessionRow).where(
            or_(
                UserSessionRow.last_seen_at < now - SESSION_IDLE,
                UserSessionRow.created_at < now - SESSION_LIFETIME,
            )
        )
    )
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        UserSessionRow(
            id=_digest(token),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    logger.info("user.signed_in", username=user.username)
    return SignedIn(token, csrf_token, user)


def session_user(session: Session, token: str) -> tuple[User, str] | None:
    """The user of a live session and its CSRF token; None when the token is
    unknown, the session expired (it is then removed) or the user is
    disabled. Notes the request (flushed) at most once a minute."""
    row = session.get(UserSessionRow, _digest(token))
    if row is None:
        return None
    now = utcnow()
    if (
        _expired(row, now)
        or row.user.disabled
        or row.user.role not in {r.value for r in Role}
    ):
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return user_of(row.user), row.csrf_token


def close_session(session: Session, token: str) -> None:
    """End the session of `token` (flushed); nothing when there is none."""
    session.execute(delete(UserSessionRow).where(UserSessionRow.id == _digest(token)))
    session.flush()


def count_sessions(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(UserSessionRow)
            .where(UserSessionRow.user_id == user_id)
        )
        or 0
    )


def _refused(username: str, why: str) -> None:
    logger.info(
        "user.sign_in_refused", username=normalise_username(username)[:64], why=why
    )


def _expired(row: UserSessionRow, now: datetime) -> bool:
    return (
        now - row.last_seen_at > SESSION_IDLE or now - row.created_at > SESSION_LIFETIME
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _needs_rehash(password_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    """A hash no password matches, checked when the username is unknown so
    that the answer takes as long as for a known one."""
    return HASHER.hash(secrets.token_urlsafe(32))
