"""The sandbox's own clock, so tests can move time (token lifetimes, rate
windows, due dates) without waiting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Real UTC time plus an offset that only ever grows."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock never goes back")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def offset_seconds(self) -> float:
        return self._offset.total_seconds()

    def restore(self, offset_seconds: float) -> None:
        """Set the offset again after a restart (see `state.py`)."""
        with self._lock:
            self._offset = timedelta(seconds=offset_seconds)
