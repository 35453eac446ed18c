"""The embedded scheduler: the daily runs of `ledgerbridge serve`.

An APScheduler 3 `BackgroundScheduler` calls `DailyScheduler.tick` once a
minute. The schedule itself lives in the database, not in APScheduler: each
tick reads the companies' settings and the day's claims, asks `jobs.daily`
what is due, and claims each due run by inserting a `daily_run_claim` row
(company, flow, local day). The row's primary key lets one process win, so
however many ticks or processes see a run due, it starts once. The winner
starts the run (`Trigger.DAILY`, period `daily_period(local day)`, started
by "daily schedule") and carries it out on a worker thread, one company's
runs one after another, a few companies at a time.

What becomes of a claim:

* the run starts: the claim keeps its id; a run that stops or fails
  documents leaves a notice (`Runner.execute`), e-mailed when SMTP is set;
* the company is busy with another run (`RunInProgress`): the claim is
  dropped, so the next tick tries again;
* the run is refused (flow switched off, terms not accepted, ...): the
  claim stays, so it is not retried that day, and a notice says why;
* the process stops before starting it: the claim is dropped, so the next
  process runs it.

Given a `RunQueue` (`jobs/queue.py`), a tick hands each claimed run to it
instead of carrying it out: Procrastinate's periodic task `daily_tick`
(`jobs/workers.py`) ticks that way, once a minute however many workers
there are, and the runs go to whichever worker is free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from apscheduler.executors.pool import (  # type: ignore[import-untyped]
    ThreadPoolExecutor,
)
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)
from apscheduler.triggers.interval import (  # type: ignore[import-untyped]
    IntervalTrigger,
)
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ledgerbridge.exact.clock import Clock, SystemClock
from ledgerbridge.jobs import daily
from ledgerbridge.jobs.daily import ClaimKey, CompanySchedule, Due
from ledgerbridge.jobs.queue import RunQueue
from ledgerbridge.runner import Runner
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    CompanyRow,
    DailyRunClaimRow,
)
from ledgerbridge.sync.errors import RunInProgress, SyncError
from ledgerbridge.sync.model import Flow, RunInfo, RunRequest, RunStatus, Trigger
from ledgerbridge.sync.runs import daily_period
from ledgerbridge.wiring import Database

logger = structlog.get_logger(__name__)

TICK_SECONDS = 60
MISFIRE_GRACE_SECONDS = 30
"""A tick late by more than this (the machine slept) is skipped; the next
one catches up."""
WORKERS = 4
"""Companies whose daily runs go on at the same time in this process."""
STOP_WAIT_SECONDS = 30.0
"""How long `stop` waits for runs in progress. A run cut short is marked
interrupted by the next run of its company, which settles what it left."""
STARTED_BY = "daily schedule"
NOTICE_KIND = "daily_run"


class DailyScheduler:
    """Claims and carries out the due daily runs of every company.

    `tick` does one round and may be called directly (the tests do); `start`
    calls it every minute from a background thread, starting at once, and
    `stop` ends that and waits for the runs in progress.
    """

    def __init__(
        self,
        runner: Runner,
        database: Database,
        *,
        clock: Clock | None = None,
        workers: int = WORKERS,
        queue: RunQueue | None = None,
    ) -> None:
        self.runner = runner
        self.database = database
        self.clock = clock or SystemClock()
        self.queue = queue
        """Where claimed runs go; None: carried out here, on threads."""
        self._slots = threading.BoundedSemaphore(workers)
        self._tick_lock = threading.Lock()
        self._lock = threading.Lock()
        self._jobs: dict[int, threading.Thread] = {}
        """Company id -> the thread carrying out its claimed runs."""
        self._stopping = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._bad_zones: set[str] = set()

    # The minute tick

    def start(self) -> None:
        # APScheduler writes two INFO lines a tick; our own events say what
        # was claimed and run.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )
        scheduler.add_job(
            self._scheduled_tick,
            IntervalTrigger(seconds=TICK_SECONDS, timezone=UTC),
            id="daily-runs",
            name="daily runs",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        logger.info("scheduler.started", tick_seconds=TICK_SECONDS)

    def stop(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """No more ticks; wait up to `timeout` seconds for the runs going on."""
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if not self.wait(timeout):
            logger.warning("scheduler.stopped_with_runs_going", companies=self.busy())
        else:
            logger.info("scheduler.stopped")

    def _scheduled_tick(self) -> None:
        try:
            self.tick()
        except Exception:
            # The next tick tries again; APScheduler would only log it too.
            logger.exception("scheduler.tick_failed")

    def tick(self, now: datetime | None = None) -> list[Due]:
        """Claim the daily runs due at `now` (default: the clock's) that no
        one claimed yet, and start carrying them out; the ones this call
        claimed, in order."""
        if self._stopping.is_set():
            return []
        now = now or self.clock.now()
        with self._tick_lock:
            companies, claimed = self._load(now)
            busy = set(self.busy())
            mine = []
            for due in daily.due_runs(companies, claimed, now):
                # A company whose runs still go on here is left for a later
                # tick: its next run could not start before they end anyway.
                if due.company_id not in busy and self._claim(due):
                    mine.append(due)

            if self.queue is not None:
                for due in mine:
                    self._hand_over(due, self.queue)
                return mine
            for _, group in groupby(mine, key=lambda due: due.company_id):
                self._carry_out(list(group))
        return mine

    def busy(self) -> list[int]:
        """Ids of the companies whose daily runs are going on here."""
        with self._lock:
            return [company for company, job in self._jobs.items() if job.is_alive()]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the runs started so far; False if some still go on after
        `timeout` seconds."""
        with self._lock:
            jobs = list(self._jobs.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in jobs:
            job.join(
                None if deadline is None else max(0.0, deadline - time.monotonic())
            )
        return not any(job.is_alive() for job in jobs)

    # Reading the schedule

    def _load(self, now: datetime) -> tuple[list[CompanySchedule], set[ClaimKey]]:
        """Companies with a daily flow switched on, and the claims of the days
        that can be a company's today (local days lie within a day of UTC's)."""
        settings = AccountingSettingsRow
        daily_on = or_(
            and_(settings.sales_enabled, settings.sales_daily),
            and_(settings.purchase_enabled, settings.purchase_daily),
            and_(settings.payments_enabled, settings.payments_daily),
        )
        since = now.astimezone(UTC).date() - timedelta(days=1)
        with self.database.sessions() as session:
            rows = session.execute(
                select(CompanyRow.id, CompanyRow.ref, CompanyRow.time_zone, settings)
                .join(settings, settings.company_id == CompanyRow.id)
                .where(daily_on)
                .order_by(CompanyRow.id)
            ).all()
            claims = session.execute(
                select(
                    DailyRunClaimRow.company_id,
                    DailyRunClaimRow.flow,
                    DailyRunClaimRow.day,
                ).where(DailyRunClaimRow.day >= since)
            ).all()
            companies = []
            for company_id, ref, zone_name, settings_row in rows:
                zone = self._zone(ref, zone_name)
                if zone is not None:
                    companies.append(
                        CompanySchedule(
                            company_id,
                            ref,
                            zone,
                            # Only the boxes and times are read here.
                            repo.settings_from_rows(settings_row, ()),
                        )
                    )
        claimed = {(company, Flow(flow), day) for company, flow, day in claims}
        return companies, claimed

    def _zone(self, company_ref: str, name: str) -> ZoneInfo | None:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if name not in self._bad_zones:
                self._bad_zones.add(name)
                logger.error(
                    "daily.unknown_time_zone", company=company_ref, time_zone=name
                )
            return None

    # Claims

    def _claim(self, due: Due) -> bool:
        """Claim the run; False when another tick or process has it."""
        try:
            with self.database.sessions.begin() as session:
                session.add(
                    DailyRunClaimRow(
                        company_id=due.company_id, flow=due.flow.value, day=due.day
                    )
                )
        except IntegrityError:
            return False
        logger.info(
            "daily.claimed",
            company=due.company_ref,
            flow=due.flow.value,
            day=str(due.day),
        )
        return True

    def _release(self, due: Due) -> None:
        """Drop the claim so that a later tick claims the run again."""
        with self.database.sessions.begin() as session:
            session.execute(
                delete(DailyRunClaimRow).where(
                    DailyRunClaimRow.company_id == due.company_id,
                    DailyRunClaimRow.flow == due.flow.value,
                    DailyRunClaimRow.day == due.day,
                )
            )

    def _link(self, due: Due, run_id: int) -> None:
        with self.database.sessions.begin() as session:
            session.execute(
                update(DailyRunClaimRow)
                .where(
                    DailyRunClaimRow.company_id == due.company_id,
                    DailyRunClaimRow.flow == due.flow.value,
                    DailyRunClaimRow.day == due.day,
                )
                .values(run_id=run_id)
            )

    # Carrying out

    def _carry_out(self, runs: Sequence[Due]) -> None:
        company = runs[0].company_id
        job = threading.Thread(
            target=self._company_job,
            args=(runs,),
            name=f"daily-{runs[0].company_ref}",
            # A run cut short at exit is settled by the company's next run.
            daemon=True,
        )
        with self._lock:  # `wait` sees only started threads
            job.start()
            self._jobs[company] = job

    def _company_job(self, runs: Sequence[Due]) -> None:
        with self._slots:
            for due in runs:
                if self._stopping.is_set():
                    self._release_quietly(due)
                    continue
                try:
                    self._run(due)
                except Exception:
                    logger.exception(
                        "daily.failed", company=due.company_ref, flow=due.flow.value
                    )

    def _run(self, due: Due) -> RunInfo | None:
        run = self._start(due, self.runner.start)
        if run is None:
            return None
        try:
            return self.runner.execute(run.id)
        except Exception:
            # Never leave the company's run "running" behind: it would block
            # every later run of the company in this process.
            logger.exception("daily.run_crashed", run=run.id, company=due.company_ref)
            finished = self.runner.store.finish_run(
                run.id,
                RunStatus.STOPPED,
                "An unexpected error stopped the run; the log has the details.",
                0,
            )
            self.runner.notify(finished)
            return finished

    def _hand_over(self, due: Due, queue: RunQueue) -> RunInfo | None:
        """Start the claimed run through the queue (queued for a worker)."""
        try:
            return self._start(due, queue.submit)
        except Exception:
            logger.exception(
                "daily.failed", company=due.company_ref, flow=due.flow.value
            )
            return None

    def _start(
        self, due: Due, start: Callable[[RunRequest], RunInfo]
    ) -> RunInfo | None:
        """The claimed run, started by `start`, its claim linked to it; None
        when it did not start (the claim dropped or kept, see above)."""
        first, last = daily_period(due.day)
        request = RunRequest(
            due.company_ref, due.flow, first, last, Trigger.DAILY, STARTED_BY
        )
        try:
            run = start(request)
        except RunInProgress as exc:
            self._release(due)
            logger.info(
                "daily.postponed",
                company=due.company_ref,
                flow=due.flow.value,
                busy_with=exc.run_id,
            )
            return None
        except SyncError as exc:
            self.notice(due, str(exc))
            logger.warning(
                "daily.refused",
                company=due.company_ref,
                flow=due.flow.value,
                reason=str(exc),
            )
            return None
        except SQLAlchemyError:
            self._release_quietly(due)
            raise

        self._link(due, run.id)
        return run

    def _release_quietly(self, due: Due) -> None:
        try:
            self._release(due)
        except SQLAlchemyError:
            logger.exception(
                "daily.release_failed", company=due.company_ref, flow=due.flow.value
            )

    def notice(self, due: Due, reason: str) -> int:
        """Record (and e-mail, when SMTP is set) why a daily run did not
        start; the notice's id."""
        message = f"The daily {due.flow.label} of {due.day} did not run: {reason}"
        return self.runner.notice(due.company_ref, NOTICE_KIND, message).id


def start_scheduler(
    runner: Runner, database: Database, clock: Clock | None = None
) -> DailyScheduler:
    """A `DailyScheduler`, ticking; `stop()` it on shutdown."""
    scheduler = DailyScheduler(runner, database, clock=clock)
    scheduler.start()
    return scheduler
