"""Financial > Payments: the payments read back from Exact with the state of
the invoice each one paid, and *Payments Import* (right-click a payment, or
its *Actions* menu) in a dialog: company, period, *Import*, its progress and
its result.

An import is a payments run of the sync engine started as the signed-in
user. It is handed to the app's run queue when `ledgerbridge serve` set one,
else it goes on in a background task of this process (as the REST API's
runs do); the dialog polls the run every second until it ends, then the list
reloads. A company that has not accepted the terms and conditions is sent
to them first, and nothing is read from Exact until it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerbridge.queries import payments as queries
from ledgerbridge.runner import manual_request
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.sync import runs as run_rules
from ledgerbridge.sync.errors import (
    FlowDisabled,
    RunInProgress,
    SyncError,
    TermsNotAccepted,
    UnknownRun,
)
from ledgerbridge.sync.model import Flow, Outcome, RunInfo
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

PATH = "/financial/payments"
IMPORTERS = (Role.ADMIN, Role.BOOKKEEPER)
PERIODS = {"this_month": "This month", "last_month": "Last month", "custom": "Custom"}
IMPORTED_EVENT = "payments-imported"
"""The htmx event a finished import sends: the list reloads on it."""

PageNumber = Annotated[int, Query(alias="page", ge=1, le=100_000)]


# The pages


@router.get(PATH)
def payments_page(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
    number: PageNumber = 1,
) -> HTMLResponse:
    row = chosen_company(session, page, company)
    today = company_today(row)
    return render(
        request,
        "payments.html",
        {
            "title": "Payments",
            "company": row,
            "companies": company_choices(session, page),
            "summary": queries.payment_summary(session, row.id),
            "listed": queries.list_payments(session, row.id, page=number),
            "may_import": page.user.role in IMPORTERS,
            "periods": PERIODS,
            "period_dates": {
                "this_month": run_rules.this_month(today),
                "last_month": run_rules.last_month(today),
                "custom": None,
            },
            "list_url": _list_url(row),
            "page_url": _page_url(row),
            "imported_event": IMPORTED_EVENT,
        },
        page_user=page,
    )


@router.get(f"{PATH}/list")
def payments_list(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
    number: PageNumber = 1,
) -> HTMLResponse:
    """The summary and the list alone, as the page reloads them after an
    import."""
    row = chosen_company(session, page, company)
    return render(
        request,
        "payments_list.html",
        {
            "company": row,
            "summary": queries.payment_summary(session, row.id),
            "listed": queries.list_payments(session, row.id, page=number),
            "may_import": page.user.role in IMPORTERS,
            "list_url": _list_url(row),
            "page_url": _page_url(row),
            "imported_event": IMPORTED_EVENT,
        },
        page_user=page,
    )


@router.post(f"{PATH}/import")
def start_import(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    background: BackgroundTasks,
    company: Annotated[str, Form()] = "",
    period: Annotated[str, Form()] = "",
    first: Annotated[str, Form(alias="from")] = "",
    last: Annotated[str, Form(alias="to")] = "",
) -> Response:
    """Start the payments import of the dialog's company and period."""
    require_role(page, *IMPORTERS)
    row = chosen_company(session, page, company or None)
    try:
        since, until = run_rules.named_period(period, first, last, company_today(row))
        wanted = manual_request(
            row.ref, Flow.PAYMENTS, since, until, page.user.username
        )
        run = running.start(request, background, wanted)
    except TermsNotAccepted:
        return _to_terms(request, row)
    except SyncError as exc:
        return _refusal(request, page, row, exc)
    return _run_answer(request, page, row, run)


@router.get(f"{PATH}/runs/{{run_id}}")
def import_run(
    request: Request,
    run_id: int,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
) -> Response:
    """How an import goes (polled by the dialog), then how it ended."""
    require_role(page, *IMPORTERS)
    row = chosen_company(session, page, company)
    try:
        run: RunInfo | None = get_runner(request).store.run(run_id)
    except UnknownRun:
        run = None
    if run is None or run.company_ref != row.ref or run.flow is not Flow.PAYMENTS:
        raise PageError(
            404,
            "Import not found",
            f"Company {row.name} has no payments import {run_id}. Its runs are "
            "listed on History.",
        )
    return _run_answer(request, page, row, run)


# The period


# Answers inside the dialog


def _run_answer(
    request: Request, page: PageUser, company: CompanyRow, run: RunInfo
) -> HTMLResponse:
    """While the import goes: a line saying so, polled again in a second;
    once it ended: what it imported, and the event that reloads the list."""
    updated = []
    if not run.status.active:
        updated = [
            result
            for result in get_runner(request).results(run.id)
            if result.outcome is Outcome.UPDATED
        ]
    headers = {} if run.status.active else {"HX-Trigger": IMPORTED_EVENT}
    return render(
        request,
        "payments_run.html",
        {
            "company": company,
            "run": run,
            "updated": updated,
            "poll_url": f"{PATH}/runs/{run.id}?" + urlencode({"company": company.ref}),
        },
        page_user=page,
        headers=headers,
    )


def _refusal(
    request: Request, page: PageUser, company: CompanyRow, exc: SyncError
) -> HTMLResponse:
    """A refusal as a sentence in the dialog (200, so htmx swaps it in)."""
    sentence = str(exc)
    fix_url = running_url = None
    if isinstance(exc, FlowDisabled):
        sentence = (
            f"The payments import is switched off for {company.name}: tick "
            "Payments Import on Financial settings > Accounting settings > "
            "Payments tab, then import again."
        )
        fix_url = "/financial-settings/accounting-settings?" + urlencode(
            {"company": company.ref}
        )
    elif isinstance(exc, RunInProgress):
        sentence = (
            f"{company.name} already has a run going: run #{exc.run_id}. Wait "
            "for it to finish, then import again."
        )
        running_url = f"{PATH}/runs/{exc.run_id}?" + urlencode({"company": company.ref})
    return render(
        request,
        "payments_refused.html",
        {
            "sentence": sentence,
            "fix_url": fix_url,
            "running_url": running_url,
            "running_is_import": _is_import(request, exc),
        },
        page_user=page,
    )


def _is_import(request: Request, exc: SyncError) -> bool:
    """Whether the run in the way is a payments import (this dialog can
    follow it) rather than an export."""
    if not isinstance(exc, RunInProgress):
        return False
    try:
        return get_runner(request).store.run(exc.run_id).flow is Flow.PAYMENTS
    except UnknownRun:
        return False


def _to_terms(request: Request, company: CompanyRow) -> Response:
    """To the terms and conditions, coming back to this screen."""
    back = f"{PATH}?" + urlencode({"company": company.ref})
    target = "/terms?" + urlencode({"company": company.ref, "next": back})
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# Links


def _list_url(company: CompanyRow) -> str:
    return f"{PATH}/list?" + urlencode({"company": company.ref})


def _page_url(company: CompanyRow) -> Callable[[int], str]:
    def url(number: int) -> str:
        return f"{PATH}?" + urlencode({"company": company.ref, "page": number})

    return url
