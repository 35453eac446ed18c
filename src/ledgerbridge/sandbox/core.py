"""The sandbox as one object: clock, OAuth server, divisions, limits,
statistics and injected faults, behind one lock, optionally kept in a file."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerbridge.sandbox.clock import Clock
from ledgerbridge.sandbox.oauth import OAuthServer
from ledgerbridge.sandbox.ratelimit import RateLimiter
from ledgerbridge.sandbox.state import (
    Division,
    StateFile,
    create_division,
    division_from_json,
    division_to_json,
)

FAULT_KINDS = ("error_500", "error_503", "timeout", "drop_after_commit", "slow")


@dataclass
class Stats:
    calls: int = 0
    rate_limited: int = 0
    errors: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "rate_limited": self.rate_limited,
            "errors": self.errors,
            "by_endpoint": dict(self.by_endpoint),
        }


@dataclass
class Fault:
    endpoint: str
    method: str
    kind: str
    count: int
    delay_seconds: float


class Sandbox:
    def __init__(
        self, state_path: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.oauth = OAuthServer(self.clock)
        self.divisions: dict[int, Division] = {}
        self.limits = RateLimiter(self.clock)
        self.stats: dict[int, Stats] = {}
        self.faults: list[Fault] = []
        self._file = StateFile(state_path) if state_path else None
        if self._file is not None:
            self._load()

    # Divisions

    def add_division(self, code: int, template: str, name: str) -> Division:
        with self.lock:
            if code in self.divisions:
                raise ValueError(f"division {code} exists already")
            division = create_division(code, template, name, self.clock)
            self.divisions[code] = division
            self.save(divisions=[code])
            return division

    def stats_for(self, division: int) -> Stats:
        return self.stats.setdefault(division, Stats())

    # Faults

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, endpoint: str, method: str) -> Fault | None:
        """The next fault planned for this call, counted down."""
        with self.lock:
            for fault in self.faults:
                if (
                    fault.endpoint == endpoint
                    and fault.method == method
                    and fault.count
                ):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # Everything

    def reset(self) -> None:
        with self.lock:
            codes = list(self.divisions)
            # Routers hold this object: renew its contents, not the object.
            self.oauth.__dict__.update(OAuthServer(self.clock).__dict__)
            self.divisions.clear()
            self.stats.clear()
            self.faults.clear()
            self.limits.reset()
            if self._file is not None:
                self._file.save({f"division:{c}": None for c in codes})
            self.save(oauth=True, meta=True)

    def save(
        self,
        divisions: list[int] | None = None,
        oauth: bool = False,
        meta: bool = False,
    ) -> None:
        """Write what changed to the state file, if there is one."""
        if self._file is None:
            return
        with self.lock:
            self._file.save(self._snapshot(divisions or [], oauth, meta))

    def _snapshot(
        self, divisions: list[int], oauth: bool, meta: bool
    ) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for code in divisions:
            if code in self.divisions:
                values[f"division:{code}"] = division_to_json(self.divisions[code])
        if oauth:
            values["oauth"] = json.dumps(self.oauth.to_dict())
        if meta:
            values["meta"] = json.dumps(
                {
                    "clock_offset": self.clock.offset_seconds,
                    "error_budget": self.limits.error_budget,
                }
            )
        return values

    def _load(self) -> None:
        assert self._file is not None
        stored = self._file.load()
        if "meta" in stored:
            meta = json.loads(stored["meta"])
            self.clock.restore(meta.get("clock_offset", 0))
            self.limits.error_budget = meta.get("error_budget", False)
        if "oauth" in stored:
            self.oauth = OAuthServer.from_dict(json.loads(stored["oauth"]), self.clock)
        for key, value in stored.items():
            if key.startswith("division:"):
                division = division_from_json(value)
                self.divisions[division.code] = division
