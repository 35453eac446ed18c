"""Every way a call to Exact Online can fail, as one tree (API.md §3.3, §4.3,
§6.7, §6.8).

```
ExactError                      method, path, division, status, message, reason
 ├── ConnectionProblem          sign-in and token problems
 │    ├── NeedsSignIn           the token chain is dead; `sentence` says that
 │    │                         someone must connect the company to Exact again
 │    ├── RefreshTooEarly       a refresh within 570 s of issue (§3.3)
 │    └── Unauthorized          a 401 that survived one refresh and retry
 ├── RateLimited                reset (aware, UTC), limit "minutely" | "daily"
 │    └── DailyLimitReached     a daily 429, or remaining under the reserve
 ├── Forbidden                  403, with Exact's `Reason` (NoDivisionAccess, …)
 ├── NotFound                   404
 ├── BadRequest                 400 and other 4xx: query syntax, unknown
 │                              property, mandatory $filter or $select (§6.4)
 ├── ValidationFailed           500 with Exact's error JSON: a business rule;
 │                              `messages` and a classified `kind` (§6.8)
 ├── Unavailable                5xx without Exact's error JSON on a read, or a
 │                              read's transport errors after its retries
 ├── ErrorBudgetExhausted       our own guard stopped calling the endpoint for
 │                              the division (8 errors in an hour, §4.1)
 └── OutcomeUnknown             a write whose outcome is unknown: timeout after
                                sending, dropped connection, 5xx without
                                Exact's error JSON. Never retried blind (§10.4).
```

Every error carries what identifies the call (`method`, `path` relative to
`/api/v1/{division}/`, `division`), the HTTP `status` (0 when no answer
came), Exact's `message` verbatim (or None), the `Reason` header (or None)
and the first 500 characters of the `body`. Its `str()` starts with the call:
`POST salesentry/SalesEntries (division 1001): 500 Ongeldig: Dagboek`.

`error_for` picks the class of an answer of the REST API, `token_error` that
of the token endpoint; nothing else decides. A 401 is always `Unauthorized`
here: whether to refresh and retry is the client's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any, Literal

from ledgerbridge.exact.limits import RateLimits

Limit = Literal["minutely", "daily"]
ValidationKind = Literal[
    "mandatory",
    "unknown_reference",
    "wrong_type",
    "closed_period",
    "entry_number_in_use",
    "not_balanced",
    "vat_code",
    "already_exists",
    "other",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Calls that change nothing at Exact, so their outcome is never in doubt."""

BODY_EVIDENCE_CHARS = 500
SIGN_IN_AGAIN = "Someone must connect the company to Exact again."
DAILY_LIMIT_SENTENCE = "daily limit reached, resumes after 00:00 UTC"


class ExactError(Exception):
    """A call to Exact Online failed; see the tree in the module docstring."""

    def __init__(
        self,
        method: str,
        path: str,
        division: int | None,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        body: str | None = None,
    ) -> None:
        # Exactly these six go to Exception, and every subclass accepts them
        # positionally: that is what unpickling calls the class with.
        super().__init__(method, path, division, status, message, reason)
        self.method = method
        self.path = path
        self.division = division
        self.status = status
        self.message = message
        self.reason = reason
        self.body = body

    @property
    def call(self) -> str:
        """What identifies the call: `POST crm/Accounts (division 1001)`."""
        what = " ".join(part for part in (self.method, self.path) if part)
        if self.division is None:
            return what or "Exact Online"
        if not what:
            return f"division {self.division}"
        return f"{what} (division {self.division})"

    @property
    def detail(self) -> str:
        """The failure itself, on one line, without the status."""
        lines = _lines(self.message or "")
        text = "; ".join(lines) if lines else _phrase(self.status)
        if self.reason and self.reason not in text:
            text = f"{text} (Reason: {self.reason})" if text else self.reason
        return text

    def __str__(self) -> str:
        status = f"{self.status} " if self.status else ""
        return f"{self.call}: {status}{self.detail}".rstrip()


class ConnectionProblem(ExactError):
    """Signing in or the tokens failed."""


class NeedsSignIn(ConnectionProblem):
    """The token chain is dead (old refresh token used, refresh token
    expired, consent revoked): nothing but a new sign-in helps, so the
    company's runs stop instead of looping."""

    def __init__(
        self,
        method: str,
        path: str,
        division: int | None,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        why: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(method, path, division, status, message, reason, body=body)
        self.sentence = _sign_in_sentence(why)
        """Plain English for the operator: what broke and what to do."""

    @classmethod
    def for_connection(cls, division: int | None, reason: str | None) -> NeedsSignIn:
        """The connection is known to be dead without a call, e.g. marked so
        earlier; `reason` is a short why or an earlier `sentence`."""
        return cls("", "", division, 0, why=reason)

    @property
    def detail(self) -> str:
        return self.sentence


class RefreshTooEarly(ConnectionProblem):
    """Exact refused a refresh within 570 s of the pair's issue (API.md
    §3.3); the refresh token stays valid, so wait and try again."""


class Unauthorized(ConnectionProblem):
    """A 401 on a REST call (API.md §3.4); the client raises it once a
    refresh and one retry did not help."""


class RateLimited(ExactError):
    """A 429 (API.md §4.3): wait until `reset` (aware UTC; None when Exact
    sent no reset header) before calling again."""

    def __init__(
        self,
        method: str,
        path: str,
        division: int | None,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        reset: datetime | None = None,
        limit: Limit = "minutely",
        body: str | None = None,
    ) -> None:
        super().__init__(method, path, division, status, message, reason, body=body)
        self.reset = reset
        self.limit: Limit = limit

    @property
    def detail(self) -> str:
        text = "minutely limit reached"
        if self.reset is not None:
            text += f", resets at {self.reset:%Y-%m-%d %H:%M:%S} UTC"
        return text


class DailyLimitReached(RateLimited):
    """The division's calls for today are used up, or down to the reserve
    we keep for what matters; Exact's day turns at 00:00 UTC (§4.3)."""

    def __init__(
        self,
        method: str,
        path: str,
        division: int | None,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        reset: datetime | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(
            method,
            path,
            division,
            status,
            message,
            reason,
            reset=reset,
            limit="daily",
            body=body,
        )
        self.sentence = DAILY_LIMIT_SENTENCE

    @classmethod
    def for_division(
        cls, division: int | None, reset: datetime | None
    ) -> DailyLimitReached:
        """Raised before calling: the remaining calls fell under the reserve."""
        return cls("", "", division, 0, reset=reset)

    @property
    def detail(self) -> str:
        return self.sentence


class Forbidden(ExactError):
    """A 403: no rights on the division, app scope or licence; `reason`
    holds Exact's `Reason` header (NoDivisionAccess, BlockedUser, …, §5)."""


class NotFound(ExactError):
    """A 404: an unknown path or entity."""


class BadRequest(ExactError):
    """A 400 (or another 4xx): Exact refused the request as it is, e.g.
    query syntax, an unknown property, a missing mandatory $filter (§6.4)."""


class ValidationFailed(ExactError):
    """A business rule refused the write: HTTP 500 with Exact's error JSON
    (API.md §6.7). `messages` are the lines of Exact's message; `kind` is
    the class of the first line that classifies (§6.8), else "other"."""

    def __init__(
        self,
        method: str,
        path: str,
        division: int | None,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        body: str | None = None,
    ) -> None:
        super().__init__(method, path, division, status, message, reason, body=body)
        self.messages: list[str] = _lines(message or "")
        kinds = [classify(line) for line in self.messages]
        self.kind: ValidationKind = next(
            (kind for kind in kinds if kind != "other"), "other"
        )


class Unavailable(ExactError):
    """A read failed on Exact's side or on the way (5xx without Exact's
    error JSON, transport errors) and its retries are spent."""


class ErrorBudgetExhausted(ExactError):
    """Our own guard: this endpoint failed 8 times in an hour for this
    division, so we stop before Exact blocks the app at 10 (API.md §4.1)."""


class OutcomeUnknown(ExactError):
    """A write may or may not have been applied: look the document up before
    sending it again (API.md §10.4). Never retried blind."""

    @property
    def detail(self) -> str:
        return f"{super().detail}; outcome unknown, look it up before sending again"


# Choosing the class


def error_for(
    method: str,
    path: str,
    division: int | None,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
) -> ExactError:
    """The error for Exact's answer `status`/`body`/`headers` to a call.

    `path` is the call's label, relative to `/api/v1/{division}/`; a path
    ending in `oauth2/token` is read as the token endpoint (`token_error`).
    """
    method = method.upper()
    if path.rstrip("/").endswith("oauth2/token"):
        return token_error(status, body, headers, method=method, path=path)

    parsed = _parse(body)
    lowered = {name.lower(): value for name, value in headers.items()}
    reason = lowered.get("reason")
    message = parsed.message
    evidence = _evidence(body)

    def build(cls: type[ExactError], text: str | None = message) -> ExactError:
        return cls(method, path, division, status, text, reason, body=evidence)

    if status == 400:
        return build(BadRequest)
    if status == 401:
        # Exact gives the reason of a 401 in WWW-Authenticate (§3.4).
        return build(Unauthorized, message or lowered.get("www-authenticate"))
    if status == 403:
        return build(Forbidden)
    if status == 404:
        return build(NotFound)
    if status == 429:
        return _rate_limited(method, path, division, status, message, reason, headers)
    if 400 <= status < 500:
        return build(BadRequest)
    if status == 500 and parsed.shape == "rest":
        return build(ValidationFailed)
    if status >= 500:
        return build(Unavailable if method in SAFE_METHODS else OutcomeUnknown)
    return build(ExactError)


def token_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    path: str = "oauth2/token",
) -> ConnectionProblem:
    """The error for a failed call to `/api/oauth2/token` (API.md §3.3)."""
    parsed = _parse(body)
    lowered = {name.lower(): value for name, value in headers.items()}
    reason = lowered.get("reason")
    code = (parsed.code or "").lower()
    text = parsed.message or ""
    evidence = _evidence(body)
    said = f' (Exact: "{text}")' if text else ""

    if "not expired" in text.lower() or "not expired" in (reason or "").lower():
        # 2026: 400 access_denied + Reason TooEarlyToRefreshTokens; the 2021
        # KB text: 401 with reason "Access Token not expired".
        return RefreshTooEarly(
            method, path, None, status, parsed.message, reason, body=evidence
        )
    why: str | None = None
    if code == "unauthorized_client" or "old refresh token used" in text.lower():
        why = (
            "the refresh token was already used, most likely by another worker "
            f"that refreshed first{said}"
        )
    elif code == "invalid_grant":
        why = f"Exact no longer knows the refresh token or the consent{said}"
    elif code == "invalid_request" and "refresh token expired" in text.lower():
        why = f"the refresh token expired: it was not used for 30 days{said}"
    if why is not None:
        return NeedsSignIn(
            method, path, None, status, parsed.message, reason, why=why, body=evidence
        )
    # Wrong client id or secret, a re-used code, the daily token-call budget,
    # Exact down: a new sign-in would not help, or not certainly.
    return ConnectionProblem(
        method, path, None, status, parsed.message, reason, body=evidence
    )


def exact_message(body: bytes) -> str | None:
    """Exact's message text in an error body, verbatim: `error.message.value`
    of the REST shape (§6.7) or `error_description` (else `error`) of the
    token endpoint's shape (§3.3); None for anything else."""
    return _parse(body).message


def classify(message: str) -> ValidationKind:
    """The kind of one line of a business-rule message, Dutch or English
    (API.md §6.8); "other" when no rule matches."""
    text = message.strip()
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return "other"


# The order matters: a line is of the first kind whose pattern matches, so
# "Ongeldige referentie: Btw-code" is an unknown reference, not a VAT code.
_PATTERNS: tuple[tuple[ValidationKind, str], ...] = (
    ("unknown_reference", r"^(ongeldige referentie|invalid reference)\b"),
    ("mandatory", r"^(verplicht|mandatory)\s*:"),
    (
        "closed_period",
        # "Ongeldig: Periode 2024-05": no such period in the period table.
        r"periode is afgesloten|period is closed"
        r"|^(ongeldig|invalid)\s*:\s*period",
    ),
    ("entry_number_in_use", r"^(in gebruik|in use)\s*:\s*(boekstuknummer|entry)"),
    ("not_balanced", r"niet in evenwicht|not balanced"),
    (
        "vat_code",
        # "Invoer 17: Het bedrag van de BTW regel …" / "Ongeldig: Btw-code"
        r"^(invoer|entry)\s+\d+\s*:.*\b(btw|vat)\b"
        r"|^(ongeldig|invalid)\s*:\s*(btw|vat)\b",
    ),
    (
        "wrong_type",
        # "(Type)", "Grootboekrekeningtype", "G/L account type", "is of a
        # wrong type", and a journal of the wrong type: "Ongeldig: Dagboek"
        r"^(ongeldig|invalid)\s*:.*type\b|wrong type"
        r"|^ongeldig\s*:\s*dagboek\b|^invalid\s*:\s*(diary|journal)\b",
    ),
    ("already_exists", r"bestaat reeds|already exists"),
)
_KINDS = tuple(
    (kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PATTERNS
)


# Reading answers


class _Parsed:
    """What an error body says: its shape ("rest", "token" or None), the
    token endpoint's `error` code and the message text."""

    __slots__ = ("code", "message", "shape")

    def __init__(
        self,
        shape: Literal["rest", "token"] | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        self.shape = shape
        self.message = message
        self.code = code


def _parse(body: bytes) -> _Parsed:
    try:
        # Exact writes its error JSON pretty-printed with CRLF (§6.7); JSON
        # allows that whitespace, and a BOM is dropped by utf-8-sig.
        data: Any = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return _Parsed()
    if not isinstance(data, dict):
        return _Parsed()
    error = data.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            message = message.get("value")
        return _Parsed("rest", _text(message))
    if isinstance(error, str):
        description = _text(data.get("error_description"))
        return _Parsed("token", description or _text(error), error)
    return _Parsed()


def _rate_limited(
    method: str,
    path: str,
    division: int | None,
    status: int,
    message: str | None,
    reason: str | None,
    headers: Mapping[str, str],
) -> RateLimited:
    # A 429 carries only the tripped limit's headers (§4.3); with both, a
    # daily remaining of 0 means the day is used up.
    limits = RateLimits.from_headers(headers)
    minutely = (limits.minutely_limit, limits.minutely_remaining, limits.minutely_reset)
    daily = (limits.daily_limit, limits.daily_remaining, limits.daily_reset)
    has_minutely = any(value is not None for value in minutely)
    has_daily = any(value is not None for value in daily)
    if limits.daily_remaining == 0 or (has_daily and not has_minutely):
        return DailyLimitReached(
            method, path, division, status, message, reason, reset=limits.daily_reset
        )
    return RateLimited(
        method,
        path,
        division,
        status,
        message,
        reason,
        reset=limits.minutely_reset,
        limit="minutely",
    )


def _sign_in_sentence(why: str | None) -> str:
    if why and SIGN_IN_AGAIN in why:
        return why  # already a whole sentence, e.g. one stored earlier
    stopped = "This company's connection to Exact Online has stopped working"
    if not why:
        return f"{stopped}. {SIGN_IN_AGAIN}"
    return f"{stopped}: {why.rstrip('.')}. {SIGN_IN_AGAIN}"


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value


def _lines(message: str) -> list[str]:
    return [line.strip() for line in message.splitlines() if line.strip()]


def _evidence(body: bytes) -> str | None:
    if not body:
        return None
    return body[: BODY_EVIDENCE_CHARS * 4].decode("utf-8", errors="replace")[
        :BODY_EVIDENCE_CHARS
    ]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
