"""Starting a run from a page: handed to the run queue `ledgerbridge serve`
sets on the app when there is one (Procrastinate's workers carry it out),
else created by the runner and carried out after the answer is sent, in a
background task, as the REST API's runs are."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import BackgroundTasks, Request

from ledgerbridge.runner import Runner
from ledgerbridge.sync.model import RunInfo, RunRequest
from ledgerbridge.sync.ports import Progress
from ledgerbridge.web.api.runs import get_queue, get_runner

logger = structlog.get_logger(__name__)


def start(
    request: Request,
    background: BackgroundTasks,
    wanted: RunRequest,
    progress: Callable[[int], Progress] | None = None,
) -> RunInfo:
    """Start `wanted`, or raise the sync engine's refusal (`SyncError`).
    `progress(run_id)` gives what follows a run carried out here."""
    queue = get_queue(request)
    if queue is not None:
        return queue.submit(wanted)
    runner = get_runner(request)
    run = runner.start(wanted)
    background.add_task(
        carry_out, runner, run.id, progress(run.id) if progress else None
    )
    return run


def carry_out(runner: Runner, run_id: int, progress: Progress | None = None) -> None:
    try:
        runner.execute(run_id, progress)
    except Exception:
        # The run is marked stopped; the page that follows it shows how it ended.
        logger.exception("run.crashed", run=run_id)
