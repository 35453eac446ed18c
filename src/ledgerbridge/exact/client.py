"""The Exact Online client: one division of one company.

Every call goes: error budget guard → rate governor → a valid access token
(refreshed single-flight through the token store) → the request → Exact's
answer read into data or into one error of `errors.py`. A 401 gets one
refresh and one retry; reads are retried as `retry.py` says; a write whose
outcome is unknown raises `OutcomeUnknown` and is never sent again here.
Transport and base URL are injected, so the same code talks to any Exact
host or to the sandbox (STACK.md §3).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx2
import structlog

from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.errors import (
    ErrorBudgetExhausted,
    ExactError,
    NeedsSignIn,
    OutcomeUnknown,
    RateLimited,
    RefreshTooEarly,
    Unauthorized,
    Unavailable,
    error_for,
)
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.oauth import TokenEndpoint
from ledgerbridge.exact.odata import pages, unwrap_one
from ledgerbridge.exact.retry import backoff_seconds, may_retry
from ledgerbridge.exact.tokens import TokenPair, TokenStore

logger = structlog.get_logger(__name__)

TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
"""Set on the injected `httpx2.Client` (`wiring.http_client`): every call has one."""
ERROR_BUDGET = 8  # Exact blocks the app at 10 errors per endpoint and hour
ERROR_STATUSES = frozenset({400, 401, 403, 404})
TOKEN_REREAD = 30.0
"""Seconds a token pair read from the store is sent before it is read again."""


class ErrorBudget:
    """Stops calling an endpoint of a division after 8 errors in an hour."""

    def __init__(self, clock: Clock, limit: int = ERROR_BUDGET) -> None:
        self.clock = clock
        self.limit = limit
        self._errors: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(self, method: str, path: str, division: int) -> None:
        with self._lock:
            recent = self._recent(path)
            if len(recent) >= self.limit:
                raise ErrorBudgetExhausted(
                    method,
                    path,
                    division,
                    0,
                    f"{len(recent)} errors on this endpoint in the last hour; "
                    "stopped before Exact blocks the app (it does at 10)",
                )

    def record(self, path: str, status: int) -> None:
        if status in ERROR_STATUSES:
            with self._lock:
                self._recent(path).append(self.clock.now())

    def _recent(self, path: str) -> deque[datetime]:
        recent = self._errors.setdefault(path, deque())
        hour_ago = self.clock.now() - timedelta(hours=1)
        while recent and recent[0] < hour_ago:
            recent.popleft()
        return recent


class ExactClient:
    def __init__(
        self,
        *,
        http: httpx2.Client,
        base_url: str,
        division: int,
        connection: int,
        store: TokenStore,
        tokens: TokenEndpoint,
        governor: RateGovernor,
        clock: Clock,
        budget: ErrorBudget | None = None,
        language: str | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.division = division
        self.connection = connection
        self.store = store
        self.tokens = tokens
        self.governor = governor
        self.clock = clock
        self.budget = budget or ErrorBudget(clock)
        self.language = language
        self.calls = 0
        """Requests sent so far (refreshes of the token not included)."""
        self._pair: TokenPair | None = None
        self._pair_read = 0.0

    # Public calls

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._call("GET", path, params=params).json()

    def rows(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of a collection, following `__next` page after page."""

        def fetch(next_url: str | None) -> Any:
            if next_url is None:
                return self.get(path, params)
            return self._call("GET", next_url, absolute=True).json()

        for page in pages(fetch):
            yield from page

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return unwrap_one(self._call("POST", path, json=body).json())

    def put(self, path: str, body: Mapping[str, Any]) -> None:
        self._call("PUT", path, json=body)

    def delete(self, path: str) -> None:
        self._call("DELETE", path)

    def me(self) -> dict[str, Any]:
        """`current/Me`: not rate-counted, as its URL holds no division."""
        return unwrap_one(self._call("GET", "current/Me", scoped=False).json())

    @property
    def limits(self) -> RateLimits:
        return self.governor.limits

    # The pipeline

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        scoped: bool = True,
        absolute: bool = False,
    ) -> httpx2.Response:
        label = _label(path, self.division) if absolute else path.split("?")[0]
        if absolute:
            url = path
        elif scoped:
            url = f"{self.base_url}/api/v1/{self.division}/{path}"
        else:
            url = f"{self.base_url}/api/v1/{path}"

        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            self.budget.check(method, label, self.division)
            if scoped:
                self.governor.acquire()
            pair = self._valid_pair()
            started = time.perf_counter()
            self.calls += 1
            try:
                response = self.http.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=json,
                    headers={
                        "Authorization": f"Bearer {pair.access_token}",
                        "Accept": "application/json",
                        "Prefer": "return=representation",
                    },
                )
            except httpx2.TransportError as exc:
                self._log(method, label, None, started)
                if method != "GET":
                    raise OutcomeUnknown(
                        method,
                        label,
                        self.division,
                        0,
                        f"the connection failed after sending ({type(exc).__name__})",
                    ) from exc
                if may_retry(method, None, attempt):
                    self.clock.sleep(backoff_seconds(attempt))
                    continue
                raise Unavailable(
                    method, label, self.division, 0, type(exc).__name__
                ) from exc

            limits = RateLimits.from_headers(response.headers)
            if scoped:
                self.governor.observe(limits)
            self._log(method, label, response.status_code, started)
            status = response.status_code
            if status < 400:
                return response

            self.budget.record(label, status)
            error = error_for(
                method, label, self.division, status, response.content, response.headers
            )
            if status == 401 and not refreshed:
                refreshed = True
                self._pair = None  # whatever happens next, read the store again
                self._remember(self._refresh(pair, after_401=True), time.monotonic())
                continue
            if isinstance(error, RateLimited):
                self.governor.rate_limited(limits)
                if attempt < 8 and not _is_daily(error):
                    continue  # refused before processing: safe for any method
            elif may_retry(method, status, attempt):
                self.clock.sleep(backoff_seconds(attempt))
                continue
            raise error

    def _valid_pair(self) -> TokenPair:
        """The access token to send: the pair read last, re-read from the
        store after `TOKEN_REREAD` seconds (another process may have
        refreshed it, or marked the connection as needing a sign-in), and
        refreshed when it is about to expire. Reading the store on every
        call cost about a sixth of an export's own time; an access token
        stays valid until it expires, even after a refresh elsewhere, so a
        pair up to `TOKEN_REREAD` seconds old is safe to send."""
        pair = self._pair
        read = time.monotonic()
        if pair is None or read - self._pair_read > TOKEN_REREAD:
            pair = self.store.current(self.connection)
            if pair is None:
                self._pair = None
                raise NeedsSignIn.for_connection(self.division, "no tokens are stored")
            self._remember(pair, read)
        if pair.needs_refresh(self.clock.now()):
            pair = self._refresh(pair)
            self._remember(pair, time.monotonic())
        return pair

    def _remember(self, pair: TokenPair, read: float) -> None:
        self._pair, self._pair_read = pair, read

    def _refresh(self, seen: TokenPair, *, after_401: bool = False) -> TokenPair:
        """Refresh once across threads and processes: inside the store's lock,
        re-read; someone may have refreshed already."""
        dead: str | None = None
        stored = self.store.current(self.connection)
        if stored is not None and stored.access_token != seen.access_token:
            return stored  # refreshed meanwhile: no need to queue for the lock
        with self.store.locked(self.connection) as locked:
            if locked.needs_sign_in:
                raise NeedsSignIn.for_connection(self.division, locked.reason)
            current = locked.pair
            if current is None:
                raise NeedsSignIn.for_connection(self.division, "no tokens are stored")
            if current.access_token != seen.access_token:
                return current  # another worker refreshed it
            now = self.clock.now()
            if not after_401 and not current.needs_refresh(now):
                return current
            if not current.may_refresh(now) and not after_401:
                return current
            try:
                fresh = self._exchange(current)
            except NeedsSignIn as exc:
                dead = exc.sentence
                fresh = None
            if fresh is not None:
                locked.save(fresh)  # stored before anyone uses it
                logger.info("exact.token.refreshed", division=self.division)
                return fresh
        assert dead is not None
        self.store.mark_needs_sign_in(self.connection, dead)
        raise NeedsSignIn.for_connection(self.division, dead)

    def _exchange(self, current: TokenPair) -> TokenPair:
        try:
            return self.tokens.refresh(current.refresh_token)
        except RefreshTooEarly:
            # After a 401 inside the first 570 s: Exact refuses until then.
            wait = current.issued_at + timedelta(seconds=571) - self.clock.now()
            self.clock.sleep(max(wait.total_seconds(), 0))
            return self.tokens.refresh(current.refresh_token)

    def _log(self, method: str, path: str, status: int | None, started: float) -> None:
        limits = self.governor.limits
        logger.info(
            "exact.call",
            method=method,
            path=path,
            division=self.division,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 1),
            minutely_remaining=limits.minutely_remaining,
            daily_remaining=limits.daily_remaining,
        )


def _label(url: str, division: int) -> str:
    """`salesentry/SalesEntries` out of an absolute `__next` URL."""
    tail = url.split(f"/api/v1/{division}/", 1)[-1]
    return tail.split("?")[0]


def _is_daily(error: ExactError) -> bool:
    return getattr(error, "limit", None) == "daily"


_ = Unauthorized
