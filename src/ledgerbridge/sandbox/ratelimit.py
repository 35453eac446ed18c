"""Exact's per-app, per-division rate limits (API.md §4).

A fixed clock minute and a UTC day, counted per (client id, division);
limits set per division (60 and 5,000 by default). Every division call gets
the six `X-RateLimit-*` headers with resets in epoch milliseconds; a call
over a limit gets 429 with an empty body and only that limit's headers.
Optionally, more than ten 400/401/403/404 answers per endpoint in an hour
block that endpoint for the rest of the hour (§4.1).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledgerbridge.sandbox.clock import Clock
from ledgerbridge.sandbox.errors import ExactError

ERROR_STATUSES = frozenset({400, 401, 403, 404})
ERRORS_PER_HOUR = 10


@dataclass
class _Window:
    minute: datetime | None = None
    minute_calls: int = 0
    day: datetime | None = None
    day_calls: int = 0


@dataclass
class RateLimiter:
    clock: Clock
    error_budget: bool = False
    _windows: dict[tuple[str, int], _Window] = field(default_factory=dict)
    _errors: dict[tuple[str, int, str, datetime], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(
        self, client_id: str, division: int, minutely: int, daily: int
    ) -> dict[str, str]:
        """Count one call; its headers, or `ExactError(429)` over a limit."""
        now = self.clock.now()
        minute = now.replace(second=0, microsecond=0)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        minute_reset = _ms(minute + timedelta(minutes=1))
        day_reset = _ms(day + timedelta(days=1))
        with self._lock:
            window = self._windows.setdefault((client_id, division), _Window())
            if window.minute != minute:
                window.minute, window.minute_calls = minute, 0
            if window.day != day:
                window.day, window.day_calls = day, 0

            if window.day_calls >= daily:
                raise ExactError(429, "", _daily(daily, 0, day_reset))
            if window.minute_calls >= minutely:
                raise ExactError(429, "", _minutely(minutely, 0, minute_reset))
            window.minute_calls += 1
            window.day_calls += 1
            return {
                **_daily(daily, daily - window.day_calls, day_reset),
                **_minutely(minutely, minutely - window.minute_calls, minute_reset),
            }

    def check_error_budget(self, client_id: str, division: int, endpoint: str) -> None:
        if not self.error_budget:
            return
        hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
        if (
            self._errors.get((client_id, division, endpoint, hour), 0)
            >= ERRORS_PER_HOUR
        ):
            raise ExactError(
                403,
                "Forbidden",
                {"Reason": "TooManyErrors: this endpoint answered 10 errors this hour"},
            )

    def record_status(
        self, client_id: str, division: int, endpoint: str, status: int
    ) -> None:
        if status not in ERROR_STATUSES:
            return
        hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
        key = (client_id, division, endpoint, hour)
        with self._lock:
            self._errors[key] = self._errors.get(key, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._errors.clear()


def _ms(moment: datetime) -> str:
    return str(int(moment.astimezone(UTC).timestamp() * 1000))


def _daily(limit: int, remaining: int, reset: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Reset": reset,
    }


def _minutely(limit: int, remaining: int, reset: str) -> dict[str, str]:
    return {
        "X-RateLimit-Minutely-Limit": str(limit),
        "X-RateLimit-Minutely-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Minutely-Reset": reset,
    }
