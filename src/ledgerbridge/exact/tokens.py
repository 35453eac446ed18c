"""Tokens of one Exact connection and the rules for refreshing them.

Exact rotates the refresh token on every refresh and refuses a refresh
earlier than 570 s after the pair was issued (API.md §3.3); two workers that
refresh with the same token kill the chain (§3.4). So a refresh happens only
inside the store's lock, after re-reading what another worker may already
have stored, and the new pair is stored before it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

ACCESS_LIFETIME = timedelta(seconds=600)
REFRESH_FLOOR = timedelta(seconds=570)  # never refresh earlier than this
REFRESH_WINDOW = timedelta(seconds=30)  # refresh in the last 30 s


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    issued_at: datetime
    """When Exact issued the pair (aware, UTC); the 570 s floor counts from here."""
    expires_at: datetime

    def __repr__(self) -> str:  # never show a token
        return (
            f"TokenPair(issued_at={self.issued_at!r}, expires_at={self.expires_at!r})"
        )

    def needs_refresh(self, now: datetime) -> bool:
        """In the last 30 s of the access token, or after it expired."""
        return now >= self.expires_at - REFRESH_WINDOW

    def may_refresh(self, now: datetime) -> bool:
        """Exact refuses a refresh within 570 s of issue."""
        return now >= self.issued_at + REFRESH_FLOOR


class ConnectionState(Protocol):
    """What a token store knows of a connection besides its tokens."""

    needs_sign_in: bool
    reason: str | None


class TokenStore(Protocol):
    """Where one company's Exact tokens live, shared by threads and processes.

    `locked` yields the current pair (or None) while holding a lock that
    every thread and process respects (a row lock on PostgreSQL, `BEGIN
    IMMEDIATE` on SQLite); `save` inside it stores the new pair before the
    lock is released.
    """

    def current(self, connection: int) -> TokenPair | None:
        """The stored pair, read without a lock."""

    def locked(self, connection: int) -> AbstractContextManager[LockedTokens]:
        """Hold the connection's lock; see `LockedTokens`."""

    def mark_needs_sign_in(self, connection: int, reason: str) -> None:
        """The chain is dead: stop using it until someone signs in again."""


class LockedTokens(Protocol):
    pair: TokenPair | None
    needs_sign_in: bool
    reason: str | None

    def save(self, pair: TokenPair) -> None:
        """Store the new pair (encrypted) before the lock is released."""


Refresher = Callable[[str], TokenPair]
"""Exchanges a refresh token for a new pair (see `oauth.py`)."""
