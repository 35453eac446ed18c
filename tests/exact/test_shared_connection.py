"""Issue #4's acceptance test: 8 threads in each of 2 processes share one
company's Exact connection through 2 simulated hours of calls, with zero
"Old refresh token used", zero refreshes before 570 s and zero failed calls;
on SQLite (one file) and on PostgreSQL.

The sandbox runs in uvicorn in this process, with limits high enough that
rate limiting stays out of the way (other tests measure it). The test
connects the company once, then starts the worker processes
(`shared_worker.py`) and moves the sandbox's clock 10 s every 50 ms of real
time, publishing each new offset in a clock file the workers read their time
from, until 7,200 s have passed. Each access token lives 600 s, so the
connection must be refreshed about twelve times, single-flight across 16
threads in 2 processes, each time in the 30 s before its token expires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2
from cryptography.fernet import Fernet

from ledgerbridge.exact.oauth import TokenEndpoint
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.storage.secrets import KEYS_VARIABLE, SecretBox
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database
from tests.exact.shared_worker import CLIENT_SECRET_VARIABLE, ClockFile, FileClock
from tests.exact.test_socket_faults import (
    DIVISION,
    Served,
    connect_over_http,
    register_app,
    serve_sandbox,
)

REPOSITORY = Path(__file__).resolve().parents[2]
PROCESSES = 2
THREADS = 8
SIMULATED_SECONDS = 2 * 3600
STEP_SECONDS = 10.0  # under the 30-s refresh window: a step never skips it
STEP_EVERY = 0.05  # real seconds: 200 times real speed, 36 s in all
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    ready: Path
    report: Path
    output: IO[bytes]
    log: Path

    def stop(self, deadline: float) -> None:
        """Wait for the process until `deadline` (monotonic), then kill it."""
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            self.output.close()

    def result(self) -> dict[str, Any]:
        assert self.process.returncode == 0, self.log.read_text(errors="replace")
        return dict(json.loads(self.report.read_text(encoding="utf-8")))


def start_worker(
    number: int,
    served: Served,
    database_url: str,
    connection: int,
    client_id: str,
    environment: dict[str, str],
    folder: Path,
) -> Worker:
    ready = folder / f"ready-{number}"
    report = folder / f"report-{number}.json"
    log = folder / f"worker-{number}.log"
    output = log.open("wb")
    arguments = {
        "base-url": served.url,
        "database-url": database_url,
        "connection": str(connection),
        "client-id": client_id,
        "clock-file": str(folder / "clock"),
        "stop-file": str(folder / "stop"),
        "ready-file": str(ready),
        "report": str(report),
        "threads": str(THREADS),
    }
    command = [sys.executable, "-m", "tests.exact.shared_worker"]
    for name, value in arguments.items():
        command += [f"--{name}", value]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        cwd=REPOSITORY,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return Worker(process, ready, report, output, log)


def wait_until_ready(workers: list[Worker]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not all(worker.ready.exists() for worker in workers):
        for worker in workers:
            if worker.process.poll() is not None:
                raise AssertionError(worker.log.read_text(errors="replace"))
        if time.monotonic() > deadline:
            raise AssertionError("the workers did not start in time")
        time.sleep(0.02)


def move_clock(served: Served, clock_file: ClockFile, seconds: float) -> None:
    """Move the sandbox's clock `seconds` on in steps, at a steady pace;
    every step is published to the workers before they read the time again."""
    started = time.monotonic()
    steps = round(seconds / STEP_SECONDS)
    for step in range(1, steps + 1):
        with clock_file.moving():
            moved = served.admin.post(
                "/_sandbox/clock", json={"advance_seconds": STEP_SECONDS}
            )
            assert moved.status_code == 200, moved.text
            clock_file.publish(served.sandbox.clock.offset_seconds)
        pause = started + step * STEP_EVERY - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def test_shared_connection_survives_two_simulated_hours(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode("ascii")
    sandbox = Sandbox()
    with serve_sandbox(sandbox) as served, httpx2.Client(timeout=10) as http:
        limits = served.admin.put(
            f"/_sandbox/divisions/{DIVISION}/limits",
            json={"minutely": 1_000_000, "daily": 100_000_000},
        )
        assert limits.status_code == 200, limits.text
        app = register_app(served)
        clock_file = ClockFile(tmp_path / "clock")
        clock_file.create(sandbox.clock.offset_seconds)
        clock = FileClock(clock_file)
        store = DbTokenStore(database.engine, SecretBox([key]))
        tokens = TokenEndpoint(app, served.url, http, clock)
        connection = connect_over_http(served, database, store, app, tokens)
        environment = {
            **os.environ,
            KEYS_VARIABLE: key,
            CLIENT_SECRET_VARIABLE: app.client_secret,
        }
        workers: list[Worker] = []
        started = time.monotonic()
        try:
            for number in range(PROCESSES):
                workers.append(
                    start_worker(
                        number,
                        served,
                        database_url,
                        connection,
                        app.client_id,
                        environment,
                        tmp_path,
                    )
                )
            wait_until_ready(workers)
            move_clock(served, clock_file, SIMULATED_SECONDS)
        finally:
            (tmp_path / "stop").touch()
            deadline = time.monotonic() + STOP_TIMEOUT
            for worker in workers:
                worker.stop(deadline)
        reports = [worker.result() for worker in workers]
        seconds = time.monotonic() - started
        stats = served.admin.get("/_sandbox/stats").json()
        simulated = sandbox.clock.offset_seconds

    outcomes: dict[str, int] = stats["token_endpoint"]
    calls = [sum(report["calls"].values()) for report in reports]
    refreshed = [report["events"].get("refreshed", 0) for report in reports]
    print(  # shown with -s: the numbers of the run
        f"{database_url.split(':')[0]}: {seconds:.1f} s real, {simulated:.0f} s "
        f"simulated; calls {calls}; refreshes {refreshed}; token endpoint "
        f"{outcomes}; 401s {[r['events'].get('unauthorized', 0) for r in reports]}; "
        f"slowest call {[r['slowest_call_ms'] for r in reports]} ms; "
        f"sandbox counted {stats['divisions'][str(DIVISION)]['calls']} calls"
    )
    assert simulated >= SIMULATED_SECONDS
    assert "refresh_token:unauthorized_client" not in outcomes  # old token used
    assert "refresh_token:access_denied" not in outcomes  # before 570 s
    assert set(outcomes) == {"authorization_code:ok", "refresh_token:ok"}
    assert outcomes["refresh_token:ok"] >= 11  # one per 600 s, about
    assert sum(refreshed) == outcomes["refresh_token:ok"]
    for report in reports:
        assert report["failed"] == {}, report["failures"]
        assert report["stopped_by_file"] and report["threads_alive"] == []
    assert min(calls) > 500, calls  # both processes called all along
    assert sum(calls) > 2000, calls
