"""Connecting a company to Exact Online: the sign-in, as one use case.

`ledgerbridge connect` uses it now and the web UI's "Connect" button will
(API.md §3.1, §3.5):

```
authorization URL, with a random state    authorization_url (oauth.py)
  → the person signs in at Exact and ticks the administrations
  → Exact redirects to the app's redirect URI with ?code=…&state=…
    (a local callback, a pasted URL, or a web route)
  → the state is checked, the code exchanged  finish_sign_in
  → current/Me and system/Divisions with the new tokens
  → the company's division chosen: the one asked for, or the only one granted
```

Nothing here touches the database: the result is a `SignedIn` that the
caller stores (`ledgerbridge.wiring.connect_company`). Until the division is
chosen the new tokens live in `SignInTokens`, in memory, so a refused,
abandoned or ambiguous sign-in leaves a company's existing connection as it
was. Tokens never appear in a repr or a message here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2

from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.oauth import (
    ExactApp,
    TokenEndpoint,
    authorization_url,
    code_from_redirect,
)
from ledgerbridge.exact.tokens import TokenPair

RedirectSource = Callable[[str], str]
"""Shows the authorization URL to the person signing in and returns the full
URL Exact redirected their browser to."""


@dataclass(frozen=True)
class Division:
    """An administration the sign-in granted (`system/Divisions`)."""

    code: int
    name: str
    country: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Division:
        country = str(row.get("Country") or "").strip()
        return cls(
            code=int(row["Code"]),
            name=str(row.get("Description") or "").strip(),
            country=country or None,
        )

    def __str__(self) -> str:
        where = f" ({self.country})" if self.country else ""
        name = f" {self.name}" if self.name else ""
        return f"{self.code}{name}{where}"


class DivisionNotChosen(Exception):
    """The sign-in worked, but which administration is the company's cannot
    be decided: none was granted, several were and none was asked for, or the
    one asked for was not granted. Nothing was stored."""

    def __init__(self, message: str, divisions: Sequence[Division]) -> None:
        super().__init__(message)
        self.divisions = tuple(divisions)


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-in, ready to store."""

    pair: TokenPair
    division: Division
    divisions: tuple[Division, ...]
    """Every administration the sign-in granted."""
    user: str | None
    """Who signed in, as Exact names them (`current/Me`)."""
    limits: RateLimits | None = None
    """The chosen division's rate limits, when the listing was asked on it."""


class SignInTokens:
    """A token store in memory for the calls of the sign-in itself
    (`TokenStore` and `LockedTokens` at once); nothing is persisted."""

    def __init__(self, pair: TokenPair) -> None:
        self.pair: TokenPair | None = pair
        self.needs_sign_in = False
        self.reason: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SignInTokens({self.pair!r})"

    def current(self, connection: int) -> TokenPair | None:
        return self.pair

    @contextmanager
    def locked(self, connection: int) -> Iterator[SignInTokens]:
        with self._lock:
            yield self

    def save(self, pair: TokenPair) -> None:
        self.pair = pair

    def mark_needs_sign_in(self, connection: int, reason: str) -> None:
        self.needs_sign_in = True
        self.reason = reason


def choose_division(granted: Sequence[Division], requested: int | None) -> Division:
    """The company's division: `requested` if it was granted; otherwise the
    only one granted. Raises `DivisionNotChosen` with a sentence saying what
    to do."""
    listed = ", ".join(str(division) for division in granted)
    if requested is not None:
        for division in granted:
            if division.code == requested:
                return division
        if not granted:
            raise DivisionNotChosen(
                f"Exact granted no administration at sign-in, so division "
                f"{requested} cannot be used. Connect again and tick it on "
                "Exact's consent screen.",
                granted,
            )
        raise DivisionNotChosen(
            f"Division {requested} was not granted at sign-in (granted: "
            f"{listed}). Connect again and tick it on Exact's consent screen, "
            "or choose one of these with --division.",
            granted,
        )
    if len(granted) == 1:
        return granted[0]
    if not granted:
        raise DivisionNotChosen(
            "Exact granted no administration at sign-in. Connect again and "
            "tick the company's administration on Exact's consent screen.",
            granted,
        )
    raise DivisionNotChosen(
        f"Exact granted {len(granted)} administrations ({listed}); say which one "
        "is the company's: connect again with --division CODE.",
        granted,
    )


def finish_sign_in(
    app: ExactApp,
    base_url: str,
    http: httpx2.Client,
    clock: Clock,
    redirect_url: str,
    expected_state: str,
    *,
    division: int | None = None,
) -> SignedIn:
    """From the URL Exact redirected to, the company's tokens and division.

    Raises `StateMismatch` when the redirect does not answer this sign-in,
    `ConnectionProblem` when Exact granted nothing or refused the code, any
    other `ExactError` of the two calls, and `DivisionNotChosen`.
    """
    code = code_from_redirect(redirect_url, expected_state)
    endpoint = TokenEndpoint(app, base_url, http, clock)
    tokens = SignInTokens(endpoint.exchange_code(code))

    def client(for_division: int) -> ExactClient:
        return ExactClient(
            http=http,
            base_url=base_url,
            division=for_division,
            connection=0,
            store=tokens,
            tokens=endpoint,
            governor=RateGovernor(for_division, clock),
            clock=clock,
        )

    me = resources.me(client(0))
    # The listing answers on any division's URL (API.md §3.5); Exact's own
    # clients ask on the current one.
    current = _int(me.get("CurrentDivision"))
    listing = client(current)
    granted = [Division.from_row(row) for row in resources.divisions(listing)]
    granted.sort(key=lambda found: found.code)
    chosen = choose_division(granted, division)
    limits = listing.limits if chosen.code == current else None
    pair = tokens.pair
    if pair is None:  # pragma: no cover - SignInTokens never clears its pair
        raise RuntimeError("the sign-in lost its tokens")
    user = me.get("FullName") or me.get("UserName")
    return SignedIn(
        pair=pair,
        division=chosen,
        divisions=tuple(granted),
        user=str(user) if user else None,
        limits=None if limits is None or limits.empty else limits,
    )


def sign_in(
    app: ExactApp,
    base_url: str,
    http: httpx2.Client,
    clock: Clock,
    redirect_from: RedirectSource,
    *,
    division: int | None = None,
) -> SignedIn:
    """The whole sign-in in one call, for a caller that can wait for the
    redirect (the CLI); a web UI calls `authorization_url` in one request
    and `finish_sign_in` in the callback's."""
    start = authorization_url(app, base_url)
    redirect_url = redirect_from(start.url)
    return finish_sign_in(
        app, base_url, http, clock, redirect_url, start.state, division=division
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
