"""The scale-out adapter: runs carried out by Procrastinate workers on
PostgreSQL, on any number of machines.

How a run travels:

1. `ProcrastinateQueue.submit` creates the run *queued* and, in the same
   transaction, defers the job `execute_run(run_id)` with the company's lock
   (`company:REF`) and a queueing lock (`run:REF:FLOW`). A rolled-back
   request leaves neither run nor job.
2. A worker (`ledgerbridge worker`, `run_worker`) fetches the job.
   Procrastinate never runs two jobs of one lock at once, so a company's
   runs never overlap, whichever worker takes them, while different
   companies run side by side (`concurrency` per worker process).
3. The job claims the run (owner `host:pid`) and carries it out with
   `Runner.execute`, the exactly-once protocol included.

Two periodic tasks, deferred once per minute however many workers there are
(Procrastinate records each defer in `procrastinate_periodic_defers`):

* `daily_tick`: the daily scheduler's tick; the due runs go to this queue
  instead of being carried out on the spot.
* `retry_stalled_jobs`: the jobs of a worker that stopped heartbeating
  (killed, its machine lost) go back to the queue, so another worker takes
  the run over; what the dead one left pending is looked up in Exact before
  anything is sent again.

Each worker process runs two Procrastinate workers: `concurrency` slots on
the `runs` queue, and one on `maintenance` for the periodic tasks, so these
never wait behind long exports.

Stopping (SIGTERM, SIGINT): no new jobs; a run going on gets
`Timing.shutdown_seconds` to end, then stops before its next few documents
(never in the middle of one): it ends *stopped*, what was booked stays
booked, and the same request is queued again as a new run, which another
worker (or this one, restarted) carries on.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import structlog
from procrastinate import (
    App,
    JobContext,
    PsycopgConnector,
    RetryStrategy,
    SyncPsycopgConnector,
)
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import AbortReason
from procrastinate.worker import Worker
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ledgerbridge.adapters.sync_store import SqlStore
from ledgerbridge.domain.documents import Side
from ledgerbridge.exact.clock import Clock
from ledgerbridge.jobs.queue import company_lock, queueing_lock, stop_if_active
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_session_factory
from ledgerbridge.storage.tables import RunRow
from ledgerbridge.sync.errors import RunInProgress, SyncError, UnknownRun
from ledgerbridge.sync.model import ExportItem, RunInfo, RunRequest, RunStatus
from ledgerbridge.wiring import Database

logger = structlog.get_logger(__name__)

RUNS_QUEUE = "runs"
MAINTENANCE_QUEUE = "maintenance"
EXECUTE_RUN = "ledgerbridge.execute_run"
DAILY_TICK = "ledgerbridge.daily_tick"
RETRY_STALLED = "ledgerbridge.retry_stalled_jobs"
CHUNK = 10
"""Documents an export books between two looks at whether to stop."""
DB_RETRIES = RetryStrategy(
    max_attempts=5, exponential_wait=4, retry_exceptions={OperationalError}
)
"""The database went away under a job: try again later (4 s, 16 s, 64 s,
...); the run is claimed again and carries on."""
DB_POOL = 5
DB_OVERFLOW = 5
"""Database connections of a worker process: a pool, and more at peaks."""
SHUTDOWN_SECONDS = 10.0
"""On SIGTERM, how long a run may go on before it stops between documents."""


class NotPostgres(ValueError):
    """Procrastinate needs PostgreSQL."""


@dataclass(frozen=True, slots=True)
class Timing:
    """How often a worker does what; the defaults suit production, tests
    shorten them."""

    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0
    """A worker without a heartbeat for this long is dead: its jobs are
    retried by `retry_stalled_jobs`."""
    poll_seconds: float = 5.0
    """Look for jobs at least this often (LISTEN/NOTIFY wakes it sooner)."""
    shutdown_seconds: float = SHUTDOWN_SECONDS
    daily_cron: str = "* * * * *"
    retry_cron: str = "* * * * *"


def conninfo(database_url: str) -> str:
    """The libpq address of a SQLAlchemy PostgreSQL URL (`+psycopg` off)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise NotPostgres(
            "Procrastinate workers need PostgreSQL: set LEDGERBRIDGE_DATABASE_URL "
            "to a postgresql+psycopg:// URL."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


# The app and its tasks


class JobHandlers(Protocol):
    """What the tasks do in a worker process (`WorkerJobs`)."""

    def execute_run(self, context: JobContext, run_id: int) -> str: ...

    def daily_tick(self, timestamp: int) -> int: ...


class _NotAWorker:
    def execute_run(self, context: JobContext, run_id: int) -> str:
        raise RuntimeError("this process only enqueues; 'ledgerbridge worker' runs")

    def daily_tick(self, timestamp: int) -> int:
        raise RuntimeError("this process only enqueues; 'ledgerbridge worker' runs")


def build_app(
    url: str, timing: Timing | None = None, handlers: JobHandlers | None = None
) -> App:
    """The Procrastinate app of a worker process: its tasks, the periodic
    ones, on an async psycopg pool at `url` (a SQLAlchemy URL)."""
    timing = timing or Timing()
    on = handlers or _NotAWorker()
    app = App(
        connector=PsycopgConnector(conninfo=conninfo(url), min_size=2, max_size=4)
    )

    @app.task(name=EXECUTE_RUN, queue=RUNS_QUEUE, pass_context=True, retry=DB_RETRIES)
    def execute_run(context: JobContext, run_id: int) -> str:
        return on.execute_run(context, run_id)

    @app.periodic(cron=timing.daily_cron, periodic_id="daily-tick")
    @app.task(name=DAILY_TICK, queue=MAINTENANCE_QUEUE, lock="ledgerbridge:daily-tick")
    def daily_tick(timestamp: int) -> int:
        return on.daily_tick(timestamp)

    @app.periodic(cron=timing.retry_cron, periodic_id="retry-stalled")
    @app.task(name=RETRY_STALLED, queue=MAINTENANCE_QUEUE, pass_context=True)
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=timing.stalled_after_seconds
        )
        retried = 0
        for job in stalled:
            if job.id == context.job.id:
                continue
            await manager.retry_job(job)
            retried += 1
            logger.warning(
                "job.stalled_retried",
                job=job.id,
                task=job.task_name,
                lock=job.lock,
                dead_worker=job.worker_id,
            )
        return retried

    return app


# Enqueueing


class ProcrastinateQueue:
    """`RunQueue` on Procrastinate: the run is created *queued* and its job
    deferred in the same transaction."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        # A sync connector: it writes on the run's own psycopg connection
        # (never opened: no pool of its own), also inside an async worker.
        self.app = App(
            connector=SyncPsycopgConnector(
                conninfo=conninfo(database_url(runner.database))
            )
        )

    def submit(self, request: RunRequest) -> RunInfo:
        try:
            return self.runner.start(request, status=RunStatus.QUEUED, then=self._defer)
        except AlreadyEnqueued:
            # A job of the company and flow still waits, for a run that is
            # no longer active (stopped by hand): drop it, and queue anew.
            self._drop_stale_job(request)
            return self.runner.start(request, status=RunStatus.QUEUED, then=self._defer)

    def _defer(self, connection: Any, run: RunInfo) -> None:
        job = self.app.configure_task(
            EXECUTE_RUN,
            queue=RUNS_QUEUE,
            lock=company_lock(run.company_ref),
            queueing_lock=queueing_lock(run.company_ref, run.flow),
            connection=connection,
        ).defer(run_id=run.id)
        logger.info("run.queued", run=run.id, company=run.company_ref, job=job)

    def _drop_stale_job(self, request: RunRequest) -> None:
        lock = queueing_lock(request.company_ref, request.flow)
        with self.runner.database.engine.begin() as connection:
            row = connection.execute(
                text(
                    "SELECT id, (args->>'run_id')::int FROM procrastinate_jobs "
                    "WHERE queueing_lock = :lock AND status = 'todo'"
                ),
                {"lock": lock},
            ).first()
            if row is None:
                return
            job_id, run_id = row
            active = connection.scalar(
                select(RunRow.status).where(RunRow.id == run_id)
            ) in {RunStatus.QUEUED.value, RunStatus.RUNNING.value}
            if active:
                raise RunInProgress(request.company_ref, run_id, request.flow, "queued")
            self.app.job_manager.cancel_job_by_id(
                job_id,
                delete_job=True,
                connection=connection.connection.driver_connection,
            )
        logger.warning("job.stale_dropped", job=job_id, run=run_id, lock=lock)

    def close(self) -> None:
        pass  # the connector was never opened


# Carrying out, in a worker process

_current_job: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar(
    "ledgerbridge_job", default=None
)


class WorkerStopping(Exception):
    """The worker stops: the export ends before its next documents."""


class StoppableStore(SqlStore):
    """`SqlStore` whose export hands its documents over `CHUNK` at a time
    and stops between two chunks when the job is asked to abort (the
    worker's shutdown after its grace period, or a person)."""

    def export_items(
        self,
        company_ref: str,
        side: Side,
        first: date,
        last: date,
        refs: Sequence[str] = (),
        batch: int = 200,
    ) -> Iterator[list[ExportItem]]:
        for items in super().export_items(company_ref, side, first, last, refs, batch):
            for start in range(0, len(items), CHUNK):
                job = _current_job.get()
                if job is not None and job.should_abort():
                    raise WorkerStopping
                yield items[start : start + CHUNK]


class WorkerJobs:
    """The tasks' work in a worker process, on one `Runner` (one Exact
    client, so one rate governor, per company in the process)."""

    def __init__(self, runner: Runner, queue: ProcrastinateQueue) -> None:
        self.runner = runner
        self.queue = queue
        self.store = StoppableStore(runner.database.sessions)
        runner.store = self.store
        self._ticker: Any = None
        self._lock = threading.Lock()
        self._running: set[int] = set()
        """Runs carried out by this process right now."""

    def execute_run(self, context: JobContext, run_id: int) -> str:
        try:
            run = self.store.run(run_id)
        except UnknownRun:
            logger.warning("run.unknown", run=run_id, job=context.job.id)
            return f"no run {run_id}"
        if not run.status.active:
            # Finished meanwhile (a retried job whose run a newer one
            # settled, or stopped by hand): nothing to do.
            logger.info("run.not_active", run=run_id, status=run.status)
            return f"run {run_id} is {run.status}"
        owner = self._live_owner_here(run_id)
        if owner is not None:
            # Retried while its process still runs it (heartbeats that came
            # too late): that process finishes it.
            logger.warning("run.still_running", run=run_id, owner=owner)
            return f"run {run_id} still runs in {owner}"

        token = _current_job.set(context)
        structlog.contextvars.bind_contextvars(job=context.job.id)
        with self._lock:
            self._running.add(run_id)
        try:
            finished = self.runner.execute(run_id)
        except WorkerStopping:
            return self._released(context, run)
        except OperationalError:
            raise  # the database went away: retried later (DB_RETRIES)
        except Exception:
            logger.exception("run.crashed", run=run_id)
            stop_if_active(self.runner, run_id)
            raise
        finally:
            with self._lock:
                self._running.discard(run_id)
            structlog.contextvars.unbind_contextvars("job")
            _current_job.reset(token)
        return f"run {run_id} {finished.status}"

    def _live_owner_here(self, run_id: int) -> str | None:
        """The run's owner when it is a live process on this machine."""
        with self.runner.database.sessions() as session:
            owner = session.scalar(select(RunRow.owner).where(RunRow.id == run_id))
        if owner is None:
            return None
        host, _, pid = owner.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return None  # elsewhere: Procrastinate's heartbeat says it died
        if int(pid) == os.getpid():
            with self._lock:
                return owner if run_id in self._running else None
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return owner
        return owner

    def _released(self, context: JobContext, run: RunInfo) -> str:
        """The export stopped between documents; queue the same request
        again when the worker is shutting down."""
        done = "what was booked stays booked"
        if context.abort_reason() is not AbortReason.SHUTDOWN:
            message = f"Stopped on request between documents; {done}."
        else:
            again = RunRequest(
                run.company_ref,
                run.flow,
                run.first,
                run.last,
                run.trigger,
                run.started_by,
                run.documents,
            )
            try:
                follow = self.queue.submit(again)
            except SyncError as exc:
                message = (
                    f"The worker stopped between documents; {done}. It was not "
                    f"queued again: {exc}"
                )
            else:
                message = (
                    f"The worker stopped between documents; {done} and run "
                    f"{follow.id} carries on."
                )
        with self.runner.database.sessions.begin() as session:
            session.execute(
                update(RunRow).where(RunRow.id == run.id).values(message=message)
            )
        logger.info("run.released", run=run.id, company=run.company_ref)
        return message

    def daily_tick(self, timestamp: int) -> int:
        """Claim the daily runs due at the tick's minute and queue them."""
        ticker = self._daily_scheduler()
        now = datetime.fromtimestamp(timestamp, UTC)
        return len(ticker.tick(now))

    def _daily_scheduler(self) -> Any:
        if self._ticker is None:
            from ledgerbridge.jobs.scheduler import DailyScheduler

            self._ticker = DailyScheduler(
                self.runner, self.runner.database, queue=self.queue
            )
        return self._ticker


# The worker process


def worker_database(url: str, concurrency: int) -> Database:
    """The database for a worker. Its runs hold a connection only for a
    short transaction at a time (a token read per Exact call, the outcomes
    of a few documents), so a few connections serve many slots; PostgreSQL
    allows 100 in all by default."""
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=min(concurrency, DB_POOL),
        max_overflow=DB_OVERFLOW,
        pool_timeout=120,
    )
    return Database(engine, make_session_factory(engine))


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 4,
    timing: Timing | None = None,
    clock: Clock | None = None,
    http: Any = None,
) -> None:
    """Carry out queued runs until SIGTERM or SIGINT (see the module's
    docstring); `NotPostgres` on SQLite."""
    timing = timing or Timing()
    url = settings.effective_database_url
    conninfo(url)
    database = worker_database(url, concurrency)
    runner = Runner(settings, database, http=http, clock=clock)
    queue = ProcrastinateQueue(runner)
    app = build_app(url, timing, WorkerJobs(runner, queue))
    try:
        asyncio.run(_work(app, concurrency, timing))
    finally:
        runner.close()
        database.engine.dispose()


async def _work(app: App, concurrency: int, timing: Timing) -> None:
    loop = asyncio.get_running_loop()
    # Sync tasks run on the loop's default executor: a thread per slot.
    loop.set_default_executor(
        ThreadPoolExecutor(concurrency + 1, thread_name_prefix="ledgerbridge-job")
    )
    me = f"{socket.gethostname()}:{os.getpid()}"
    options: dict[str, Any] = {
        "shutdown_graceful_timeout": timing.shutdown_seconds,
        "delete_jobs": "successful",
        "install_signal_handlers": False,
        "update_heartbeat_interval": timing.heartbeat_seconds,
        "stalled_worker_timeout": timing.stalled_after_seconds,
        "fetch_job_polling_interval": timing.poll_seconds,
        "abort_job_polling_interval": timing.poll_seconds,
    }
    async with app.open_async():
        workers = [
            Worker(
                app,
                queues=[RUNS_QUEUE],
                concurrency=concurrency,
                name=f"runs@{me}",
                **options,
            ),
            Worker(
                app,
                queues=[MAINTENANCE_QUEUE],
                concurrency=1,
                name=f"maintenance@{me}",
                **options,
            ),
        ]

        def stop() -> None:
            logger.info("worker.stopping", grace_seconds=timing.shutdown_seconds)
            for worker in workers:
                worker.stop()  # type: ignore[no-untyped-call]

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop)
        logger.info("worker.started", concurrency=concurrency, worker=me)
        tasks = [
            asyncio.create_task(worker.run())  # type: ignore[no-untyped-call]
            for worker in workers
        ]
        try:
            # Either one ending (a lost database) ends both.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            stop()
            await asyncio.gather(*tasks)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        logger.info("worker.stopped", worker=me)
