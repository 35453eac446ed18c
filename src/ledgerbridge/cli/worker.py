"""`ledgerbridge worker`: carry out queued runs, on PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ledgerbridge.jobs.workers import SHUTDOWN_SECONDS, NotPostgres, Timing, run_worker
from ledgerbridge.settings import Settings

err = Console(stderr=True)


def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            help="Companies whose runs this process carries out at the same time.",
            min=1,
            max=500,
        ),
    ] = 4,
    shutdown_timeout: Annotated[
        float,
        typer.Option(
            help="On SIGTERM, seconds a run may go on before it stops between "
            "documents and is queued again.",
            min=0,
        ),
    ] = SHUTDOWN_SECONDS,
) -> None:
    """Carry out the runs queued by 'serve' and the daily schedule
    (Procrastinate, PostgreSQL only), until SIGTERM or Ctrl+C. Start as many
    as you like, on any machines: a company's runs never overlap."""
    from ledgerbridge.cli.app import _database

    settings = Settings()
    database = _database()  # says what to do when the schema is not current
    database.engine.dispose()
    try:
        run_worker(
            settings,
            concurrency=concurrency,
            timing=Timing(shutdown_seconds=shutdown_timeout),
        )
    except NotPostgres as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from exc
