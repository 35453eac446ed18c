"""The sandbox's OAuth 2.0 authorisation server: apps, users, codes, tokens.

Logic only, no web framework (`oauth_routes.py` puts it on HTTP). Wire
reference: ``/work/shared/exact-online/API.md``

* §3.1 authorization-code flow: codes contain ``!``, live 180 s, are single
  use; client credentials normally come in the form body, HTTP Basic is
  accepted too; client ids are GUIDs, also accepted wrapped in braces.
* §3.2 token response: ``expires_in`` is the *string* ``"600"``; tokens are
  opaque, long and carry a data-centre stamp prefix (``stampNL001.``).
* §3.3 lifetimes and rules: access token 600 s; refresh tokens rotate on
  every refresh and live 30 days; no refresh before 570 s (the 2026 shape:
  400 ``access_denied`` + ``Reason`` header); at most 200 token calls per app
  per user per UTC day; the token-endpoint error catalogue.
* §3.4 concurrency: one lock, so of two refreshes with the same refresh
  token the first wins and the second gets "Old refresh token used.".
* §3.5 / §5 division scoping: a `Grant` carries the divisions the user ticked
  at consent; the REST layer answers 403 ``NoDivisionAccess`` for others.
* §3.4 last bullets: an unknown or expired bearer token on a REST call is a
  401 whose reason is in ``WWW-Authenticate`` ("access token expired").

Every time decision reads the sandbox `Clock`, so tests move time instead of
waiting. Nothing here logs, and no error message contains a token.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import string
import threading
import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from ledgerbridge.sandbox.clock import Clock

STAMP = "stampNL001"
"""Data-centre prefix of every token (API.md §3.2)."""

ACCESS_TOKEN_LIFETIME = timedelta(seconds=600)
EARLIEST_REFRESH = timedelta(seconds=570)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(seconds=180)
TOKEN_CALLS_PER_DAY = 200

# How long records are kept after they stop working, only so that the answer
# stays the specific one ("access token expired", "The refresh token expired
# at …") rather than the generic "unknown token" one; after that they are
# dropped so a long-running sandbox's snapshot does not grow forever.
_EXPIRED_ACCESS_TOKEN_MEMORY = timedelta(days=1)
_EXPIRED_REFRESH_TOKEN_MEMORY = timedelta(days=365)

_SNAPSHOT_VERSION = 1

# The invalid_grant text Exact gives for a refresh token or code it does not
# (or no longer) know (API.md §3.3 catalogue, picqer#573, websmurf#25).
_UNKNOWN_CHAIN = "Token is not allowed, because of invalid or empty chainId"
_TOO_EARLY = "Rate limit exceeded: access_token not expired"
_OLD_REFRESH_USED = "Old refresh token used."

_CHALLENGE_INVALID = 'Bearer error="invalid_token", error_description="invalid token"'
_CHALLENGE_EXPIRED = (
    'Bearer error="invalid_token", error_description="access token expired"'
)

_LANGUAGE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")
_CODE_PREFIX_ALPHABET = string.ascii_letters + string.digits


@dataclass
class App:
    """A registered client application ("API key" in Exact's words)."""

    client_id: str
    # Not in repr, so printing an App (or a failing assert) shows no secret.
    client_secret: str = field(repr=False)
    redirect_uri: str


@dataclass
class User:
    """An Exact user who can sign in on the consent page (API.md §5 `Me`)."""

    username: str
    password: str = field(repr=False)
    full_name: str
    email: str
    language: str


@dataclass(frozen=True)
class Grant:
    """Who a valid access token speaks for, and for which divisions."""

    client_id: str
    username: str
    divisions: frozenset[int]


class TokenError(Exception):
    """An answer of the token endpoint other than 200 (API.md §3.3)."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {description or ''}".rstrip(": "))
        self.status = status
        self.error = error
        self.description = description
        # Sent as the `Reason` response header when set.
        self.reason = reason


class AuthError(Exception):
    """A REST call's bearer token is missing, unknown or expired: 401."""

    def __init__(self, www_authenticate: str) -> None:
        super().__init__(www_authenticate)
        self.www_authenticate = www_authenticate


class ConsentError(ValueError):
    """The authorisation request or the consent cannot be honoured: unknown
    client, redirect URI not the registered one, unknown user, no division."""


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    username: str
    divisions: frozenset[int]
    issued_at: datetime


@dataclass
class _AccessToken:
    grant: Grant
    expires_at: datetime


@dataclass
class _RefreshToken:
    grant: Grant
    issued_at: datetime
    # issued_at + 570 s normally; `expire_access_tokens` pulls it to "now".
    refresh_not_before: datetime
    used: bool = False

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + REFRESH_TOKEN_LIFETIME


def _invalid_request() -> TokenError:
    # Exact answers a wrong client id/secret or a malformed request with a
    # bare {"error":"invalid_request"} (API.md §3.3, picqer#553).
    return TokenError(400, "invalid_request")


def _unknown_chain() -> TokenError:
    return TokenError(400, "invalid_grant", _UNKNOWN_CHAIN)


def normalize_client_id(raw: str) -> str:
    """`{B81CC4DE-…}` → `b81cc4de-…`: braces are sent by some clients
    (API.md §3.1) and a GUID's case carries no meaning."""
    value = raw.strip()
    if value.startswith("{") and value.endswith("}"):
        value = value[1:-1].strip()
    return value.lower()


def exact_timestamp(moment: datetime) -> str:
    """`10/11/2022 9:18:20 PM`: the US style of the "refresh token expired"
    message (API.md §3.3, websmurf#23). Exact does not say which zone it
    means; the sandbox uses UTC, the zone of its clock."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment.month}/{moment.day}/{moment.year} "
        f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}"
    )


def _secrets_equal(given: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str, and a form can carry any text.
    return hmac.compare_digest(given.encode(), expected.encode())


def _random_code_like(stamp: str | None) -> str:
    """Opaque and long like Exact's: `XTzM!IAAA…` (API.md §3.1, §3.2). The
    `!` makes clients that forget to URL-encode or -decode fail here."""
    prefix = "".join(secrets.choice(_CODE_PREFIX_ALPHABET) for _ in range(4))
    body = f"{prefix}!IAAAA{secrets.token_urlsafe(330)}"
    return f"{stamp}.{body}" if stamp else body


class OAuthServer:
    """Registered apps, users, authorisation codes and token chains."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        # Overridable per instance, e.g. to drill the limit with fewer calls.
        self.token_calls_per_day = TOKEN_CALLS_PER_DAY
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._token_calls: dict[tuple[str, str, str], int] = {}
        # What the token endpoint answered, by grant and outcome: the fault
        # drills count refused refreshes ("refresh_token:unauthorized_client").
        self.token_outcomes: Counter[str] = Counter()
        # Re-entrant: public methods call each other under the lock. Holding
        # it through a refresh makes the first of two concurrent refreshes
        # win and the second get "Old refresh token used." (§3.4).
        self._lock = threading.RLock()
        self._revision = 0
        self.add_user(
            "sandbox",
            "sandbox",
            full_name="Sandbox Gebruiker",
            email="sandbox@example.com",
            language="nl-NL",
        )

    @property
    def revision(self) -> int:
        """Grows on every state change, so callers can persist only then."""
        return self._revision

    def _touch(self) -> None:
        self._revision += 1

    # -- administration ------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        *,
        full_name: str | None = None,
        email: str | None = None,
        language: str = "nl-NL",
    ) -> User:
        if not username or not password:
            raise ValueError("a user needs a username and a password")
        if not _LANGUAGE.match(language):
            raise ValueError(f"language must look like nl-NL or en-GB: {language!r}")
        with self._lock:
            if username in self.users:
                raise ValueError(f"user {username!r} exists already")
            user = User(
                username=username,
                password=password,
                full_name=full_name if full_name is not None else username,
                email=email if email is not None else f"{username}@example.com",
                language=language,
            )
            self.users[username] = user
            self._touch()
            return user

    def register_app(
        self,
        redirect_uri: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> App:
        """A new app with a random GUID and secret (fixed ones on request,
        for reproducible setups)."""
        parts = urlsplit(redirect_uri)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"redirect URI must be an absolute URL: {redirect_uri!r}")
        if parts.fragment:
            raise ValueError("a redirect URI must not have a fragment (RFC 6749)")
        if client_id is None:
            new_id = str(uuid.uuid4())
        else:
            try:
                new_id = str(uuid.UUID(normalize_client_id(client_id)))
            except ValueError:
                raise ValueError(f"client id must be a GUID: {client_id!r}") from None
        app = App(
            client_id=new_id,
            client_secret=client_secret or secrets.token_urlsafe(24),
            redirect_uri=redirect_uri,
        )
        with self._lock:
            if new_id in self.apps:
                raise ValueError(f"app {new_id} exists already")
            self.apps[new_id] = app
            self._touch()
        return app

    def app_for(self, client_id: str, redirect_uri: str) -> App:
        """The app an authorisation request names, if `redirect_uri` is the
        one it registered (exact match, so the sandbox never redirects a code
        anywhere else)."""
        with self._lock:
            app = self.apps.get(normalize_client_id(client_id))
        if app is None:
            raise ConsentError("Unknown client_id.")
        if redirect_uri != app.redirect_uri:
            raise ConsentError("redirect_uri is not the one registered for this app.")
        return app

    def sign_in(self, username: str, password: str) -> User | None:
        """The user, if the password is theirs."""
        with self._lock:
            user = self.users.get(username)
        # Compare even for an unknown user, so timing tells nothing.
        expected = user.password if user is not None else secrets.token_hex(16)
        if _secrets_equal(password, expected) and user is not None:
            return user
        return None

    def expire_access_tokens(self) -> None:
        """Every access token expires now (admin fault drill).

        Exact refuses a refresh with "access_token not expired"; once the
        access token is gone that reason no longer holds, so the drill also
        lifts the 570-s wait. Otherwise a client that reacts to the 401 by
        refreshing, as it should (§3.4), would be refused for nine minutes.
        """
        with self._lock:
            now = self.clock.now()
            for access in self._access_tokens.values():
                access.expires_at = min(access.expires_at, now)
            for refresh in self._refresh_tokens.values():
                refresh.refresh_not_before = min(refresh.refresh_not_before, now)
            self._touch()

    # -- consent and token endpoint -------------------------------------------

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        username: str,
        divisions: Collection[int],
    ) -> str:
        """The authorisation code handed to `redirect_uri` after consent."""
        with self._lock:
            app = self.app_for(client_id, redirect_uri)
            if username not in self.users:
                raise ConsentError("Unknown user.")
            granted = frozenset(int(division) for division in divisions)
            if not granted:
                raise ConsentError("Select at least one division.")
            self._forget_stale()
            code = _random_code_like(None)
            self._codes[code] = _Code(
                client_id=app.client_id,
                redirect_uri=redirect_uri,
                username=username,
                divisions=granted,
                issued_at=self.clock.now(),
            )
            self._touch()
            return code

    def token(
        self, form: Mapping[str, str], authorization: str | None
    ) -> dict[str, str]:
        """The token endpoint: a new token pair, or `TokenError`."""
        with self._lock:
            self._forget_stale()
            grant_type = form.get("grant_type")
            if grant_type not in {"authorization_code", "refresh_token"}:
                # Exact has no unsupported_grant_type; everything malformed
                # is a bare invalid_request (API.md §3.3).
                raise _invalid_request()
            try:
                app = self._client(form, authorization)
                if grant_type == "authorization_code":
                    answer = self._redeem_code(app, form)
                else:
                    answer = self._refresh(app, form)
            except TokenError as exc:
                self.token_outcomes[f"{grant_type}:{exc.error}"] += 1
                raise
            self.token_outcomes[f"{grant_type}:ok"] += 1
            return answer

    def _client(self, form: Mapping[str, str], authorization: str | None) -> App:
        form_id = form.get("client_id")
        form_secret = form.get("client_secret")
        basic = _basic_credentials(authorization)
        if basic is not None:
            basic_id, basic_secret = basic
            # Both ways at once is allowed only if they agree (RFC 6749 says
            # use one; refusing a contradiction is the safe reading).
            if form_id is not None and normalize_client_id(
                form_id
            ) != normalize_client_id(basic_id):
                raise _invalid_request()
            if form_secret is not None and form_secret != basic_secret:
                raise _invalid_request()
            client_id, client_secret = basic_id, basic_secret
        elif form_id is None or form_secret is None:
            raise _invalid_request()
        else:
            client_id, client_secret = form_id, form_secret
        app = self.apps.get(normalize_client_id(client_id))
        if app is None:
            raise _invalid_request()
        accepted = _secrets_equal(client_secret, app.client_secret)
        if basic is not None and not accepted:
            # RFC 6749 §2.3.1 form-encodes the secret before base64; many
            # clients do not. Accept either reading.
            accepted = _secrets_equal(unquote_plus(client_secret), app.client_secret)
        if not accepted:
            raise _invalid_request()
        return app

    def _redeem_code(self, app: App, form: Mapping[str, str]) -> dict[str, str]:
        code = form.get("code")
        redirect_uri = form.get("redirect_uri")
        if not code or redirect_uri is None:
            raise _invalid_request()
        record = self._codes.get(code)
        # A code of another app is, for this app, no code at all.
        if record is None or record.client_id != app.client_id:
            # Decision: a re-used (or unknown, or expired) code gets the JSON
            # invalid_grant answer, not the plain "Bad Request" that API.md
            # §3.3 also lists. The JSON body comes from recorded error bodies
            # (picqer#573, websmurf#25), the plain one from README prose that
            # most likely quotes the HTTP client's exception text; and §3.3
            # says the token endpoint's errors are all JSON, so client code
            # needs only one parser.
            raise _unknown_chain()
        self._count_call(app.client_id, record.username)
        if self.clock.now() >= record.issued_at + CODE_LIFETIME:
            del self._codes[code]
            self._touch()
            raise _unknown_chain()
        if redirect_uri != record.redirect_uri:
            # Malformed rather than a bad grant; the code stays redeemable,
            # so a typo in the client's config costs no new consent.
            raise _invalid_request()
        del self._codes[code]  # single use (API.md §3.1)
        grant = Grant(app.client_id, record.username, record.divisions)
        return self._issue_pair(grant)

    def _refresh(self, app: App, form: Mapping[str, str]) -> dict[str, str]:
        value = form.get("refresh_token")
        if not value:
            raise _invalid_request()
        record = self._refresh_tokens.get(value)
        if record is None or record.grant.client_id != app.client_id:
            raise _unknown_chain()
        self._count_call(app.client_id, record.grant.username)
        now = self.clock.now()
        if record.used:
            # A used refresh token does not revoke its successors: Exact
            # documents no such revocation, and the winner of a concurrent
            # refresh (§3.4) keeps working.
            raise TokenError(401, "unauthorized_client", _OLD_REFRESH_USED)
        if now >= record.expires_at:
            raise TokenError(
                400,
                "invalid_request",
                f"The refresh token expired at {exact_timestamp(record.expires_at)}"
                f" and it is now {exact_timestamp(now)}.",
            )
        if now < record.refresh_not_before:
            # The 2026 shape (API.md §3.3 "two documented variants"). A
            # refused refresh leaves the refresh token usable.
            raise TokenError(
                400,
                "access_denied",
                _TOO_EARLY,
                reason=f"TooEarlyToRefreshTokens: {_TOO_EARLY}",
            )
        record.used = True
        # The old access token stays valid until its own expiry (at most
        # 30 s more, given the 570-s rule).
        return self._issue_pair(record.grant)

    def _count_call(self, client_id: str, username: str) -> None:
        """Count a token call against the app × user × UTC-day budget.

        Only calls that name a known code or refresh token of the app can be
        put on a user's account; the rest (bad credentials, unknown tokens)
        are refused without counting. Refused calls that can be attributed
        count too: Exact's budget is on calls, not on tokens issued.
        """
        day = self.clock.now().date().isoformat()
        key = (client_id, username, day)
        calls = self._token_calls.get(key, 0) + 1
        self._token_calls[key] = calls
        self._touch()
        if calls > self.token_calls_per_day:
            # Exact's wording for this limit is not on record; this follows
            # its early-refresh answer (same error, "Rate limit exceeded: …").
            # No Reason header: its value for this case is not documented.
            raise TokenError(
                400,
                "access_denied",
                "Rate limit exceeded: token endpoint limit of "
                f"{self.token_calls_per_day} calls per day reached",
            )

    def _issue_pair(self, grant: Grant) -> dict[str, str]:
        now = self.clock.now()
        access = f"{STAMP}.gAAAAA{secrets.token_urlsafe(330)}"
        refresh = _random_code_like(STAMP)
        self._access_tokens[access] = _AccessToken(
            grant=grant, expires_at=now + ACCESS_TOKEN_LIFETIME
        )
        self._refresh_tokens[refresh] = _RefreshToken(
            grant=grant, issued_at=now, refresh_not_before=now + EARLIEST_REFRESH
        )
        self._touch()
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(int(ACCESS_TOKEN_LIFETIME.total_seconds())),
            "refresh_token": refresh,
        }

    def _forget_stale(self) -> None:
        """Drop what can no longer change an answer (see the *_MEMORY
        constants); called on writes only, so reads stay read-only."""
        now = self.clock.now()
        codes = {
            code: record
            for code, record in self._codes.items()
            if now < record.issued_at + CODE_LIFETIME
        }
        access_tokens = {
            token: record
            for token, record in self._access_tokens.items()
            if now < record.expires_at + _EXPIRED_ACCESS_TOKEN_MEMORY
        }
        refresh_tokens = {
            token: record
            for token, record in self._refresh_tokens.items()
            if now < record.expires_at + _EXPIRED_REFRESH_TOKEN_MEMORY
        }
        today = now.date().isoformat()
        calls = {key: n for key, n in self._token_calls.items() if key[2] == today}
        if (
            len(codes) != len(self._codes)
            or len(access_tokens) != len(self._access_tokens)
            or len(refresh_tokens) != len(self._refresh_tokens)
            or len(calls) != len(self._token_calls)
        ):
            self._codes = codes
            self._access_tokens = access_tokens
            self._refresh_tokens = refresh_tokens
            self._token_calls = calls
            self._touch()

    # -- REST calls -----------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Grant:
        """The grant behind `Authorization: Bearer …`, or `AuthError`."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(_CHALLENGE_INVALID)
        with self._lock:
            record = self._access_tokens.get(token)
            if record is None:
                raise AuthError(_CHALLENGE_INVALID)
            if self.clock.now() >= record.expires_at:
                raise AuthError(_CHALLENGE_EXPIRED)
            return record.grant

    def token_calls_today(self, client_id: str, username: str) -> int:
        """Token calls counted today for the app and user (for inspection)."""
        day = self.clock.now().date().isoformat()
        with self._lock:
            return self._token_calls.get(
                (normalize_client_id(client_id), username, day), 0
            )

    # -- persistence ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot of the whole state (it holds live tokens and
        secrets: store it like a secret)."""
        with self._lock:
            return {
                "version": _SNAPSHOT_VERSION,
                "apps": [
                    {
                        "client_id": app.client_id,
                        "client_secret": app.client_secret,
                        "redirect_uri": app.redirect_uri,
                    }
                    for app in self.apps.values()
                ],
                "users": [
                    {
                        "username": user.username,
                        "password": user.password,
                        "full_name": user.full_name,
                        "email": user.email,
                        "language": user.language,
                    }
                    for user in self.users.values()
                ],
                "codes": {
                    code: {
                        "client_id": record.client_id,
                        "redirect_uri": record.redirect_uri,
                        "username": record.username,
                        "divisions": sorted(record.divisions),
                        "issued_at": record.issued_at.isoformat(),
                    }
                    for code, record in self._codes.items()
                },
                "access_tokens": {
                    token: {
                        **_grant_to_dict(record.grant),
                        "expires_at": record.expires_at.isoformat(),
                    }
                    for token, record in self._access_tokens.items()
                },
                "refresh_tokens": {
                    token: {
                        **_grant_to_dict(record.grant),
                        "issued_at": record.issued_at.isoformat(),
                        "refresh_not_before": record.refresh_not_before.isoformat(),
                        "used": record.used,
                    }
                    for token, record in self._refresh_tokens.items()
                },
                "token_calls": [
                    {
                        "client_id": client_id,
                        "username": username,
                        "day": day,
                        "calls": calls,
                    }
                    for (client_id, username, day), calls in self._token_calls.items()
                ],
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any], clock: Clock) -> OAuthServer:
        """The server `to_dict` saved, running on `clock`."""
        if data.get("version") != _SNAPSHOT_VERSION:
            raise ValueError(f"unknown OAuth snapshot version: {data.get('version')}")
        server = cls(clock)
        # The snapshot's users replace the default one (it is in there too,
        # unless it was deliberately removed).
        server.users = {
            item["username"]: User(
                username=item["username"],
                password=item["password"],
                full_name=item["full_name"],
                email=item["email"],
                language=item["language"],
            )
            for item in data["users"]
        }
        server.apps = {
            item["client_id"]: App(
                client_id=item["client_id"],
                client_secret=item["client_secret"],
                redirect_uri=item["redirect_uri"],
            )
            for item in data["apps"]
        }
        server._codes = {
            code: _Code(
                client_id=item["client_id"],
                redirect_uri=item["redirect_uri"],
                username=item["username"],
                divisions=frozenset(int(d) for d in item["divisions"]),
                issued_at=datetime.fromisoformat(item["issued_at"]),
            )
            for code, item in data["codes"].items()
        }
        server._access_tokens = {
            token: _AccessToken(
                grant=_grant_from_dict(item),
                expires_at=datetime.fromisoformat(item["expires_at"]),
            )
            for token, item in data["access_tokens"].items()
        }
        server._refresh_tokens = {
            token: _RefreshToken(
                grant=_grant_from_dict(item),
                issued_at=datetime.fromisoformat(item["issued_at"]),
                refresh_not_before=datetime.fromisoformat(item["refresh_not_before"]),
                used=bool(item["used"]),
            )
            for token, item in data["refresh_tokens"].items()
        }
        server._token_calls = {
            (item["client_id"], item["username"], item["day"]): int(item["calls"])
            for item in data["token_calls"]
        }
        server._revision = 0
        return server


def _grant_to_dict(grant: Grant) -> dict[str, Any]:
    return {
        "client_id": grant.client_id,
        "username": grant.username,
        "divisions": sorted(grant.divisions),
    }


def _grant_from_dict(item: Mapping[str, Any]) -> Grant:
    return Grant(
        client_id=item["client_id"],
        username=item["username"],
        divisions=frozenset(int(d) for d in item["divisions"]),
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from `Basic …`, the secret as sent; None
    when the header is absent or of another scheme."""
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError:  # bad base64, non-ASCII header text, not UTF-8
        raise _invalid_request() from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise _invalid_request()
    return unquote_plus(client_id), client_secret
