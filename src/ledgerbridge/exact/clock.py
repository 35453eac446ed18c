"""Time as the client sees it, injectable so tests can follow the sandbox's
clock instead of waiting."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC time."""

    def sleep(self, seconds: float) -> None:
        """Wait; a test clock may move time instead."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
