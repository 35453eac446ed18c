"""One worker process of `test_shared_connection.py`: 8 threads sharing one
company's Exact connection, as a run of the sync engine would.

    python -m tests.exact.shared_worker --base-url URL --database-url URL \\
        --connection ID --client-id ID --clock-file PATH --stop-file PATH \\
        --ready-file PATH --report PATH

`LEDGERBRIDGE_SECRET_KEYS` holds the key the tokens are encrypted with and
`SHARED_WORKER_CLIENT_SECRET` the app's secret (kept off the command line).
The process builds what a real one would: its own `DbTokenStore` on the
shared database, its own `httpx2.Client`, one `RateGovernor` for the
division shared by its threads (and one `ExactClient`, so one error budget).
Every thread calls until the stop file appears; the report (JSON) counts
successful and failed calls, and the refreshes and 401s this process saw.

The clock is the sandbox's: real time plus the offset the test publishes in
the clock file (`ClockFile`), so every refresh decision follows the clock the
sandbox judges by.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import structlog

from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_engine
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tokens import DbTokenStore

DIVISION = 1001
THREADS = 8
CLIENT_SECRET_VARIABLE = "SHARED_WORKER_CLIENT_SECRET"
TIMEOUT = httpx2.Timeout(5.0, connect=5.0)
MAX_FAILURES_KEPT = 20
PAUSE_SECONDS = 0.03
"""Between a thread's calls (a sync run does other work too). Without it 16
threads saturate the CPUs, and a call waiting its turn can take longer than
the refresh window's 30 s last at the test's speed (150 ms)."""
_OFFSET_WIDTH = 24  # fixed width: rewritten in place, never shorter


class ClockFile:
    """The sandbox clock's offset (seconds ahead of real time), shared with
    other processes through a file.

    The test moves the sandbox's clock and writes the new offset while it
    holds the file's exclusive lock (`moving`); readers take the shared lock
    (`offset`). So outside a move the file says exactly what the sandbox's
    clock does, and a reader never sees an offset the sandbox has not reached
    yet, nor one it has already left. Both matter: an early reading stamps a
    new pair's `issued_at` too early (and its refresh comes before 570 s by
    the sandbox's clock); a late one refreshes late (a 401, then a refresh).
    Caching the offset for a while would do both by up to the clock's step.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None

    def create(self, offset: float) -> None:
        self.path.write_text(self._text(offset), encoding="ascii")

    @contextmanager
    def moving(self) -> Iterator[ClockFile]:
        """Hold the exclusive lock: readers wait until `publish` is done."""
        descriptor = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._descriptor = descriptor
            yield self
        finally:
            self._descriptor = None
            os.close(descriptor)  # releases the lock

    def publish(self, offset: float) -> None:
        """Inside `moving`: the sandbox's clock now has this offset."""
        if self._descriptor is None:
            raise RuntimeError("publish inside 'with clock_file.moving()'")
        os.pwrite(self._descriptor, self._text(offset).encode("ascii"), 0)

    def offset(self) -> float:
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
            return float(os.pread(descriptor, _OFFSET_WIDTH + 1, 0))
        finally:
            os.close(descriptor)

    @staticmethod
    def _text(offset: float) -> str:
        return f"{offset:{_OFFSET_WIDTH}.6f}\n"


class FileClock:
    """`Clock` on the sandbox's time as the clock file publishes it."""

    def __init__(self, clock_file: ClockFile) -> None:
        self.clock_file = clock_file

    def now(self) -> datetime:
        offset = self.clock_file.offset()
        return datetime.now(UTC) + timedelta(seconds=offset)

    def sleep(self, seconds: float) -> None:
        """Wait until the sandbox's clock moved `seconds` on (the test moves
        it), or that much real time passed."""
        if seconds <= 0:
            return
        until = self.now() + timedelta(seconds=seconds)
        deadline = time.monotonic() + seconds
        while self.now() < until and time.monotonic() < deadline:
            time.sleep(0.005)


class Tally:
    """What this process's threads did, counted under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.failures: list[str] = []
        self.events: Counter[str] = Counter()
        self.slowest = 0.0

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.calls[kind] += 1
            self.slowest = max(self.slowest, seconds)

    def fail(self, kind: str, error: BaseException) -> None:
        with self.lock:
            self.failed[type(error).__name__] += 1
            if len(self.failures) < MAX_FAILURES_KEPT:
                self.failures.append(f"{kind}: {type(error).__name__}: {error}")

    def log_event(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """A structlog processor: count refreshes and 401s, print nothing."""
        name = event.get("event")
        with self.lock:
            if name == "exact.token.refreshed":
                self.events["refreshed"] += 1
            elif name == "exact.call" and event.get("status") == 401:
                self.events["unauthorized"] += 1
        raise structlog.DropEvent


def call_until_stopped(
    client: ExactClient, stop: threading.Event, tally: Tally, number: int
) -> None:
    """Mostly a small read, every tenth call a filtered one."""
    count = number
    while not stop.is_set():
        count += 1
        kind = "accounts" if count % 10 == 0 else "vat"
        started = time.perf_counter()
        try:
            if kind == "accounts":
                resources.find_account(client, "1001")
            else:
                client.get("vat/VATCodes", {"$select": "Code"})
        except Exception as error:
            tally.fail(kind, error)
        else:
            tally.ok(kind, time.perf_counter() - started)
        stop.wait(PAUSE_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in (
        "base-url",
        "database-url",
        "connection",
        "client-id",
        "clock-file",
        "stop-file",
        "ready-file",
        "report",
    ):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)

    tally = Tally()
    structlog.configure(processors=[tally.log_event])
    clock = FileClock(ClockFile(Path(args.clock_file)))
    stop_file = Path(args.stop_file)
    app = ExactApp(args.client_id, os.environ[CLIENT_SECRET_VARIABLE], "unused")
    engine = make_engine(args.database_url)
    started = time.monotonic()
    try:
        with httpx2.Client(timeout=TIMEOUT) as http:
            store = DbTokenStore(engine, load_keys(Settings()))
            client = ExactClient(
                http=http,
                base_url=args.base_url,
                division=DIVISION,
                connection=int(args.connection),
                store=store,
                tokens=TokenEndpoint(app, args.base_url, http, clock),
                governor=RateGovernor(DIVISION, clock),
                clock=clock,
            )
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=call_until_stopped,
                    args=(client, stop, tally, number),
                    name=f"worker-{number}",
                )
                for number in range(args.threads)
            ]
            for thread in threads:
                thread.start()
            Path(args.ready_file).touch()
            deadline = started + args.max_seconds
            while not stop_file.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            alive = [thread.name for thread in threads if thread.is_alive()]
    finally:
        engine.dispose()
    report = {
        "pid": os.getpid(),
        "seconds": round(time.monotonic() - started, 2),
        "calls": dict(tally.calls),
        "failed": dict(tally.failed),
        "failures": tally.failures,
        "events": dict(tally.events),
        "slowest_call_ms": round(tally.slowest * 1000, 1),
        "stopped_by_file": stop_file.exists(),
        "threads_alive": alive,
    }
    Path(args.report).write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
