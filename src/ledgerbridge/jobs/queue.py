"""The task queue: how a run, once asked for, gets carried out.

`RunQueue` is the port the REST API and the daily tick hand runs to. Its
`submit` passes the run's guards (`Runner.start`: flow switched on, terms
accepted, a sane period, no other run of the company going) and returns the
new run at once; the run goes on elsewhere. Two adapters run the same sync
use cases (`Runner.execute`):

* `EmbeddedQueue` (here): threads of the serving process, on SQLite or
  PostgreSQL. The run starts *running*, owned by this process, so a run cut
  short by the process's death is told apart and settled by the next one.
* `ProcrastinateQueue` (`workers.py`): a Procrastinate job, enqueued in the
  transaction that creates the run *queued*, for `ledgerbridge worker`
  processes on any number of machines (PostgreSQL only).

`open_queue` picks one from `LEDGERBRIDGE_QUEUE` (`auto`: Procrastinate on
PostgreSQL, embedded on SQLite).

One rule keeps a company's runs one at a time in both: the run table holds
at most one queued or running run per company (a partial unique index), so a
second request is refused with `RunInProgress` naming the run going; the
Procrastinate jobs also carry the company's lock (`company_lock`), so no two
of its jobs ever run at once, whichever worker takes them.
"""

from __future__ import annotations

import threading
import time
from typing import Literal, Protocol

import structlog
from sqlalchemy.engine import make_url

from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.sync.model import Flow, RunInfo, RunRequest, RunStatus

logger = structlog.get_logger(__name__)

QueueKind = Literal["embedded", "procrastinate"]

EMBEDDED_WORKERS = 4
"""Companies whose runs go on at the same time in an embedded queue."""
CLOSE_WAIT_SECONDS = 30.0
"""How long `EmbeddedQueue.close` waits for the runs going on. A run cut
short is marked interrupted by the next run of its company, which settles
what it left pending."""


class RunQueue(Protocol):
    def submit(self, request: RunRequest) -> RunInfo:
        """Create the run after its guards and hand it over; the run as
        created (running or queued). Raises what `Runner.start` raises
        (`RunInProgress` with the id of the run going, ...)."""
        ...

    def close(self) -> None:
        """No more runs; release what the queue holds."""
        ...


class QueueUnavailable(ValueError):
    """The configured queue cannot work with the configured database; the
    message says what to set."""


def company_lock(company_ref: str) -> str:
    """The lock every job of the company holds: one at a time."""
    return f"company:{company_ref}"


def queueing_lock(company_ref: str, flow: Flow) -> str:
    """At most one job of a company and flow waits in the queue."""
    return f"run:{company_ref}:{flow.value}"


def queue_kind(settings: Settings) -> QueueKind:
    """Which adapter `LEDGERBRIDGE_QUEUE` asks for on the configured
    database; `QueueUnavailable` for Procrastinate on SQLite."""
    backend = make_url(settings.effective_database_url).get_backend_name()
    if settings.queue == "auto":
        return "procrastinate" if backend == "postgresql" else "embedded"
    if settings.queue == "procrastinate" and backend != "postgresql":
        raise QueueUnavailable(
            "LEDGERBRIDGE_QUEUE=procrastinate needs PostgreSQL: set "
            "LEDGERBRIDGE_DATABASE_URL to a postgresql+psycopg:// URL, or "
            "LEDGERBRIDGE_QUEUE to embedded (or auto)."
        )
    return settings.queue


def open_queue(settings: Settings, runner: Runner) -> RunQueue:
    """The queue `LEDGERBRIDGE_QUEUE` asks for, on the runner's database."""
    if queue_kind(settings) == "embedded":
        return EmbeddedQueue(runner)
    from ledgerbridge.jobs.workers import ProcrastinateQueue

    return ProcrastinateQueue(runner)


class EmbeddedQueue:
    """Runs carried out by threads of this process, `workers` companies at
    a time. The threads are daemons: stopping the process never waits for a
    long export (its run is settled by the company's next run)."""

    def __init__(self, runner: Runner, workers: int = EMBEDDED_WORKERS) -> None:
        self.runner = runner
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._closed = False

    def submit(self, request: RunRequest) -> RunInfo:
        with self._lock:
            if self._closed:
                raise RuntimeError("the queue is closed")
        run = self.runner.start(request)
        job = threading.Thread(
            target=self._carry_out,
            args=(run.id,),
            name=f"run-{run.id}-{run.company_ref}",
            daemon=True,
        )
        with self._lock:
            self._threads.add(job)
        job.start()
        return run

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the runs handed over so far; False if some still go on
        after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for job in threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            job.join(left)
        return not any(job.is_alive() for job in threads)

    def close(self, timeout: float = CLOSE_WAIT_SECONDS) -> None:
        with self._lock:
            self._closed = True
        if not self.wait(timeout):
            logger.warning("queue.closed_with_runs_going")

    def _carry_out(self, run_id: int) -> None:
        try:
            with self._slots:
                self.runner.execute(run_id)
        except Exception:
            logger.exception("run.crashed", run=run_id)
            stop_if_active(self.runner, run_id)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())


def stop_if_active(runner: Runner, run_id: int) -> None:
    """After an unexpected error: never leave the run queued or running, it
    would hold up every later run of its company."""
    try:
        if runner.store.run(run_id).status.active:
            runner.store.finish_run(
                run_id,
                RunStatus.STOPPED,
                "An unexpected error stopped the run; the log has the details.",
                0,
            )
    except Exception:
        logger.exception("run.not_stopped", run=run_id)
