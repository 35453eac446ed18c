"""Financial > Customer invoices and Financial > Supplier invoices: the lists
with each document's booking and payment status, and the *Export Accounting
information* dialog (company, period, *Preview*, *Export* with its live
progress and result).

An export is a run of the sync engine started as the signed-in user. It is
handed to the app's run queue when `ledgerbridge serve` set one, else it goes
on in a background task of this process, which reports its progress to an
`ExportProgress` kept on the app; the progress fragment is polled every
second until the run ends. A company that has not accepted the terms and
conditions is sent to them first, and nothing goes to Exact until it does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, BackgroundTasks, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerbridge.domain.documents import Side
from ledgerbridge.queries import invoices as queries
from ledgerbridge.queries.invoices import ListStatus
from ledgerbridge.runner import manual_request
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.sync import runs as run_rules
from ledgerbridge.sync.errors import (
    FlowDisabled,
    RunInProgress,
    StopRun,
    SyncError,
    TermsNotAccepted,
    UnknownRun,
)
from ledgerbridge.sync.model import DocumentResult, Flow, Outcome, RunInfo
from ledgerbridge.users import Role
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.api.runs import get_runner
from ledgerbridge.web.pages import running
from ledgerbridge.web.pages.companies import (
    chosen_company,
    company_choices,
    company_today,
)
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser, PageUser

logger = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

EXPORTERS = (Role.ADMIN, Role.BOOKKEEPER)
PROGRESS_KEPT = 100
"""Runs whose progress the app remembers (the latest ones)."""


@dataclass(frozen=True, slots=True)
class Screen:
    """One of the two invoice screens."""

    flow: Flow
    side: Side
    path: str
    title: str
    party: str
    """The column naming the other party."""
    menu: str
    """The button that holds *Export Accounting information*."""

    @property
    def key(self) -> str:
        return self.path.rsplit("/", 1)[-1].replace("-", "_")


CUSTOMER_INVOICES = Screen(
    Flow.CUSTOMER_INVOICES,
    Side.SALES,
    "/financial/customer-invoices",
    "Customer invoices",
    "Customer",
    "Export",
)
SUPPLIER_INVOICES = Screen(
    Flow.SUPPLIER_INVOICES,
    Side.PURCHASE,
    "/financial/supplier-invoices",
    "Supplier invoices",
    "Supplier",
    "Accounting export",
)
SCREENS = (CUSTOMER_INVOICES, SUPPLIER_INVOICES)

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom",
}


# The progress of runs executed in this process


class ExportProgress:
    """What a run executed here has done so far (`sync.ports.Progress`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total: int | None = None
        self.done = 0
        self.outcomes: Counter[Outcome] = Counter()
        self.seconds_left: float | None = None

    def start(self, total: int) -> None:
        with self._lock:
            self.total = total

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None:
        with self._lock:
            self.done += 1
            self.outcomes[result.outcome] += 1
            self.seconds_left = seconds_left


def _progress_board(app: FastAPI) -> dict[int, ExportProgress]:
    board: dict[int, ExportProgress] | None = getattr(
        app.state, "export_progress", None
    )
    if board is None:
        board = app.state.export_progress = {}
    return board


def _track(app: FastAPI, run_id: int) -> ExportProgress:
    board = _progress_board(app)
    tracker = board[run_id] = ExportProgress()
    for old in sorted(board)[:-PROGRESS_KEPT]:
        del board[old]
    return tracker


# The period


def _period_choices(today: date) -> dict[str, tuple[date, date] | None]:
    return {
        "this_month": run_rules.this_month(today),
        "last_month": run_rules.last_month(today),
        "custom": None,
    }


# The pages


def _list_page(screen: Screen) -> Callable[..., HTMLResponse]:
    def show(
        request: Request,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
        status: str = "",
        first: Annotated[str, Query()] = "",
        last: Annotated[str, Query()] = "",
        number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
        export: str = "",
        period: str = "",
        export_from: Annotated[str, Query(alias="from")] = "",
        export_to: Annotated[str, Query(alias="to")] = "",
    ) -> HTMLResponse:
        row = chosen_company(session, page, company)
        chosen_status = _status(status)
        since, until = _date(first), _date(last)
        listed = queries.list_invoices(
            session,
            row.id,
            screen.side,
            status=chosen_status,
            first=since,
            last=until,
            page=number,
        )
        filters = {
            "company": row.ref,
            "status": chosen_status.value if chosen_status else "",
            "first": since.isoformat() if since else "",
            "last": until.isoformat() if until else "",
        }
        may_export = page.user.role in EXPORTERS
        return render(
            request,
            "invoices.html",
            {
                "title": screen.title,
                "screen": screen,
                "company": row,
                "companies": company_choices(session, page),
                "listed": listed,
                "filters": filters,
                "statuses": list(ListStatus),
                "page_url": _page_url(screen, filters),
                "may_export": may_export,
                "open_export": may_export and export == "open",
                "period": period if period in PERIODS else "this_month",
                "export_from": export_from,
                "export_to": export_to,
                "periods": PERIODS,
                "period_dates": _period_choices(company_today(row)),
            },
            page_user=page,
        )

    show.__name__ = f"{screen.key}_list"
    return show


def _preview(screen: Screen) -> Callable[..., Response]:
    def preview(
        request: Request,
        session: SessionDep,
        page: CurrentUser,
        company: Annotated[str, Form()] = "",
        period: Annotated[str, Form()] = "",
        first: Annotated[str, Form(alias="from")] = "",
        last: Annotated[str, Form(alias="to")] = "",
    ) -> Response:
        require_role(page, *EXPORTERS)
        row = chosen_company(session, page, company or None)
        runner = get_runner(request)
        try:
            since, until = run_rules.named_period(
                period, first, last, company_today(row)
            )
            shown = runner.preview(row.ref, screen.flow, since, until)
        except TermsNotAccepted:
            return _to_terms(request, screen, row, period, first, last)
        except (SyncError, StopRun) as exc:
            return _refusal(request, page, screen, row, exc)
        return render(
            request,
            "invoices_preview.html",
            {"screen": screen, "company": row, "preview": shown},
            page_user=page,
        )

    preview.__name__ = f"{screen.key}_preview"
    return preview


def _export(screen: Screen) -> Callable[..., Response]:
    def export(
        request: Request,
        session: SessionDep,
        page: CurrentUser,
        background: BackgroundTasks,
        company: Annotated[str, Form()] = "",
        period: Annotated[str, Form()] = "",
        first: Annotated[str, Form(alias="from")] = "",
        last: Annotated[str, Form(alias="to")] = "",
    ) -> Response:
        require_role(page, *EXPORTERS)
        row = chosen_company(session, page, company or None)
        try:
            since, until = run_rules.named_period(
                period, first, last, company_today(row)
            )
            wanted = manual_request(
                row.ref, screen.flow, since, until, page.user.username
            )
            run = running.start(
                request,
                background,
                wanted,
                progress=lambda run_id: _track(request.app, run_id),
            )
        except TermsNotAccepted:
            return _to_terms(request, screen, row, period, first, last)
        except SyncError as exc:
            return _refusal(request, page, screen, row, exc)
        return _progress(request, page, screen, row, run)

    export.__name__ = f"{screen.key}_export"
    return export


def _run_page(screen: Screen) -> Callable[..., Response]:
    def run_progress(
        request: Request,
        run_id: int,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
    ) -> Response:
        require_role(page, *EXPORTERS)
        row = chosen_company(session, page, company)
        runner = get_runner(request)
        try:
            run = runner.store.run(run_id)
        except UnknownRun:
            run = None
        if run is None or run.company_ref != row.ref:
            raise PageError(
                404,
                "Run not found",
                f"Company {row.name} has no run {run_id}. Its runs are listed "
                "on History.",
            )
        return _progress(request, page, screen, row, run)

    run_progress.__name__ = f"{screen.key}_run"
    return run_progress


for _screen in SCREENS:
    router.add_api_route(_screen.path, _list_page(_screen), methods=["GET"])
    router.add_api_route(f"{_screen.path}/preview", _preview(_screen), methods=["POST"])
    router.add_api_route(f"{_screen.path}/export", _export(_screen), methods=["POST"])
    router.add_api_route(
        f"{_screen.path}/runs/{{run_id}}", _run_page(_screen), methods=["GET"]
    )


# Answers inside the dialog


def _progress(
    request: Request, page: PageUser, screen: Screen, company: CompanyRow, run: RunInfo
) -> HTMLResponse:
    """While the run goes: how far it is (polled again in a second); once it
    ended: its counts and the failed documents with their reasons."""
    runner = get_runner(request)
    tracker = _progress_board(request.app).get(run.id)
    counts = run.counts
    done = counts.booked + counts.linked + counts.skipped + counts.failed
    total = None
    if tracker is not None:
        done, total = max(done, tracker.done), tracker.total
    failed: list[DocumentResult] = []
    if not run.status.active:
        failed = [
            result
            for result in runner.results(run.id)
            if result.outcome is Outcome.FAILED
        ]
    return render(
        request,
        "invoices_run.html",
        {
            "screen": screen,
            "company": company,
            "run": run,
            "done": done,
            "total": total,
            "failed": failed,
            "poll_url": f"{screen.path}/runs/{run.id}?"
            + urlencode({"company": company.ref}),
        },
        page_user=page,
    )


def _refusal(
    request: Request,
    page: PageUser,
    screen: Screen,
    company: CompanyRow,
    exc: Exception,
) -> HTMLResponse:
    """A refusal as a sentence in the dialog (200: htmx swaps it in)."""
    sentence = exc.sentence if isinstance(exc, StopRun) else str(exc)
    fix_url = None
    running = None
    if isinstance(exc, RunInProgress):
        sentence = (
            f"An export or import is already running for {company.name}: run "
            f"#{exc.run_id}. Wait for it to finish, then export again."
        )
        running = exc.run_id
    elif isinstance(exc, FlowDisabled):
        fix_url = "/financial-settings/accounting-settings?" + urlencode(
            {"company": company.ref}
        )
    return render(
        request,
        "invoices_refused.html",
        {
            "screen": screen,
            "company": company,
            "sentence": sentence,
            "fix_url": fix_url,
            "running_url": f"{screen.path}/runs/{running}?"
            + urlencode({"company": company.ref})
            if running
            else None,
        },
        page_user=page,
    )


def _to_terms(
    request: Request,
    screen: Screen,
    company: CompanyRow,
    period: str,
    first: str,
    last: str,
) -> Response:
    """To the terms and conditions, coming back to this screen with the
    dialog open on the same company and period."""
    back = f"{screen.path}?" + urlencode(
        {
            "company": company.ref,
            "export": "open",
            "period": period,
            "from": first,
            "to": last,
        }
    )
    target = "/terms?" + urlencode({"company": company.ref, "next": back})
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# Reading the filters


def _status(value: str) -> ListStatus | None:
    try:
        return ListStatus(value) if value else None
    except ValueError:
        return None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page_url(screen: Screen, filters: dict[str, str]) -> Callable[[int], str]:
    def url(number: int) -> str:
        kept = {key: value for key, value in filters.items() if value}
        return f"{screen.path}?" + urlencode({**kept, "page": number})

    return url
