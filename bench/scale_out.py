"""Benchmark: many companies exported by Procrastinate workers (issue 7).

    .venv/bin/python bench/scale_out.py [--quick] [--workers 1 2 4]
        [--divisions 100] [--invoices 240] [--postgres URL]

The sandbox runs in a process of its own (`ledgerbridge sandbox serve`) with
`--divisions` divisions, each limited to 60 calls a minute (and 100,000 a
day), as Exact does. The database is a throwaway PostgreSQL database made on
the server of `--postgres` (default: the local one, user postgres) and
migrated with `ledgerbridge db upgrade`'s migrations (Procrastinate's schema
included).

Each round (one per `--workers` count K) loads a synthetic company per
division (`loadgen`: 3 customers, `--invoices` invoices), connects it to a
division of its own, starts K `ledgerbridge worker --concurrency C`
processes with C = divisions / K (rounded up, so the round can run every
company at once), hands the customer invoice export of every company to the
queue (`ProcrastinateQueue`, as `ledgerbridge serve` does), waits for every
run to end and stops the workers with SIGTERM.

What it reports per round:

* calls in each whole clock minute of the sandbox, summed over the
  divisions, read from the sandbox's statistics at second 59.5 of every
  minute (each division's 60 calls go out in a burst after the minute's
  reset, so the reading falls between two bursts);
* the steady share: the mean of those minutes in which every company's run
  was going the whole minute, as a share of the sum of the limits
  (divisions x 60); the goal is >= 90 % with the fewest workers, and zero
  429s;
* the whole round: all calls over the clock minutes from the first run's
  start to the last one's end, partial ones included (the first and last
  minutes are partial, so this figure is lower by design);
* CPU seconds of each worker process.

`--quick`: 20 divisions of 150 invoices. Exit code 1 when no round meets the
goal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from syncbench import (
    REDIRECT,
    SandboxServer,
    connect,
    goal,
    machine,
    quiet,
    sandbox_server,
    settings_for,
)

from ledgerbridge import loadgen
from ledgerbridge.jobs.workers import ProcrastinateQueue
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.tables import CompanyRow, RunRow
from ledgerbridge.sync.model import Flow, RunRequest, Trigger
from ledgerbridge.wiring import Database

LIMIT = 60
DAILY = 100_000
GOAL = 0.90
CUSTOMERS = 3
READ_AT = 59.5
"""Second of each sandbox minute at which the statistics are read."""
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Round:
    workers: int
    concurrency: int
    divisions: list[int]
    refs: list[str]
    minutes: list[tuple[int, int, int]] = field(default_factory=list)
    """(minute, calls in it, 429s in it), whole sandbox minutes."""
    started: datetime | None = None
    finished: datetime | None = None
    last_start: datetime | None = None
    first_end: datetime | None = None
    calls: int = 0
    refused: int = 0
    failed_runs: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def limit(self) -> int:
        return len(self.divisions) * LIMIT

    def steady(self) -> list[int]:
        """Calls of the whole minutes in which every run was going."""
        assert self.last_start and self.first_end
        first = math.ceil(self.last_start.timestamp() / 60)
        last = math.floor(self.first_end.timestamp() / 60)  # exclusive
        return [calls for minute, calls, _ in self.minutes if first <= minute < last]

    def steady_share(self) -> float | None:
        steady = self.steady()
        return sum(steady) / len(steady) / self.limit if steady else None

    def overall_share(self) -> float:
        """All calls over the clock minutes the round touched, the partial
        first and last ones included."""
        assert self.started and self.finished
        minutes = (
            int(self.finished.timestamp() // 60)
            - int(self.started.timestamp() // 60)
            + 1
        )
        return self.calls / minutes / self.limit

    def met(self) -> bool:
        share = self.steady_share()
        return (
            share is not None
            and share >= GOAL
            and self.refused == 0
            and self.failed_runs == 0
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--divisions", type=int)
    parser.add_argument("--invoices", type=int)
    parser.add_argument("--postgres", default=ADMIN, help="an admin database URL")
    args = parser.parse_args()
    divisions = args.divisions or (20 if args.quick else 100)
    invoices = args.invoices or (150 if args.quick else 240)
    quiet()
    # SIGTERM ends the benchmark as Ctrl+C does: workers, sandbox and the
    # throwaway database go away too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    rounds = []
    with throwaway_database(args.postgres) as (db, url), sandbox_server() as server:
        folder = Path(tempfile.mkdtemp(prefix="ledgerbridge-scale-out-"))
        for number, workers in enumerate(args.workers):
            # An app per round: Exact (and the sandbox) allow an app 200
            # token calls a day, and each company's connection takes one.
            settings = settings_for(server, url, folder)
            bench = Round(
                workers=workers,
                concurrency=math.ceil(divisions / workers),
                divisions=[10_000 * (number + 1) + k for k in range(divisions)],
                refs=[f"r{number + 1}-{k:03d}" for k in range(divisions)],
            )
            run_round(bench, server, settings, db, url, folder, invoices)
            report(bench, invoices)
            rounds.append(bench)

    print()
    print(f"scale-out: {divisions} divisions x {LIMIT} calls a minute; {machine()}")
    for bench in rounds:
        share = bench.steady_share()
        shown = "-" if share is None else f"{share:.1%}"
        print(
            f"  {bench.workers} worker(s) x {bench.concurrency}: steady {shown}, "
            f"whole round {bench.overall_share():.1%}, 429s {bench.refused}"
        )
    fewest = next((bench.workers for bench in rounds if bench.met()), None)
    print(
        f"  fewest workers reaching {GOAL:.0%} with no 429: "
        f"{fewest if fewest is not None else 'none'}: {goal(fewest is not None)}"
    )
    return 0 if fewest is not None else 1


def run_round(
    bench: Round,
    server: SandboxServer,
    settings: Settings,
    db: Database,
    url: str,
    folder: Path,
    invoices: int,
) -> None:
    today = datetime.now(UTC).date()
    print(
        f"round: {bench.workers} worker(s), concurrency {bench.concurrency}; "
        f"loading {len(bench.refs)} companies of {invoices} invoices",
        flush=True,
    )
    for index, (ref, division) in enumerate(
        zip(bench.refs, bench.divisions, strict=True)
    ):
        server.division(division, ref)
        server.limits(division, LIMIT, DAILY)
        loaded = loadgen.load_company(
            db.sessions,
            ref,
            customers=CUSTOMERS,
            invoices=invoices,
            last=today,
            days=20,
            seed=index + 1,
        )
        connect(server, settings, db, loaded.company_id, ref, division)

    processes = [
        start_worker(settings, url, folder, bench) for _ in range(bench.workers)
    ]
    sampler = Sampler(server, bench)
    try:
        wait_for_workers(db, 2 * bench.workers)
        sampler.start()
        queue = ProcrastinateQueue(Runner(settings, db))
        first = today - timedelta(days=30)
        for ref in bench.refs:
            queue.submit(
                RunRequest(
                    ref, Flow.CUSTOMER_INVOICES, first, today, Trigger.API, "bench"
                )
            )
        print("  every export queued; waiting for the runs to end", flush=True)
        while active_runs(db, bench.refs):
            time.sleep(2)
        # The last minute's reading, once it is whole.
        time.sleep(max(0.0, 61.0 - time.time() % 60))
    finally:
        sampler.stop()
        bench.cpu_seconds = [cpu_seconds(process.pid) for process in processes]
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    collect(bench, server, db)


def start_worker(
    settings: Settings, url: str, folder: Path, bench: Round
) -> subprocess.Popen[bytes]:
    assert settings.secret_keys is not None and settings.exact_client_secret
    environment = {
        **os.environ,
        "LEDGERBRIDGE_DATABASE_URL": url,
        "LEDGERBRIDGE_EXACT_BASE_URL": settings.exact_base_url or "",
        "LEDGERBRIDGE_EXACT_CLIENT_ID": settings.exact_client_id or "",
        "LEDGERBRIDGE_EXACT_CLIENT_SECRET": (
            settings.exact_client_secret.get_secret_value()
        ),
        "LEDGERBRIDGE_EXACT_REDIRECT_URI": REDIRECT,
        "LEDGERBRIDGE_SECRET_KEYS": settings.secret_keys.get_secret_value(),
        "LEDGERBRIDGE_DATA_DIR": str(folder),
        "LEDGERBRIDGE_LOG_LEVEL": "WARNING",
    }
    command = Path(sys.executable).with_name("ledgerbridge")
    log = (folder / f"worker-{bench.workers}-{time.time_ns()}.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - our own command
        [str(command), "worker", "--concurrency", str(bench.concurrency)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for_workers(db: Database, count: int) -> None:
    """Until `count` Procrastinate workers registered (two per process)."""
    deadline = time.monotonic() + 60
    while True:
        with db.engine.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT count(*) FROM procrastinate_workers"
            ).scalar()
        if found is not None and found >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.2)


def active_runs(db: Database, refs: list[str]) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RunRow)
                .join(CompanyRow, CompanyRow.id == RunRow.company_id)
                .where(
                    CompanyRow.ref.in_(refs), RunRow.status.in_(["queued", "running"])
                )
            )
            or 0
        )


class Sampler:
    """Reads the round's calls and 429s at second 59.5 of each minute."""

    def __init__(self, server: SandboxServer, bench: Round) -> None:
        self.server = server
        self.bench = bench
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._last: tuple[int, int] | None = None

    def start(self) -> None:
        self._last = self._read()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _read(self) -> tuple[int, int]:
        divisions = self.server.admin.get("/_sandbox/stats").json()["divisions"]
        ours = [divisions.get(str(code), {}) for code in self.bench.divisions]
        return (
            sum(stats.get("calls", 0) for stats in ours),
            sum(stats.get("rate_limited", 0) for stats in ours),
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            at = math.floor(now / 60) * 60 + READ_AT
            if at <= now:
                at += 60
            if self._stop.wait(at - now):
                return
            calls, refused = self._read()
            assert self._last is not None
            minute = int(at // 60)
            self.bench.minutes.append(
                (minute, calls - self._last[0], refused - self._last[1])
            )
            self._last = (calls, refused)


def collect(bench: Round, server: SandboxServer, db: Database) -> None:
    with db.sessions() as session:
        rows = (
            session.execute(
                select(RunRow)
                .join(CompanyRow, CompanyRow.id == RunRow.company_id)
                .where(CompanyRow.ref.in_(bench.refs))
            )
            .scalars()
            .all()
        )
    starts = [row.started_at for row in rows if row.started_at]
    ends = [row.finished_at for row in rows if row.finished_at]
    bench.started, bench.finished = min(starts), max(ends)
    succeeded = [row for row in rows if row.status == "succeeded"]
    bench.last_start = max(row.started_at for row in succeeded if row.started_at)
    bench.first_end = min(row.finished_at for row in succeeded if row.finished_at)
    failed = [f"{row.status}: {row.message}" for row in rows if row not in succeeded]
    bench.failed_runs = len(failed)
    bench.failures = dict(Counter(failed))
    stats = server.admin.get("/_sandbox/stats").json()["divisions"]
    ours = [stats.get(str(code), {}) for code in bench.divisions]
    bench.calls = sum(entry.get("calls", 0) for entry in ours)
    bench.refused = sum(entry.get("rate_limited", 0) for entry in ours)


def report(bench: Round, invoices: int) -> None:
    assert bench.started and bench.finished and bench.last_start and bench.first_end
    share = bench.steady_share()
    print(f"  runs: {len(bench.refs)}, not succeeded: {bench.failed_runs}")
    for failure, count in bench.failures.items():
        print(f"    {count} x {failure}")
    print(
        f"  first start to last end {fmt(bench.finished - bench.started)}; every "
        f"run going from {bench.last_start:%H:%M:%S} to {bench.first_end:%H:%M:%S}"
    )
    print(f"  calls in each whole minute: {[calls for _, calls, _ in bench.minutes]}")
    print(
        f"  steady minutes {bench.steady()}: "
        f"{'-' if share is None else f'{share:.1%}'} of {bench.limit} a minute"
    )
    print(
        f"  whole round: {bench.calls} calls, {bench.overall_share():.1%} of the "
        f"limits; 429s: {bench.refused}"
    )
    print(f"  worker CPU seconds: {[round(s, 1) for s in bench.cpu_seconds]}")
    print(
        "  "
        + json.dumps(
            {
                "workers": bench.workers,
                "concurrency": bench.concurrency,
                "divisions": len(bench.divisions),
                "invoices": invoices,
                "steady_share": share,
                "overall_share": bench.overall_share(),
                "calls": bench.calls,
                "rate_limited": bench.refused,
            }
        ),
        flush=True,
    )


def fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[tuple[Database, str]]:
    """A new, migrated PostgreSQL database on the admin URL's server,
    dropped afterwards: (Database, its SQLAlchemy URL)."""
    name = f"ledgerbridge_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    url = f"{base}/{name}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield Database(engine, make_session_factory(engine)), url
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
