"""`ledgerbridge status`: what an operator watches.

The queue's depth (jobs waiting and running per Procrastinate queue), the
workers and their last heartbeat, the jobs running per company, the runs
queued or running, and the companies whose Exact connection needs a sign-in
again. Read straight from the database (Procrastinate's tables included), so
it works from any machine that has the database URL, workers running or not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from ledgerbridge.jobs import schema
from ledgerbridge.jobs.queue import QueueUnavailable, queue_kind
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import CompanyRow, ExactConnectionRow, RunRow
from ledgerbridge.sync.model import RunStatus
from ledgerbridge.wiring import Database

out = Console()
err = Console(stderr=True)

ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def read_status(settings: Settings, database: Database) -> dict[str, Any]:
    """Everything `status` shows, as plain data (what `--json` prints)."""
    try:
        kind: str = queue_kind(settings)
    except QueueUnavailable as exc:
        kind = f"unavailable: {exc}"
    now = datetime.now(UTC)
    with database.engine.connect() as connection:
        procrastinate = connection.dialect.name == "postgresql" and schema.has_schema(
            connection
        )
        report: dict[str, Any] = {
            "queue": kind,
            "queues": _queues(connection) if procrastinate else [],
            "workers": _workers(connection, now) if procrastinate else [],
            "jobs_running": _jobs_running(connection) if procrastinate else [],
        }
    with database.sessions() as session:
        report["runs"] = _runs(session)
        report["needs_sign_in"] = _needs_sign_in(session)
    return report


def _queues(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        text(
            "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
            "GROUP BY queue_name, status ORDER BY queue_name"
        )
    ).all()
    depth: dict[str, dict[str, int]] = {}
    for name, status, count in rows:
        counts = depth.setdefault(name, {"todo": 0, "doing": 0, "failed": 0})
        counts[status] = count
    return [{"name": name, **counts} for name, counts in depth.items()]


def _workers(connection: Connection, now: datetime) -> list[dict[str, Any]]:
    rows = connection.execute(
        text("SELECT id, last_heartbeat FROM procrastinate_workers ORDER BY id")
    ).all()
    return [
        {
            "id": worker_id,
            "last_heartbeat": beat.isoformat(),
            "seconds_ago": round((now - beat).total_seconds(), 1),
        }
        for worker_id, beat in rows
    ]


def _jobs_running(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        text(
            "SELECT id, lock, (args->>'run_id')::int, worker_id, task_name, attempts "
            "FROM procrastinate_jobs WHERE status = 'doing' ORDER BY lock, id"
        )
    ).all()
    return [
        {
            "company": lock.removeprefix("company:") if lock else None,
            "job": job_id,
            "run": run_id,
            "worker": worker_id,
            "task": task,
            "attempts": attempts,
        }
        for job_id, lock, run_id, worker_id, task, attempts in rows
    ]


def _runs(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RunRow, CompanyRow.ref)
        .join(CompanyRow, CompanyRow.id == RunRow.company_id)
        .where(RunRow.status.in_(ACTIVE))
        .order_by(RunRow.id)
    ).all()
    return [
        {
            "run": row.id,
            "company": ref,
            "flow": row.flow,
            "status": row.status,
            "trigger": row.trigger,
            "created_at": _iso(row.created_at),
            "started_at": _iso(row.started_at),
            "heartbeat_at": _iso(row.heartbeat_at),
            "owner": row.owner,
            "done": row.booked + row.linked + row.skipped + row.failed,
        }
        for row, ref in rows
    ]


def _needs_sign_in(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CompanyRow.ref, ExactConnectionRow.reason)
        .join(ExactConnectionRow, ExactConnectionRow.company_id == CompanyRow.id)
        .where(ExactConnectionRow.needs_sign_in.is_(True))
        .order_by(CompanyRow.ref)
    ).all()
    return [{"company": ref, "reason": reason} for ref, reason in rows]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Queue depth, workers, runs going on per company, and the companies
    that must sign in to Exact again."""
    from ledgerbridge.cli.app import _database

    settings = Settings()
    database = _database()
    try:
        report = read_status(settings, database)
    finally:
        database.engine.dispose()
    if as_json:
        out.print_json(json.dumps(report))
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    out.print(f"Queue: {report['queue']}", highlight=False, markup=False)
    if report["queue"] == "procrastinate":
        queues = Table("queue", "waiting", "running", "failed", title="Jobs")
        for queue in report["queues"]:
            queues.add_row(
                queue["name"],
                str(queue["todo"]),
                str(queue["doing"]),
                str(queue["failed"]),
            )
        out.print(queues if report["queues"] else "Jobs: none.")
        beats = ", ".join(
            f"{worker['id']} ({worker['seconds_ago']:.0f} s ago)"
            for worker in report["workers"]
        )
        out.print(f"Workers (last heartbeat): {beats or 'none'}", highlight=False)
        jobs = Table(
            "company", "job", "run", "worker", "attempts", title="Running jobs"
        )
        for job in report["jobs_running"]:
            jobs.add_row(
                str(job["company"] or job["task"]),
                str(job["job"]),
                str(job["run"] or "-"),
                str(job["worker"] or "-"),
                str(job["attempts"]),
            )
        out.print(jobs if report["jobs_running"] else "Running jobs: none.")

    runs = Table(
        "run", "company", "flow", "status", "since", "owner", "done", title="Runs"
    )
    for run in report["runs"]:
        runs.add_row(
            str(run["run"]),
            run["company"],
            run["flow"],
            run["status"],
            (run["started_at"] or run["created_at"] or "-")[:19],
            run["owner"] or "-",
            str(run["done"]),
        )
    out.print(runs if report["runs"] else "Runs queued or running: none.")

    if not report["needs_sign_in"]:
        out.print("Exact connections needing a sign-in: none.")
        return
    out.print("Exact connections needing a sign-in again:")
    for company in report["needs_sign_in"]:
        out.print(
            f"  {company['company']}: {company['reason'] or 'sign in again'} Run "
            f"'ledgerbridge connect --company {company['company']}'.",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
