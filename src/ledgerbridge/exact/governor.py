"""One rate governor per division per process, driven by Exact's headers.

Exact allows each app about 60 calls a clock minute and 5,000 a UTC day per
division, and says so on every answer (API.md §4.3); the limits differ per
app and division, so nothing here assumes them. The governor counts the
calls it lets through in the current window, so threads sharing it never
overshoot; waits for the minute's reset when the window is used up or a 429
says so; and stops for the day when the remaining calls fall under a
reserve, so the UI and the user keep calls for what matters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.errors import DailyLimitReached
from ledgerbridge.exact.limits import RateLimits

logger = structlog.get_logger(__name__)
T = TypeVar("T")

DEFAULT_DAILY_RESERVE = 100
RESET_MARGIN = timedelta(milliseconds=250)  # our clock and Exact's may differ


class RateGovernor:
    """Lets a call through when the division's budget allows it."""

    def __init__(
        self,
        division: int,
        clock: Clock,
        *,
        daily_reserve: int = DEFAULT_DAILY_RESERVE,
        on_limits: Callable[[RateLimits], None] | None = None,
    ) -> None:
        self.division = division
        self.clock = clock
        self.daily_reserve = daily_reserve
        self.on_limits = on_limits
        self._lock = threading.Lock()
        self._limits = RateLimits()
        self._window_reset: datetime | None = None
        self._left_in_window: int | None = None
        self._blocked_until: datetime | None = None

    @property
    def limits(self) -> RateLimits:
        """The last limits Exact reported: what the UI shows as calls left."""
        return self._limits

    def acquire(self) -> None:
        """Wait until a call may go; raise `DailyLimitReached` when the day's
        calls are down to the reserve."""
        while True:
            with self._lock:
                now = self.clock.now()
                self._check_daily(now)
                wait_until = self._wait_until(now)
                if wait_until is None:
                    if self._left_in_window is not None:
                        self._left_in_window -= 1
                    if self._limits.daily_remaining is not None:
                        self._limits = replace(
                            self._limits,
                            daily_remaining=self._limits.daily_remaining - 1,
                        )
                    return
            logger.info(
                "exact.rate.waiting",
                division=self.division,
                seconds=round((wait_until - now).total_seconds(), 3),
            )
            self.clock.sleep((wait_until - now).total_seconds())

    def _check_daily(self, now: datetime) -> None:
        remaining = self._limits.daily_remaining
        reset = self._limits.daily_reset
        if remaining is None or remaining > self.daily_reserve:
            return
        if reset is not None and now >= reset:
            # A new day: the next answer tells the new budget.
            self._limits = replace(self._limits, daily_remaining=None)
            return
        raise DailyLimitReached.for_division(self.division, reset)

    def _wait_until(self, now: datetime) -> datetime | None:
        if self._blocked_until is not None:
            if now < self._blocked_until:
                return self._blocked_until
            self._blocked_until = None
            self._new_window()
        if self._window_reset is not None and now >= self._window_reset:
            self._new_window()
        if self._left_in_window is not None and self._left_in_window <= 0:
            return (self._window_reset or now) + RESET_MARGIN
        return None

    def _new_window(self) -> None:
        limit = self._limits.minutely_limit
        self._left_in_window = limit
        self._window_reset = None

    def observe(self, headers: RateLimits) -> None:
        """Take in the limits of an answer."""
        if headers.empty:
            return
        with self._lock:
            merged = RateLimits(
                daily_limit=_pick(headers.daily_limit, self._limits.daily_limit),
                daily_remaining=_pick(
                    headers.daily_remaining, self._limits.daily_remaining
                ),
                daily_reset=_pick(headers.daily_reset, self._limits.daily_reset),
                minutely_limit=_pick(
                    headers.minutely_limit, self._limits.minutely_limit
                ),
                minutely_remaining=_pick(
                    headers.minutely_remaining, self._limits.minutely_remaining
                ),
                minutely_reset=_pick(
                    headers.minutely_reset, self._limits.minutely_reset
                ),
            )
            if headers.daily_remaining is not None and (
                self._limits.daily_remaining is not None
            ):
                # Answers arrive out of order: the lowest count is the truth.
                merged = replace(
                    merged,
                    daily_remaining=min(
                        headers.daily_remaining, self._limits.daily_remaining
                    ),
                )
            self._limits = merged
            self._follow_window(headers)
        if self.on_limits is not None:
            self.on_limits(self._limits)

    def _follow_window(self, headers: RateLimits) -> None:
        reset, remaining = headers.minutely_reset, headers.minutely_remaining
        if reset is None or remaining is None:
            return
        left = self._left_in_window
        if self._window_reset is None:
            # A window we opened ourselves: Exact's count now names its end.
            self._window_reset = reset
            self._left_in_window = remaining if left is None else min(left, remaining)
        elif reset > self._window_reset:
            # Exact's minute turned before ours did.
            self._window_reset = reset
            self._left_in_window = remaining
        elif reset == self._window_reset and left is not None:
            # Answers arrive out of order: the lowest count is the truth.
            self._left_in_window = min(left, remaining)

    def rate_limited(self, headers: RateLimits) -> None:
        """A 429: wait for the reset it names before the next call."""
        self.observe(headers)
        with self._lock:
            if headers.minutely_reset is not None:
                self._blocked_until = headers.minutely_reset + RESET_MARGIN
                self._window_reset = headers.minutely_reset
                self._left_in_window = 0
            elif headers.daily_reset is None:
                # No headers at all (seen in 2019): wait a minute.
                self._blocked_until = self.clock.now() + timedelta(minutes=1)


def _pick(new: T | None, old: T | None) -> T | None:
    return new if new is not None else old
