"""Runs, previews and the terms and conditions of a company.

`POST .../runs` starts an export or the payments import after its guards
(flow switched on, terms accepted, no other run of the company going) and
answers 202 at once, and `GET .../runs/{id}` follows it. The run is handed to
the app's run queue when `ledgerbridge serve` gave it one (`jobs/queue.py`:
threads of this process, or a Procrastinate job for `ledgerbridge worker` on
PostgreSQL, created *queued* in the run's own transaction); without one it
goes on in a background task of this process. Either way through the app's
one `Runner` (one Exact client, so one rate governor, per company).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerbridge.jobs.queue import RunQueue
from ledgerbridge.runner import NoExactClient, Runner, TermsFileError, manual_request
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import CompanyRow, RunRow, TermsAcceptanceRow
from ledgerbridge.sync import errors as sync_errors
from ledgerbridge.sync.errors import SyncError
from ledgerbridge.sync.model import Flow, Trigger
from ledgerbridge.web.api.deps import (
    ApiError,
    CompanyDep,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    errors,
)
from ledgerbridge.web.api.run_schemas import (
    PreviewIn,
    PreviewOut,
    RunDetailOut,
    RunDocumentOut,
    RunIn,
    RunOut,
    RunRefusedOut,
    TermsAcceptIn,
    TermsOut,
)
from ledgerbridge.web.api.schemas import PageOut
from ledgerbridge.wiring import Database

logger = structlog.get_logger(__name__)

router = APIRouter()

_lazy_runner = threading.Lock()

RunId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The run's number.")]


def get_runner(request: Request) -> Runner:
    """The app's `Runner`: the one `create_app` was given, else one built
    from the settings on the app's database the first time it is needed."""
    state = request.app.state
    given: Runner | None = getattr(state, "runner", None)
    if given is not None:
        return given
    with _lazy_runner:
        built: Runner | None = getattr(state, "built_runner", None)
        # Follow the app's database: tests point one app at a new one.
        if built is None or built.database.sessions is not state.sessions:
            if built is not None:
                built.close()
            database = Database(state.sessions.kw["bind"], state.sessions)
            built = state.built_runner = Runner(Settings(), database)
        return built


RunnerDep = Annotated[Runner, Depends(get_runner)]


def get_queue(request: Request) -> RunQueue | None:
    """The run queue `ledgerbridge serve` set on the app (`app.state.run_queue`),
    or None: runs then go on in a background task."""
    queue: RunQueue | None = getattr(request.app.state, "run_queue", None)
    return queue


QueueDep = Annotated[RunQueue | None, Depends(get_queue)]


def _refused(exc: SyncError) -> JSONResponse:
    """The one JSON error shape for what the sync engine refuses; 409 names
    the run still going, terms_not_accepted the version to accept."""
    status, error = 422, "refused"
    extra: dict[str, Any] = {}
    if isinstance(exc, sync_errors.UnknownCompany | sync_errors.UnknownRun):
        status, error = 404, "not_found"
    elif isinstance(exc, sync_errors.RunInProgress):
        status, error = 409, "run_in_progress"
        extra["run_id"] = exc.run_id
    elif isinstance(exc, sync_errors.TermsNotAccepted):
        error = "terms_not_accepted"
        extra["terms_version"] = exc.version
    elif isinstance(exc, sync_errors.FlowDisabled):
        error = "flow_disabled"
    elif isinstance(exc, sync_errors.BadPeriod):
        error = "bad_period"
    elif isinstance(exc, NoExactClient):
        error = "not_connected"
    elif isinstance(exc, TermsFileError):
        status, error = 503, "terms_unavailable"
    body = {"error": error, "message": str(exc), "problems": [], **extra}
    return JSONResponse(body, status_code=status)


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        409: "The company already has a run going; `run_id` names it.",
        422: "The input breaks a rule, or the run may not start: the flow is "
        "switched off, the terms are not accepted (`terms_version`), the "
        "period is wrong, the company is not connected to Exact.",
        503: "The operator's terms file cannot be read.",
    }
    return {
        **errors(*(s for s in statuses if s not in described)),
        **{
            s: {"model": RunRefusedOut, "description": described[s]}
            for s in statuses
            if s in described
        },
    }


# Runs


@router.post(
    "/companies/{company}/runs",
    tags=["runs"],
    status_code=202,
    response_model=RunOut,
    responses=_responses(400, 401, 403, 404, 409, 422, 503),
)
def start_run(
    company: CompanyDep,
    body: RunIn,
    principal: PrincipalDep,
    runner: RunnerDep,
    queue: QueueDep,
    background: BackgroundTasks,
    response: Response,
) -> Any:
    """Start an export or the payments import of a period; it runs in the
    background (or is queued for a worker): follow it with
    `GET .../runs/{id}`."""
    request = manual_request(
        company.ref,
        Flow(body.flow),
        body.first,
        body.last,
        f"API key {principal.key_name}",
        Trigger.API,
    )
    try:
        run = queue.submit(request) if queue is not None else runner.start(request)
    except SyncError as exc:
        return _refused(exc)
    if queue is None:
        background.add_task(_execute, runner, run.id)
    response.headers["Location"] = f"/api/v1/companies/{company.ref}/runs/{run.id}"
    return RunOut.of(run)


def _execute(runner: Runner, run_id: int) -> None:
    try:
        runner.execute(run_id)
    except Exception:
        # The export has marked its run stopped; nobody waits for this thread.
        logger.exception("run.crashed", run=run_id)


@router.get(
    "/companies/{company}/runs", tags=["runs"], responses=errors(401, 403, 404, 422)
)
def list_runs(
    company: CompanyDep,
    session: SessionDep,
    runner: RunnerDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[RunOut]:
    """The company's runs, newest first."""
    total = session.scalar(
        select(func.count()).select_from(RunRow).where(RunRow.company_id == company.id)
    )
    runs = runner.store.runs(company.ref, limit, offset)
    return PageOut[RunOut](
        items=[RunOut.of(run) for run in runs],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/companies/{company}/runs/{run_id}",
    tags=["runs"],
    responses=errors(401, 403, 404, 422),
)
def get_run(company: CompanyDep, run_id: RunId, runner: RunnerDep) -> RunDetailOut:
    """A run and what it did with each document, with the reason and Exact's
    message for those that failed."""
    try:
        run = runner.store.run(run_id)
    except sync_errors.UnknownRun:
        run = None
    if run is None or run.company_ref != company.ref:
        # Another company's run is not found either: its number tells nothing.
        raise ApiError(404, "not_found", f"company {company.ref!r} has no run {run_id}")
    return RunDetailOut(
        **RunOut.of(run).model_dump(),
        documents=[RunDocumentOut.of(result) for result in runner.results(run_id)],
    )


# Preview


@router.post(
    "/companies/{company}/preview",
    tags=["runs"],
    response_model=PreviewOut,
    responses=_responses(400, 401, 403, 404, 422, 503),
)
def preview(company: CompanyDep, body: PreviewIn, runner: RunnerDep) -> Any:
    """What an export of the period would do, without writing to Exact: per
    document the journal, the customer or supplier code, the lines, and every
    problem. Reads from Exact, so the terms must be accepted."""
    try:
        shown = runner.preview(company.ref, Flow(body.flow), body.first, body.last)
    except SyncError as exc:
        return _refused(exc)
    return PreviewOut.of(shown)


# Terms


@router.get(
    "/companies/{company}/terms",
    tags=["terms"],
    response_model=TermsOut,
    responses=_responses(401, 403, 404, 422, 503),
)
def get_terms(company: CompanyDep, session: SessionDep, runner: RunnerDep) -> Any:
    """The terms and conditions to accept before anything is sent to Exact,
    and whether the company accepted this version."""
    try:
        terms = runner.terms
    except TermsFileError as exc:
        return _refused(exc)
    return TermsOut.of(terms, latest_acceptance(session, company))


@router.post(
    "/companies/{company}/terms/accept",
    tags=["terms"],
    response_model=TermsOut,
    responses={
        **_responses(400, 401, 403, 404, 422, 503),
        409: {
            "model": RunRefusedOut,
            "description": "The terms changed: read them again (`terms_version`).",
        },
    },
)
def accept_terms(
    company: CompanyDep, body: TermsAcceptIn, session: SessionDep, runner: RunnerDep
) -> Any:
    """Record that the company accepted this version of the terms: who, and
    when. Send the version the user read; another one is refused with 409."""
    try:
        terms = runner.terms
        if body.version != terms.version:
            return JSONResponse(
                {
                    "error": "terms_changed",
                    "message": f"version {body.version!r} is not the current version "
                    f"of the terms ({terms.version}); show the user the current text "
                    "and send its version",
                    "problems": [],
                    "terms_version": terms.version,
                },
                status_code=409,
            )
        runner.accept_terms(company.ref, body.accepted_by, body.version)
    except SyncError as exc:
        return _refused(exc)
    session.rollback()  # a fresh read: another session wrote the acceptance
    return TermsOut.of(terms, latest_acceptance(session, company))


def latest_acceptance(
    session: Session, company: CompanyRow
) -> tuple[str, str, datetime] | None:
    """(version, by, at) of the company's last acceptance of the terms."""
    row = session.scalar(
        select(TermsAcceptanceRow)
        .where(TermsAcceptanceRow.company_id == company.id)
        .order_by(TermsAcceptanceRow.id.desc())
        .limit(1)
    )
    return (row.version, row.accepted_by, row.accepted_at) if row else None
