"""Exact's rate-limit headers, read into one value (API.md §4.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class RateLimits:
    """The last limits Exact reported for a division; None where a header
    was absent (a 429 carries only the tripped limit's headers)."""

    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: datetime | None = None
    minutely_limit: int | None = None
    minutely_remaining: int | None = None
    minutely_reset: datetime | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits:
        lowered = {k.lower(): v for k, v in headers.items()}

        def number(name: str) -> int | None:
            value = lowered.get(name)
            return int(value) if value is not None and value.isdigit() else None

        def moment(name: str) -> datetime | None:
            milliseconds = number(name)
            if milliseconds is None:
                return None
            return datetime.fromtimestamp(milliseconds / 1000, UTC)

        return cls(
            daily_limit=number("x-ratelimit-limit"),
            daily_remaining=number("x-ratelimit-remaining"),
            daily_reset=moment("x-ratelimit-reset"),
            minutely_limit=number("x-ratelimit-minutely-limit"),
            minutely_remaining=number("x-ratelimit-minutely-remaining"),
            minutely_reset=moment("x-ratelimit-minutely-reset"),
        )

    @property
    def empty(self) -> bool:
        return self.daily_limit is None and self.minutely_limit is None
