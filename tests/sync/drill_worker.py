"""The exporting process of `test_fault_drill.py`, killed and restarted.

    python -m tests.sync.drill_worker --company REF --first DAY --last DAY \\
        --report PATH [--timeout SECONDS]

Everything else comes from the environment, as for the real service:
`LEDGERBRIDGE_DATABASE_URL`, `LEDGERBRIDGE_EXACT_BASE_URL`,
`LEDGERBRIDGE_EXACT_CLIENT_ID` / `_SECRET`, `LEDGERBRIDGE_EXACT_REDIRECT_URI`
and `LEDGERBRIDGE_SECRET_KEYS`. The process builds `Settings` and the
database from them and runs the customer invoice export of the period with
`Runner(...).run(...)`, a new run each time, until one finishes with every
document through. Each finished run (or error) is appended to the report as
a line of JSON, flushed at once, so what a killed process did stays known.

Its HTTP client waits `--timeout` seconds for an answer (the test's
`timeout` faults hold theirs longer). Its clock is the sandbox's: real time
plus the sandbox's offset, read at start; a wait (the rate governor's, a
read's back-off) moves the sandbox's clock instead of sleeping, so a 429
costs no real minute. Only this process moves that clock while it runs.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2

from ledgerbridge import logging as lb_logging
from ledgerbridge import wiring
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.sync.model import (
    Flow,
    Outcome,
    RunInfo,
    RunRequest,
    RunStatus,
    Trigger,
)

MAX_RUNS = 60


class SandboxTime:
    """`exact.clock.Clock` on the sandbox's clock; waiting moves it."""

    def __init__(self, admin: httpx2.Client) -> None:
        self.admin = admin
        self.offset = timedelta()
        self._follow(admin.get("/_sandbox/clock"))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._follow(
                self.admin.post("/_sandbox/clock", json={"advance_seconds": seconds})
            )

    def _follow(self, answer: httpx2.Response) -> None:
        answer.raise_for_status()
        sandbox_now = datetime.fromisoformat(answer.json()["now"])
        self.offset = sandbox_now - datetime.now(UTC)


def report_line(report: Path, values: dict[str, Any]) -> None:
    with report.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"pid": os.getpid(), **values}) + "\n")
        out.flush()
        os.fsync(out.fileno())


def run_info(run: RunInfo) -> dict[str, Any]:
    counts = run.counts
    return {
        "run": run.id,
        "status": run.status.value,
        "message": run.message,
        "booked": counts.booked,
        "linked": counts.linked,
        "skipped": counts.skipped,
        "failed": counts.failed,
        "already_done": counts.already_done,
        "calls": run.exact_calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--company", required=True)
    parser.add_argument("--first", required=True, type=date.fromisoformat)
    parser.add_argument("--last", required=True, type=date.fromisoformat)
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args(argv)
    lb_logging.configure("WARNING")
    # The drill sends SIGUSR1 to a worker that takes too long: every
    # thread's stack goes to the worker's log, where the test shows it.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    settings = Settings()
    database = wiring.open_database(settings)
    base = settings.exact_base_url
    assert base, "LEDGERBRIDGE_EXACT_BASE_URL names the sandbox"
    timeout = httpx2.Timeout(args.timeout, connect=5.0)
    request = RunRequest(
        args.company,
        Flow.CUSTOMER_INVOICES,
        args.first,
        args.last,
        Trigger.MANUAL,
        "fault drill",
    )
    with (
        httpx2.Client(base_url=base, timeout=10) as admin,
        httpx2.Client(timeout=timeout) as http,
    ):
        runner = Runner(settings, database, http=http, clock=SandboxTime(admin))
        report_line(args.report, {"event": "started"})
        for _ in range(MAX_RUNS):
            try:
                run = runner.run(request)
            except Exception as exc:
                report_line(
                    args.report,
                    {
                        "event": "error",
                        "error": f"{type(exc).__name__}: {exc}",
                        "traceback": traceback.format_exc(),
                    },
                )
                continue
            failures = Counter(
                result.reason_code
                for result in runner.results(run.id)
                if result.outcome is Outcome.FAILED
            )
            report_line(
                args.report,
                {"event": "run", **run_info(run), "failures": dict(failures)},
            )
            if run.status is RunStatus.SUCCEEDED and run.counts.failed == 0:
                return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
