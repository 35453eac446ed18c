"""Benchmarks of the customer invoice export against the sandbox.

The sandbox runs in a process of its own (`ledgerbridge sandbox serve`), so
this process's CPU time and memory are the export's. Each benchmark sets up
a fresh sandbox and database, a synthetic Belgian company (`loadgen`), a
first export that creates its customers in Exact (so the measured export is
a steady-state day), prints its figures and whether the goal is met.

    .venv/bin/python bench/sync_export.py calls [--invoices 1000]
    .venv/bin/python bench/sync_export.py calls --pdf
    .venv/bin/python bench/sync_export.py pace [--quick]
    .venv/bin/python bench/sync_export.py speed [--blocks 4 --per-block 500]
    .venv/bin/python bench/sync_export.py memory [--invoices 100000]

`--database-url postgresql+psycopg://...` runs on an empty PostgreSQL
database instead of a SQLite file. The exit code is 1 when a goal is missed.

* calls: calls to Exact per invoice (goal <= 1.02; with a PDF on every
  invoice and *attach PDF* on, <= 3.02).
* pace: 300 invoices at 60 calls a minute, 3,000 at 600 (real time, about 5
  minutes each; `--quick`: 60 at 60 and 600 at 600): calls a minute as a
  share of the limit (goal >= 95 %) and 429s (goal 0).
* speed: limits off; our time per invoice against a bare loop that POSTs the
  same bookings' payloads with plain httpx2 to another division of the same
  sandbox, block by block, in turns (goal: ratio <= 1.5); `--profile` adds a
  cProfile of one more export block and prints our hotspots.
* memory: the RSS high-water mark of a process that exports 100,000
  invoices (goal < 300 MB); loading them runs in a process of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from syncbench import (
    NO_LIMITS,
    SandboxServer,
    connect,
    database,
    export,
    goal,
    machine,
    peak_rss_mb,
    quiet,
    sandbox_server,
    settings_for,
)

from ledgerbridge import loadgen
from ledgerbridge.adapters.exact_gateway import ClientGateway
from ledgerbridge.adapters.sync_store import SqlStore
from ledgerbridge.domain.booking import Booking, build_booking, payload
from ledgerbridge.domain.documents import Side
from ledgerbridge.exact.client import TIMEOUT
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.sync.model import RunStatus
from ledgerbridge.wiring import Database, open_database

DIVISION = 1001
BARE_DIVISION = 1002
COMPANY = "bench-be"
BARE_COMPANY = "bare-be"
CUSTOMERS = 50
HISTORY_DAYS = 60
BENCH = Path(__file__).resolve().parent


def today() -> date:
    """The sandbox's day (its clock is real time, UTC)."""
    return datetime.now(UTC).date()


def steady_company(
    server: SandboxServer,
    db: Database,
    url: str,
    folder: Path,
    *,
    pdf_share: float = 0.0,
    ref: str = COMPANY,
    division: int = DIVISION,
    settings: Settings | None = None,
) -> tuple[Settings, Runner]:
    """A company connected to `division`, its customers created in Exact by
    a first export of one invoice each, dated 45 to 58 days ago."""
    day = today()
    server.division(division)
    settings = settings or settings_for(server, url, folder)
    loaded = loadgen.load_company(
        db.sessions,
        ref,
        customers=CUSTOMERS,
        invoices=CUSTOMERS,
        last=day - timedelta(days=45),
        days=14,
        pdf_share=pdf_share,
    )
    connect(server, settings, db, loaded.company_id, ref, division)
    runner = Runner(settings, db)
    warm = export(runner, ref, day - timedelta(days=HISTORY_DAYS), day)
    assert warm.status is RunStatus.SUCCEEDED, warm
    return settings, runner


# 1. Calls per invoice


def bench_calls(args: argparse.Namespace) -> bool:
    pdf = 1.0 if args.pdf else 0.0
    with sandbox_server() as server, database(args.database_url) as (db, url, folder):
        _, runner = steady_company(server, db, url, folder, pdf_share=pdf)
        loadgen.add_invoices(
            db.sessions, COMPANY, invoices=args.invoices, last=today(), pdf_share=pdf
        )
        before = server.stats(DIVISION)["calls"]
        started = time.perf_counter()
        run = export(runner, COMPANY, today() - timedelta(days=HISTORY_DAYS), today())
        seconds = time.perf_counter() - started
        counted = server.stats(DIVISION)["calls"] - before
        by_endpoint = server.stats(DIVISION)["by_endpoint"]
        runner.close()
    limit = 3.02 if args.pdf else 1.02
    per_invoice = counted / run.counts.booked
    print(f"calls per invoice{' (PDF on every invoice)' if args.pdf else ''}")
    print(f"  {machine()}; database {url.split(':')[0]}")
    print(
        f"  run {run.status.value}: {run.counts.booked} booked, "
        f"{run.counts.already_done} done before, {run.counts.failed} failed, "
        f"{seconds:.1f} s"
    )
    print(f"  calls: sandbox counted {counted}, the run counted {run.exact_calls}")
    print(f"  calls by endpoint over the whole benchmark: {by_endpoint}")
    met = run.status is RunStatus.SUCCEEDED and per_invoice <= limit
    print(f"  calls per invoice {per_invoice:.4f} (goal <= {limit}): {goal(met)}")
    return met


# 2. Pacing under the minutely limit


def bench_pace(args: argparse.Namespace) -> bool:
    cases = [(60, 60), (600, 600)] if args.quick else [(300, 60), (3000, 600)]
    met = True
    for invoices, limit in cases:
        met &= pace_case(args, invoices, limit)
    return met


def pace_case(args: argparse.Namespace, invoices: int, limit: int) -> bool:
    sent: list[float] = []

    def note(request: Any) -> None:
        sent.append(time.time())

    with sandbox_server() as server, database(args.database_url) as (db, url, folder):
        settings, warm = steady_company(server, db, url, folder)
        warm.close()
        loadgen.add_invoices(db.sessions, COMPANY, invoices=invoices, last=today())
        # A new minute, so the warm-up's calls leave the measured ones alone.
        time.sleep(60.5 - server.now() % 60)
        server.limits(DIVISION, limit, NO_LIMITS["daily"])
        before = server.stats(DIVISION)
        with httpx2.Client(timeout=TIMEOUT, event_hooks={"request": [note]}) as http:
            runner = Runner(settings, db, http=http)
            started = time.time()
            run = export(
                runner, COMPANY, today() - timedelta(days=HISTORY_DAYS), today()
            )
            elapsed = time.time() - started
        after = server.stats(DIVISION)
    calls = after["calls"] - before["calls"]
    refused = after["rate_limited"] - before["rate_limited"]
    per_minute = calls / elapsed * 60
    minutes = Counter(int(moment // 60) for moment in sent)
    full = [minutes[m] for m in sorted(minutes)[1:-1]]  # whole minutes only
    share = per_minute / limit
    print(f"pace: {invoices} invoices at {limit} calls a minute (real time)")
    print(f"  {machine()}; database {url.split(':')[0]}")
    print(
        f"  run {run.status.value}: {run.counts.booked} booked; {calls} calls "
        f"in {elapsed:.1f} s; 429s: {refused}"
    )
    print(
        f"  calls a minute: {per_minute:.1f} = {share:.1%} of the limit over the "
        f"run; calls in each clock minute: {[minutes[m] for m in sorted(minutes)]}"
    )
    if full:
        print(
            f"  whole minutes: {min(full) / limit:.1%} to {max(full) / limit:.1%} "
            "of the limit"
        )
    met = share >= 0.95 and refused == 0 and run.status is RunStatus.SUCCEEDED
    print(f"  goal >= 95 % of the limit and no 429: {goal(met)}")
    return met


# 3. Our time per invoice against a bare loop


def bench_speed(args: argparse.Namespace) -> bool:
    blocks, size = args.blocks, args.per_block
    with sandbox_server() as server, database(args.database_url) as (db, url, folder):
        settings, runner = steady_company(server, db, url, folder)
        bare_runner = bare_company(server, db, url, folder, settings)
        # One period per block, oldest first, none overlapping.
        periods = [
            (today() - timedelta(days=7 * k + 6), today() - timedelta(days=7 * k))
            for k in range(blocks + (1 if args.profile else 0))
        ][::-1]
        for _first, last in periods:
            loadgen.add_invoices(db.sessions, COMPANY, invoices=size, last=last, days=7)
        ours: list[float] = []
        bare: list[float] = []
        spent = Timings()
        spent.follow(runner)
        with httpx2.Client(timeout=TIMEOUT) as http:
            for index, (first, last) in enumerate(periods[:blocks]):
                bodies = bare_bodies(db, settings, bare_runner, first, last)
                turns = [("ours", first, last), ("bare", first, last)]
                for who, start, end in turns if index % 2 == 0 else turns[::-1]:
                    if who == "ours":
                        began = time.perf_counter()
                        run = export(runner, COMPANY, start, end)
                        ours.append(time.perf_counter() - began)
                        assert run.counts.booked == size, run
                    else:
                        bare.append(post_bare(http, server, bare_runner, bodies))
            hotspots = ""
            if args.profile:
                spent.stop()
                first, last = periods[-1]
                profiler = cProfile.Profile()
                profiler.enable()
                export(runner, COMPANY, first, last)
                profiler.disable()
                hotspots = ours_hotspots(profiler)
        runner.close()
        bare_runner.close()
    per_ours = [seconds / size * 1000 for seconds in ours]
    per_bare = [seconds / size * 1000 for seconds in bare]
    ratio = sum(ours) / sum(bare)
    print(f"speed: {blocks} blocks of {size} invoices, limits off")
    print(f"  {machine()}; database {url.split(':')[0]}")
    print(f"  ours: {', '.join(f'{ms:.2f}' for ms in per_ours)} ms per invoice")
    print(f"  bare: {', '.join(f'{ms:.2f}' for ms in per_bare)} ms per invoice")
    print(
        f"  ours {sum(ours) / (blocks * size) * 1000:.2f} ms, bare "
        f"{sum(bare) / (blocks * size) * 1000:.2f} ms per invoice: ratio "
        f"{ratio:.2f} (goal <= 1.5): {goal(ratio <= 1.5)}"
    )
    print(spent.report(sum(ours), blocks * size))
    if hotspots:
        print(hotspots)
    return ratio <= 1.5


class Timings:
    """Where our export's time goes: the seconds spent in the HTTP client,
    in reading the token, in each `Store` method, counted with wrappers
    (a microsecond or two each, not a profiler's overhead)."""

    STORE = (
        "company",
        "create_run",
        "claim_run",
        "plan",
        "planned",
        "mark_pending",
        "record",
        "finish_run",
        "run",
        "pdf",
    )

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.on = True

    def follow(self, runner: Runner) -> None:
        store = runner.store
        for name in self.STORE:
            setattr(store, name, self._timed(f"store.{name}", getattr(store, name)))
        store.export_items = self._timed_iterator(
            "store.export_items", store.export_items
        )
        client = runner.client(COMPANY)
        client.http.request = self._timed_http(client.http.request)
        client.store.current = self._timed(
            "token read (DbTokenStore.current)", client.store.current
        )

    def stop(self) -> None:
        self.on = False

    def _timed(self, label: str, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                if self.on:
                    self.seconds[label] += time.perf_counter() - began
                    self.calls[label] += 1

        return timed

    def _timed_http(self, request: Any) -> Any:
        """HTTP time by method and endpoint: the entry POSTs apart from the
        run's reads of reference data and booked entries."""

        def timed(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            endpoint = str(url).split("?")[0].split("/api/v1/", 1)[-1]
            if endpoint[:1].isdigit():  # the division
                endpoint = endpoint.split("/", 1)[-1]
            label = f"HTTP {method} {endpoint} (client, network, sandbox)"
            return self._timed(label, request)(method, url, *args, **kwargs)

        return timed

    def _timed_iterator(self, label: str, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            iterator = iter(method(*args, **kwargs))
            while True:
                began = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    if self.on:
                        self.seconds[label] += time.perf_counter() - began
                        self.calls[label] += 1
                yield item

        return timed

    def report(self, total: float, invoices: int) -> str:
        lines = ["  where our time went (ms per invoice):"]
        for label, seconds in self.seconds.most_common():
            lines.append(
                f"    {seconds / invoices * 1000:6.3f}  {label} "
                f"({self.calls[label]} calls)"
            )
        rest = total - sum(self.seconds.values())
        lines.append(
            f"    {rest / invoices * 1000:6.3f}  the rest: deciding, building "
            "bookings, the client's own work (governor, logging, JSON)"
        )
        return "\n".join(lines)


def bare_company(
    server: SandboxServer, db: Database, url: str, folder: Path, settings: Settings
) -> Runner:
    """A second company with the same customer codes, connected to the bare
    loop's division, its customers created there."""
    loaded = loadgen.load_company(
        db.sessions, BARE_COMPANY, customers=CUSTOMERS, invoices=0, last=today()
    )
    server.division(BARE_DIVISION)
    connect(server, settings, db, loaded.company_id, BARE_COMPANY, BARE_DIVISION)
    runner = Runner(settings, db)
    gateway = ClientGateway(runner.client(BARE_COMPANY))
    store = SqlStore(db.sessions)
    for code in range(loadgen.FIRST_CODE, loadgen.FIRST_CODE + CUSTOMERS):
        party = loadgen.customer_party(code)
        gateway.create_party(Side.SALES, str(code), party)
    assert store.company(BARE_COMPANY).settings.sales.enabled
    return runner


def bare_bodies(
    db: Database, settings: Settings, bare_runner: Runner, first: date, last: date
) -> list[dict[str, Any]]:
    """The payloads our export would send for the period, built for the
    bare loop's division (its customers' and GL accounts' guids)."""
    store = SqlStore(db.sessions)
    context = store.company(COMPANY)
    tab = context.settings.sales
    plan = store.plan(COMPANY, Side.SALES, first, last)
    gateway = ClientGateway(bare_runner.client(BARE_COMPANY))
    reference = gateway.reference_data(Side.SALES, plan.party_codes)
    bodies = []
    for batch in store.export_items(COMPANY, Side.SALES, first, last):
        for item in batch:
            built = build_booking(item.document, item.party, tab, "EUR", reference)
            assert isinstance(built, Booking), built
            bodies.append(payload(built))
    return bodies


def post_bare(
    http: httpx2.Client,
    server: SandboxServer,
    bare_runner: Runner,
    bodies: list[dict[str, Any]],
) -> float:
    client = bare_runner.client(BARE_COMPANY)
    pair = client.store.current(client.connection)
    assert pair is not None
    url = f"{server.url}/api/v1/{BARE_DIVISION}/salesentry/SalesEntries"
    headers = {
        "Authorization": f"Bearer {pair.access_token}",
        "Accept": "application/json",
        "Prefer": "return=representation",
    }
    began = time.perf_counter()
    for body in bodies:
        answer = http.post(url, json=body, headers=headers)
        if answer.status_code != 201:
            raise SystemExit(f"bare POST refused: {answer.status_code} {answer.text}")
    return time.perf_counter() - began


def ours_hotspots(profiler: cProfile.Profile, top: int = 40) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"ledgerbridge", top)
    return "  cProfile of one more block:\n" + out.getvalue()


# 4. Peak memory of a 100,000-invoice export


def bench_memory(args: argparse.Namespace) -> bool:
    with sandbox_server() as server, database(args.database_url) as (db, url, folder):
        server.division(DIVISION)
        settings = settings_for(server, url, folder)
        started = time.perf_counter()
        child(
            "_load",
            url,
            "--invoices",
            str(args.invoices),
            "--customers",
            str(args.customers),
        )
        loaded_in = time.perf_counter() - started
        with db.sessions() as session:
            from ledgerbridge.storage import repositories as repo

            company = repo.get_company(session, COMPANY)
            assert company is not None
            company_id = company.id
        connect(server, settings, db, company_id, COMPANY, DIVISION)
        environment = variables(settings, url, folder, server)
        result = json.loads(child("_export", url, environment=environment))
        entries = server.stats(DIVISION)
    mb = result["peak_rss_mb"]
    print(f"memory: export of {args.invoices} invoices in one run")
    print(f"  {machine()}; database {url.split(':')[0]}")
    print(f"  loading them (a process of its own): {loaded_in:.0f} s")
    print(
        f"  run {result['status']}: {result['booked']} booked, {result['failed']} "
        f"failed, {result['calls']} calls, {result['seconds']:.0f} s "
        f"({result['seconds'] / max(result['booked'], 1) * 1000:.2f} ms per invoice; "
        f"the exporting process's CPU {result['cpu_seconds']:.0f} s, "
        f"{result['cpu_seconds'] / max(result['booked'], 1) * 1000:.2f} ms per invoice)"
    )
    print(f"  sandbox counted {entries['calls']} calls")
    print(
        f"  exporting process: {result['rss_before_mb']:.0f} MB after imports and "
        f"set-up, peak RSS {mb:.0f} MB (goal < 300 MB): {goal(mb < 300)}"
    )
    return mb < 300 and result["status"] == "succeeded"


def variables(
    settings: Settings, url: str, folder: Path, server: SandboxServer
) -> dict[str, str]:
    """`settings` as the environment variables a process reads them from."""
    key = settings.secret_keys
    secret = settings.exact_client_secret
    return {
        "LEDGERBRIDGE_DATABASE_URL": url,
        "LEDGERBRIDGE_DATA_DIR": str(folder),
        "LEDGERBRIDGE_SECRET_KEYS": key.get_secret_value() if key else "",
        "LEDGERBRIDGE_EXACT_CLIENT_ID": settings.exact_client_id or "",
        "LEDGERBRIDGE_EXACT_CLIENT_SECRET": secret.get_secret_value() if secret else "",
        "LEDGERBRIDGE_EXACT_REDIRECT_URI": settings.exact_redirect_uri,
        "LEDGERBRIDGE_EXACT_BASE_URL": server.url,
    }


def child(
    role: str, url: str, *extra: str, environment: dict[str, str] | None = None
) -> str:
    command = [
        sys.executable,
        str(BENCH / "sync_export.py"),
        role,
        "--database-url",
        url,
        *extra,
    ]
    done = subprocess.run(  # noqa: S603 - this script
        command,
        env={**os.environ, **(environment or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{role} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def load_child(args: argparse.Namespace) -> bool:
    from ledgerbridge.storage.database import make_engine, make_session_factory

    engine = make_engine(args.database_url)
    loadgen.load_company(
        make_session_factory(engine),
        COMPANY,
        customers=args.customers,
        invoices=args.invoices,
        last=today(),
        days=HISTORY_DAYS,
    )
    engine.dispose()
    return True


def export_child(args: argparse.Namespace) -> bool:
    settings = Settings()
    db = open_database(settings)
    runner = Runner(settings, db)
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    run = export(runner, COMPANY, today() - timedelta(days=HISTORY_DAYS), today())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_mb": rss_before,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "status": run.status.value,
                "booked": run.counts.booked,
                "failed": run.counts.failed,
                "calls": run.exact_calls,
            }
        )
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "benchmark", choices=["calls", "pace", "speed", "memory", "_load", "_export"]
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--invoices", type=int, default=None)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--per-block", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.invoices is None:
        args.invoices = 100_000 if args.benchmark in {"memory", "_load"} else 1_000
    quiet()
    run = {
        "calls": bench_calls,
        "pace": bench_pace,
        "speed": bench_speed,
        "memory": bench_memory,
        "_load": load_child,
        "_export": export_child,
    }[args.benchmark]
    return 0 if run(args) else 1


if __name__ == "__main__":
    sys.exit(main())
