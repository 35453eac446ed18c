"""When to try a call again, and how long to wait: small pure functions.

Only reads are retried: transport errors, 5xx and a minutely 429 (API.md
§6.7, §4.3). A write whose outcome is unknown is never sent again blind
(§10.4): the caller looks the document up first. 400/401/403/404 are never
retried (§4.1: ten of them in an hour block the app).

We keep our own loop instead of stamina (chosen in STACK.md §3): every wait
must run on the injected clock, so tests can follow the sandbox's clock and
rate-limit resets instead of sleeping or skipping the waits.
"""

from __future__ import annotations

import random

MAX_ATTEMPTS = 4
INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 20.0


def backoff_seconds(attempt: int, jitter: random.Random | None = None) -> float:
    """Capped exponential backoff with up to 25 % jitter; attempt 1 is the
    first retry."""
    base: float = min(
        INITIAL_BACKOFF_SECONDS * 2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS
    )
    spread: float = (jitter or random.Random()).uniform(0, base / 4)  # noqa: S311
    return base + spread


def may_retry(method: str, status: int | None, attempt: int) -> bool:
    """Whether a read that failed (`status` None: transport error) is retried."""
    if method != "GET" or attempt >= MAX_ATTEMPTS:
        return False
    return status is None or status == 429 or status >= 500
