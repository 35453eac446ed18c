"""Issue 7: runs carried out by Procrastinate workers on PostgreSQL.

The sandbox is served on a real socket by this process, one division per
company; the workers are subprocesses (`worker_process.py`: the real
`run_worker` with a test's timing), built from `LEDGERBRIDGE_*` variables as
in production. Runs are handed over through `ProcrastinateQueue`, as
`ledgerbridge serve` does, and by the workers' own daily tick.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from ledgerbridge import apikeys, loadgen
from ledgerbridge.cli.app import app as cli
from ledgerbridge.cli.status import read_status
from ledgerbridge.exact.clock import SystemClock
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.jobs import schema
from ledgerbridge.jobs.queue import (
    EmbeddedQueue,
    QueueUnavailable,
    company_lock,
    queue_kind,
)
from ledgerbridge.jobs.workers import ProcrastinateQueue
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Fault, Sandbox
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    Base,
    CompanyRow,
    DocumentRow,
    RunRow,
)
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.sync.errors import RunInProgress
from ledgerbridge.sync.model import Flow, RunRequest, RunStatus, Trigger
from ledgerbridge.wiring import Database
from tests.jobs.conftest import Env
from tests.serving import serve

REPOSITORY = Path(__file__).resolve().parents[2]
EXECUTABLE = Path(sys.executable).with_name("ledgerbridge")
REDIRECT = "http://127.0.0.1:9/callback"
HIGH = {"minutely": 100_000, "daily": 10_000_000}
ENTRIES = "salesentry/SalesEntries"
PROCRASTINATE_TABLES = (
    "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
    "procrastinate_workers"
)


# The world: PostgreSQL, the sandbox, workers


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database, emptied after the test (ours and
    Procrastinate's tables)."""
    engine = make_engine(postgres_url)
    _empty(engine)
    yield Database(engine, make_session_factory(engine))
    _empty(engine)
    engine.dispose()


def _empty(engine: Any) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text(f"TRUNCATE {PROCRASTINATE_TABLES} RESTART IDENTITY CASCADE")
        )


@dataclass
class World:
    sandbox: Sandbox
    admin: httpx2.Client
    base: str
    app: ExactApp
    database: Database
    database_url: str
    settings: Settings
    folder: Path
    today: date
    workers: list[Worker] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        assert self.settings.secret_keys is not None
        return {
            **os.environ,
            "LEDGERBRIDGE_DATABASE_URL": self.database_url,
            "LEDGERBRIDGE_EXACT_BASE_URL": self.base,
            "LEDGERBRIDGE_EXACT_CLIENT_ID": self.app.client_id,
            "LEDGERBRIDGE_EXACT_CLIENT_SECRET": self.app.client_secret,
            "LEDGERBRIDGE_EXACT_REDIRECT_URI": REDIRECT,
            "LEDGERBRIDGE_SECRET_KEYS": self.settings.secret_keys.get_secret_value(),
            "LEDGERBRIDGE_DATA_DIR": str(self.folder),
            "LEDGERBRIDGE_LOG_LEVEL": "INFO",
        }

    def company(self, ref: str, division: int, invoices: int, seed: int) -> int:
        """A loadgen company connected to its own division; its id."""
        loaded = loadgen.load_company(
            self.database.sessions,
            ref,
            customers=3,
            invoices=invoices,
            last=self.today,
            days=20,
            credit_note_share=0.0,
            seed=seed,
        )
        created = self.admin.post(
            "/_sandbox/divisions",
            json={"code": division, "template": "BE", "name": ref},
        )
        assert created.status_code == 201, created.text
        limits = self.admin.put(f"/_sandbox/divisions/{division}/limits", json=HIGH)
        assert limits.status_code == 200, limits.text
        code = self.admin.post(
            "/_sandbox/oauth/code",
            json={
                "client_id": self.app.client_id,
                "redirect_uri": REDIRECT,
                "divisions": [division],
            },
        )
        assert code.status_code == 200, code.text
        store = DbTokenStore(self.database.engine, load_keys(self.settings))
        connection = store.create(loaded.company_id, self.base, division)
        tokens = TokenEndpoint(self.app, self.base, self.admin, SystemClock())
        store.connect(connection, tokens.exchange_code(code.json()["code"]))
        Runner(self.settings, self.database).accept_terms(ref, "tests")
        return loaded.company_id

    def request(self, ref: str, flow: Flow = Flow.CUSTOMER_INVOICES) -> RunRequest:
        first = self.today - timedelta(days=40)
        return RunRequest(ref, flow, first, self.today, Trigger.API, "tests")

    def start_worker(self, concurrency: int = 4, shutdown: float = 10.0) -> Worker:
        number = len(self.workers) + 1
        log = self.folder / f"worker-{number}.log"
        output = log.open("wb")
        process = subprocess.Popen(  # noqa: S603 - our interpreter and module
            [
                sys.executable,
                "-m",
                "tests.jobs.worker_process",
                "--concurrency",
                str(concurrency),
                "--shutdown",
                str(shutdown),
            ],
            cwd=REPOSITORY,
            env=self.environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        worker = Worker(process, output, log)
        self.workers.append(worker)
        return worker

    def entries(self, division: int) -> list[str]:
        """YourRef of every sales entry booked in the division."""
        with self.sandbox.lock:
            records = self.sandbox.divisions[division].records("sales_entries")
            return [str(record.get("YourRef")) for record in records.values()]

    def runs(self) -> list[Run]:
        with self.database.sessions() as session:
            rows = session.execute(
                select(RunRow, CompanyRow.ref)
                .join(CompanyRow, CompanyRow.id == RunRow.company_id)
                .order_by(RunRow.id)
            ).all()
            return [Run.of(row, ref) for row, ref in rows]

    def jobs(self) -> list[dict[str, Any]]:
        with self.database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, queue_name, task_name, lock, queueing_lock, args, "
                    "status::text AS status, attempts FROM procrastinate_jobs "
                    "ORDER BY id"
                )
            ).mappings()
            return [dict(row) for row in rows]

    def logs(self) -> str:
        return "\n".join(
            f"--- {worker.log.name}\n{worker.log.read_text(errors='replace')[-4000:]}"
            for worker in self.workers
        )

    def wait_for(self, what: str, done: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, (
                f"waited {seconds} s for {what}; runs {self.runs()}\n{self.logs()}"
            )
            time.sleep(0.05)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()


@dataclass(frozen=True)
class Run:
    id: int
    company: str
    flow: str
    trigger: str
    status: str
    message: str | None
    owner: str | None
    started_at: datetime | None
    finished_at: datetime | None
    booked: int

    @classmethod
    def of(cls, row: RunRow, ref: str) -> Run:
        return cls(
            row.id,
            ref,
            row.flow,
            row.trigger,
            row.status,
            row.message,
            row.owner,
            row.started_at,
            row.finished_at,
            row.booked,
        )

    @property
    def pid(self) -> int | None:
        return int(self.owner.rpartition(":")[2]) if self.owner else None


@pytest.fixture
def world(pg: Database, postgres_url: str, tmp_path: Path) -> Iterator[World]:
    sandbox = Sandbox()
    with (
        serve(create_app(sandbox)) as base,
        httpx2.Client(base_url=base, timeout=10) as admin,
    ):
        registered = admin.post("/_sandbox/apps", json={"redirect_uri": REDIRECT})
        assert registered.status_code == 201, registered.text
        app = ExactApp(
            registered.json()["client_id"],
            registered.json()["client_secret"],
            REDIRECT,
        )
        settings = Settings(
            data_dir=tmp_path,
            database_url=postgres_url,
            secret_keys=SecretStr(Fernet.generate_key().decode()),
            exact_client_id=app.client_id,
            exact_client_secret=SecretStr(app.client_secret),
            exact_redirect_uri=REDIRECT,
            exact_base_url=base,
        )
        world = World(
            sandbox,
            admin,
            base,
            app,
            pg,
            postgres_url,
            settings,
            tmp_path,
            sandbox.clock.now().date(),
        )
        try:
            yield world
        finally:
            for worker in world.workers:
                worker.stop()


def overlap(one: Run, other: Run) -> bool:
    assert one.started_at and one.finished_at and other.started_at
    assert other.finished_at
    return one.started_at < other.finished_at and other.started_at < one.finished_at


# Twenty companies, two workers


COMPANIES = 20
DAILY = 6
"""Of the companies, these get their export from the workers' daily tick."""
INVOICES = 12


@pytest.mark.postgres
def test_twenty_companies_on_two_workers_never_overlap_within_a_company(
    world: World,
) -> None:
    refs = [f"w{index:02d}" for index in range(COMPANIES)]
    divisions = {ref: 3001 + index for index, ref in enumerate(refs)}
    for index, ref in enumerate(refs):
        world.company(ref, divisions[ref], INVOICES, seed=index + 1)
    daily, manual = refs[:DAILY], refs[DAILY:]
    with world.database.sessions.begin() as session:
        session.execute(
            update(AccountingSettingsRow)
            .where(
                AccountingSettingsRow.company_id.in_(
                    select(CompanyRow.id).where(CompanyRow.ref.in_(daily))
                )
            )
            .values(sales_daily=True, sales_daily_at="00:00")
        )
    runner = Runner(world.settings, world.database)
    queue = ProcrastinateQueue(runner)
    first = {ref: queue.submit(world.request(ref)) for ref in manual}
    # A second request of a company and flow while one is queued: refused,
    # naming the queued run.
    with pytest.raises(RunInProgress) as refused:
        queue.submit(world.request(manual[0]))
    assert refused.value.run_id == first[manual[0]].id

    one, two = world.start_worker(), world.start_worker()

    # Each manual company: the payments import once its export is through.
    imported: set[str] = set()

    def all_done() -> bool:
        runs = world.runs()
        finished = {
            (run.company, run.flow) for run in runs if run.status == "succeeded"
        }
        for ref in manual:
            if (ref, "customer_invoices") in finished and ref not in imported:
                try:
                    queue.submit(world.request(ref, Flow.PAYMENTS))
                except RunInProgress:
                    continue
                imported.add(ref)
        exports = {ref for ref, flow in finished if flow == "customer_invoices"}
        payments = {ref for ref, flow in finished if flow == "payments"}
        return exports == set(refs) and payments == set(manual)

    world.wait_for("every run", all_done, 90)
    runs = world.runs()
    world.wait_for("the queue to empty", lambda: not _busy(world), 10)

    assert [run for run in runs if run.status != "succeeded"] == []
    assert Counter((run.company, run.flow, run.trigger) for run in runs) == Counter(
        {(ref, "customer_invoices", "daily"): 1 for ref in daily}
        | {(ref, "customer_invoices", "api"): 1 for ref in manual}
        | {(ref, "payments", "api"): 1 for ref in manual}
    )
    for ref in refs:
        booked = world.entries(divisions[ref])
        assert len(booked) == INVOICES
        assert len(set(booked)) == INVOICES, f"{ref}: an invoice booked twice"
    by_company: dict[str, list[Run]] = {}
    for run in runs:
        by_company.setdefault(run.company, []).append(run)
    for ref, own in by_company.items():
        for run, later in combinations(own, 2):
            assert not overlap(run, later), f"{ref}: runs {run.id} and {later.id}"
    assert any(
        overlap(run, other)
        for run, other in combinations(runs, 2)
        if run.company != other.company
    )
    assert {run.pid for run in runs} == {one.pid, two.pid}
    assert [job for job in world.jobs() if job["status"] != "succeeded"] == []


def _busy(world: World) -> bool:
    return any(job["status"] in ("todo", "doing") for job in world.jobs())


# A worker killed in the middle of a run


@pytest.mark.postgres
def test_worker_killed_mid_run_another_finishes_it_exactly_once(
    world: World,
) -> None:
    invoices, division = 150, 4001
    world.company("kill-be", division, invoices, seed=7)
    # Every POST answers 20 ms late: the run lasts a few seconds.
    with world.sandbox.lock:
        world.sandbox.faults.append(Fault(ENTRIES, "POST", "slow", 1000, 0.02))
    one, two = world.start_worker(), world.start_worker()
    runner = Runner(world.settings, world.database)
    run = ProcrastinateQueue(runner).submit(world.request("kill-be"))

    world.wait_for("30 entries", lambda: len(world.entries(division)) >= 30, 30)
    # The next POST books, then holds its answer: kill its worker meanwhile.
    held = Fault(ENTRIES, "POST", "slow", 1, 10.0)
    with world.sandbox.lock:
        world.sandbox.faults.insert(0, held)
    world.wait_for("the held POST", lambda: held not in world.sandbox.faults, 10)
    time.sleep(0.2)
    owner = next(r for r in world.runs() if r.id == run.id).pid
    victim, survivor = (one, two) if owner == one.pid else (two, one)
    assert owner == victim.pid
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()

    booked_in_exact = set(world.entries(division))
    with world.database.sessions() as session:
        pending = set(
            session.scalars(
                select(DocumentRow.number).where(
                    DocumentRow.booking_status == "pending"
                )
            )
        )
    assert pending & booked_in_exact, "the kill should leave a posted intent"

    def finished() -> bool:
        return next(r for r in world.runs() if r.id == run.id).status == "succeeded"

    world.wait_for("the run to finish on the other worker", finished, 45)
    done = next(r for r in world.runs() if r.id == run.id)
    assert done.pid == survivor.pid
    assert len(world.runs()) == 1
    booked = world.entries(division)
    assert len(booked) == invoices
    assert len(set(booked)) == invoices, "an invoice booked twice"
    with world.database.sessions() as session:
        statuses = Counter(session.scalars(select(DocumentRow.booking_status)))
    assert statuses == {"booked": invoices}
    assert "job.stalled_retried" in survivor.log.read_text(errors="replace")


# SIGTERM: the run stops between documents and is queued again


@pytest.mark.postgres
def test_sigterm_stops_between_documents_and_queues_the_rest(world: World) -> None:
    invoices, division = 120, 4002
    world.company("term-be", division, invoices, seed=8)
    with world.sandbox.lock:
        world.sandbox.faults.append(Fault(ENTRIES, "POST", "slow", 1000, 0.04))
    worker = world.start_worker(shutdown=0.5)
    runner = Runner(world.settings, world.database)
    run = ProcrastinateQueue(runner).submit(world.request("term-be"))

    world.wait_for("20 entries", lambda: len(world.entries(division)) >= 20, 30)
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=20) == 0, world.logs()

    stopped, again = world.runs()
    assert (stopped.id, stopped.status) == (run.id, "stopped")
    assert stopped.message == (
        "The worker stopped between documents; what was booked stays booked and "
        f"run {again.id} carries on."
    )
    assert again.status == "queued"
    assert [
        (job["lock"], job["status"], job["args"])
        for job in world.jobs()
        if job["queue_name"] == "runs"
    ] == [(company_lock("term-be"), "todo", {"run_id": again.id})]
    # Stopped between documents: nothing pending, Exact and we agree.
    with world.database.sessions() as session:
        statuses = Counter(session.scalars(select(DocumentRow.booking_status)))
    assert statuses["pending"] == 0
    assert statuses["booked"] == len(world.entries(division)) == stopped.booked

    world.start_worker()

    def finished() -> bool:
        return world.runs()[-1].status == "succeeded"

    world.wait_for("the queued rest", finished, 45)
    booked = world.entries(division)
    assert len(booked) == len(set(booked)) == invoices


# `ledgerbridge serve` on PostgreSQL: the API queues, a worker runs


@pytest.mark.postgres
def test_serve_on_postgres_queues_api_runs_for_the_workers(world: World) -> None:
    world.company("api-be", 4005, 5, seed=11)
    with world.database.sessions() as session:
        _, key = apikeys.create(session, "tests")
        session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = world.folder / "serve.log"
    with (
        log.open("wb") as output,
        subprocess.Popen(  # noqa: S603 - our own command
            [str(EXECUTABLE), "serve", "--port", str(port)],
            env=world.environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as server,
        httpx2.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1/companies/api-be",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ) as api,
    ):
        try:
            _wait_until_answering(api, server, log)
            period = {
                "from": str(world.today - timedelta(days=40)),
                "to": str(world.today),
            }
            answer = api.post("/runs", json={**period, "flow": "customer_invoices"})
            assert answer.status_code == 202, answer.text
            run = answer.json()
            assert run["status"] == "queued"
            again = api.post("/runs", json={**period, "flow": "customer_invoices"})
            assert again.status_code == 409
            assert again.json()["run_id"] == run["id"]
            [job] = world.jobs()
            assert (job["args"], job["status"]) == ({"run_id": run["id"]}, "todo")

            world.start_worker()

            def finished() -> bool:
                shown = api.get(f"/runs/{run['id']}").json()
                return bool(shown["status"] == "succeeded")

            world.wait_for("the worker to carry out the API's run", finished, 30)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    logged = log.read_text(errors="replace")
    assert "serve.runs_queued" in logged
    assert "scheduler.started" not in logged
    assert len(world.entries(4005)) == 5


def _wait_until_answering(
    api: httpx2.Client, server: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if api.get("/runs").status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


# Enqueueing in the run's transaction; status


@pytest.mark.postgres
def test_request_rolled_back_after_enqueueing_leaves_no_job_and_no_run(
    world: World,
) -> None:
    world.company("rb-be", 4003, 3, seed=9)
    runner = Runner(world.settings, world.database)
    queue = ProcrastinateQueue(runner)

    def enqueue_then_fail(connection: Any, run: Any) -> None:
        queue._defer(connection, run)
        assert _count(connection, "procrastinate_jobs") == 1  # deferred, here
        raise RuntimeError("the request fails after enqueueing")

    with pytest.raises(RuntimeError, match="after enqueueing"):
        runner.start(
            world.request("rb-be"), status=RunStatus.QUEUED, then=enqueue_then_fail
        )

    assert world.jobs() == []
    assert world.runs() == []

    run = queue.submit(world.request("rb-be"))
    [job] = world.jobs()
    assert (job["queue_name"], job["task_name"], job["status"]) == (
        "runs",
        "ledgerbridge.execute_run",
        "todo",
    )
    assert job["args"] == {"run_id": run.id}
    assert (job["lock"], job["queueing_lock"]) == (
        "company:rb-be",
        "run:rb-be:customer_invoices",
    )
    with pytest.raises(RunInProgress) as refused:
        queue.submit(world.request("rb-be", Flow.PAYMENTS))
    assert refused.value.run_id == run.id

    # Its run stopped by hand while the job still waits: the next request
    # drops that job and queues its own.
    with world.database.sessions.begin() as session:
        session.execute(
            update(RunRow).where(RunRow.id == run.id).values(status="stopped")
        )
    again = queue.submit(world.request("rb-be"))
    assert [(job["args"], job["status"]) for job in world.jobs()] == [
        ({"run_id": again.id}, "todo")
    ]


def _count(connection: Any, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
def test_status_shows_the_queue_runs_and_sign_ins(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    company_id = world.company("st-be", 4004, 2, seed=10)
    runner = Runner(world.settings, world.database)
    run = ProcrastinateQueue(runner).submit(world.request("st-be"))
    store = DbTokenStore(world.database.engine, load_keys(world.settings))
    connection = store.find(company_id)
    assert connection is not None
    store.mark_needs_sign_in(connection, "Exact refused the refresh token.")

    report = read_status(world.settings, world.database)

    assert report["queue"] == "procrastinate"
    assert report["queues"] == [{"name": "runs", "todo": 1, "doing": 0, "failed": 0}]
    assert report["jobs_running"] == []
    assert [(r["run"], r["company"], r["status"]) for r in report["runs"]] == [
        (run.id, "st-be", "queued")
    ]
    assert report["needs_sign_in"] == [
        {"company": "st-be", "reason": "Exact refused the refresh token."}
    ]

    for name, value in world.environment.items():
        if name.startswith("LEDGERBRIDGE_"):
            monkeypatch.setenv(name, value)
    answer = CliRunner().invoke(cli, ["status", "--json"])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["runs"][0]["run"] == run.id
    shown = CliRunner().invoke(cli, ["status"])
    assert shown.exit_code == 0, shown.output
    assert "st-be" in shown.output


@pytest.mark.postgres
def test_procrastinate_schema_is_the_installed_version(pg: Database) -> None:
    with pg.engine.connect() as connection:
        assert schema.applied_mark(connection) == schema.newest_migration()
        assert _table_count(connection) == 4


def _table_count(connection: Any) -> int:
    return int(
        connection.scalar(
            select(func.count())
            .select_from(text("pg_tables"))
            .where(text("tablename LIKE 'procrastinate%'"))
        )
    )


# The embedded queue and the choice


def test_queue_is_chosen_by_the_database(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    postgres = "postgresql+psycopg://postgres@127.0.0.1/x"

    assert queue_kind(Settings(database_url=sqlite)) == "embedded"
    assert queue_kind(Settings(database_url=postgres)) == "procrastinate"
    assert queue_kind(Settings(database_url=postgres, queue="embedded")) == "embedded"
    with pytest.raises(QueueUnavailable, match="needs PostgreSQL"):
        queue_kind(Settings(database_url=sqlite, queue="procrastinate"))


def test_embedded_queue_runs_in_this_process(env: Env) -> None:
    env.accept_terms()
    queue = EmbeddedQueue(env.runner)
    first, last = env.period()
    request = RunRequest(
        "be-keukens", Flow.CUSTOMER_INVOICES, first, last, Trigger.API, "t"
    )

    run = queue.submit(request)
    with pytest.raises(RunInProgress):
        queue.submit(request)
    assert queue.wait(60)
    queue.close()

    assert run.status is RunStatus.RUNNING
    done = env.runner.store.run(run.id)
    assert done.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL}
    assert done.counts.booked > 0
