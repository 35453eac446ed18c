"""*History*: every run of a company with its documents and outcomes, the
failed documents still open (the reason, Exact's message, where to fix it,
*Retry* and *Mark as handled*), and the notices of failed automatic runs.

Viewers read; bookkeepers and admins retry, mark and dismiss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ledgerbridge import handling
from ledgerbridge.queries import history
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.sync.errors import RunInProgress, SyncError
from ledgerbridge.sync.model import Outcome
from ledgerbridge.users import Role
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.pages import running
from ledgerbridge.web.pages.companies import (
    chosen_company,
    company_choices,
)
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser, PageUser

logger = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
ACTORS = (Role.ADMIN, Role.BOOKKEEPER)

DONE = {
    "handled": "Marked as handled: it left the open problems and stays in the history.",
    "dismissed": "Notice dismissed.",
}

# Where each reason is fixed: the screen's label and path (#fragment).
SETTINGS = "Financial settings > Accounting settings"
SETTINGS_PATH = "/financial-settings/accounting-settings"
TABS = {
    "sales": ("Customer invoice tab", "#customer-invoice"),
    "purchase": ("Supplier invoice tab", "#supplier-invoice"),
}
PARTY = {
    "sales": ("Leads/Prospect > Contact", "/leads-prospect/contacts"),
    "purchase": ("Purchase > Supplier", "/purchase/suppliers"),
}
DOCUMENT = {
    "sales": ("Financial > Customer invoices", "/financial/customer-invoices"),
    "purchase": ("Financial > Supplier invoices", "/financial/supplier-invoices"),
}
FIXED_ON_SETTINGS = {
    "no_journal",
    "journal_unknown",
    "journal_wrong_type",
    "journal_blocked",
    "no_gl_account",
    "vat_scenario_unmapped",
    "vat_code_unknown",
    "vat_code_blocked",
    "vat_code_inclusive",
    "vat_code_wrong_side",
    "vat_rate_mismatch",
    "flow_switched_off",
    "exact_vat_code",
    "exact_unknown_reference",
    "exact_wrong_type",
}
FIXED_ON_PARTY = {
    "missing_customer_code",
    "missing_supplier_code",
    "party_missing_in_exact",
}
FIXED_IN_EXACT = {
    "party_not_customer",
    "party_not_supplier",
    "party_blocked",
    "exact_closed_period",
    "exact_entry_number_in_use",
    "exact_already_exists",
    "exact_no_answer",
    "run_stopped",
    "stopped_after_repeated_errors",
}


@dataclass(frozen=True, slots=True)
class Fix:
    label: str
    href: str


def fix_for(outcome: history.DocumentOutcome, company_ref: str) -> Fix:
    """The screen where the reason of a failed document is fixed: the
    customer's or supplier's edit page, a tab of the accounting settings, the
    Exact connection, or the list of the document's side."""
    code, reason, side = outcome.reason_code or "", outcome.reason or "", outcome.side
    query = "?" + urlencode({"company": company_ref})
    party = code in FIXED_ON_PARTY or "refused to create" in reason
    settings = code in FIXED_ON_SETTINGS
    if code.startswith("gl_"):
        # A GL account comes from the line, the booking codes or the tab.
        party = "booking codes" in reason
        settings = not party and "Accounting settings" in reason
    if party:
        label, path = PARTY[side]
        # tab=settings: the edit page's Settings tab, with the booking codes.
        codes = "?" + urlencode({"company": company_ref, "tab": "settings"})
        return Fix(label, f"{path}/{outcome.party_id}{codes}")
    if settings:
        tab, fragment = TABS[side]
        return Fix(f"{SETTINGS} > {tab}", f"{SETTINGS_PATH}{query}{fragment}")
    if code in FIXED_IN_EXACT:
        return Fix(
            f"{SETTINGS} (Exact Online connection)",
            f"{SETTINGS_PATH}{query}#connection-title",
        )
    label, path = DOCUMENT[side]
    return Fix(label, f"{path}{query}")


def _clock(company: CompanyRow) -> Callable[[datetime | None], str]:
    """`when(datetime)` as the company's local time, for the templates."""
    try:
        zone = ZoneInfo(company.time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return when


def _may_act(page: PageUser) -> bool:
    return page.user.role in ACTORS


def _back(company: CompanyRow, run_id: int | None = None, **extra: str) -> str:
    query = urlencode({"company": company.ref, **extra})
    if run_id is not None:
        return f"/history/runs/{run_id}?{query}"
    return f"/history?{query}"


@router.get("/history")
def history_page(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    done: str | None = None,
) -> HTMLResponse:
    row = chosen_company(session, page, company)
    runs = history.runs_page(session, row.id, number)
    problems = history.open_problems(session, row.id)
    return render(
        request,
        "history.html",
        {
            "title": "History",
            "company": row,
            "companies": company_choices(session, page),
            "runs": runs,
            "problems": problems,
            "fixes": {p.id: fix_for(p, row.ref) for p in problems},
            "notices": history.notices(session, row.id),
            "may_act": _may_act(page),
            "when": _clock(row),
            "done": DONE.get(done or "", ""),
        },
        page_user=page,
    )


@router.get("/history/runs/{run_id}")
def run_page(
    request: Request,
    run_id: Id,
    session: SessionDep,
    page: CurrentUser,
    done: str | None = None,
    outcome: str | None = None,
) -> HTMLResponse:
    detail = history.run_detail(session, run_id)
    if detail is None:
        raise PageError(
            404,
            "Run not found",
            f"There is no run {run_id} that you may see. History lists the runs "
            "of your companies.",
        )
    try:
        row = chosen_company(session, page, detail.company_ref)
    except PageError:
        # Another company's run is not found either: its number tells nothing.
        raise PageError(
            404,
            "Run not found",
            f"There is no run {run_id} that you may see. History lists the runs "
            "of your companies.",
        ) from None
    open_now = {
        problem.document_id: problem
        for problem in history.open_problems(session, row.id)
    }
    failed = [o for o in detail.outcomes if o.outcome is Outcome.FAILED]
    counts = Counter(o.outcome for o in detail.outcomes)
    shown = outcome if outcome in {o.value for o in counts} else None
    outcomes = [o for o in detail.outcomes if shown in (None, o.outcome.value)]
    return render(
        request,
        "history_run.html",
        {
            "title": f"Run {run_id}",
            "company": row,
            "detail": detail,
            "run": detail.run,
            "outcomes": outcomes,
            "counts": [(o.value, counts[o]) for o in Outcome if counts[o]],
            "shown": shown,
            "open_now": open_now,
            "fixes": {o.id: fix_for(o, row.ref) for o in failed},
            "may_act": _may_act(page),
            "when": _clock(row),
            "done": DONE.get(done or "", ""),
        },
        page_user=page,
    )


@router.post("/history/problems/{outcome_id}/handled")
def mark_handled(
    outcome_id: Id,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
    back: str | None = None,
) -> RedirectResponse:
    require_role(page, *ACTORS)
    row = chosen_company(session, page, company)
    try:
        handled = handling.mark_handled(session, row.id, outcome_id, page.user.username)
    except handling.NotAProblem:
        raise _no_problem(outcome_id) from None
    run_id = handled.run_id
    session.commit()
    if back == "run":  # back to the run's failed documents
        target = _back(row, run_id, outcome="failed", done="handled")
    else:
        target = _back(row, done="handled")
    return RedirectResponse(target, status_code=303)


@router.post("/history/problems/{outcome_id}/retry")
def retry(
    http: Request,
    outcome_id: Id,
    session: SessionDep,
    page: CurrentUser,
    background: BackgroundTasks,
    company: str | None = None,
) -> RedirectResponse:
    require_role(page, *ACTORS)
    row = chosen_company(session, page, company)
    found = history.outcome(session, row.id, outcome_id)
    if found is None or found.outcome is not Outcome.FAILED:
        raise _no_problem(outcome_id)
    request = handling.retry_request(
        row.ref, found.side, found.ref, found.issue_date, page.user.username
    )
    session.rollback()  # the run is created in the runner's own transaction
    try:
        run = running.start(http, background, request)
    except RunInProgress as exc:
        raise PageError(409, "Retry not started", str(exc)) from None
    except SyncError as exc:
        raise PageError(422, "Retry not started", str(exc)) from None
    return RedirectResponse(_back(row, run.id), status_code=303)


@router.post("/history/notices/{notice_id}/dismiss")
def dismiss(
    notice_id: Id,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
) -> RedirectResponse:
    require_role(page, *ACTORS)
    row = chosen_company(session, page, company)
    if not handling.dismiss_notice(session, row.id, notice_id):
        raise PageError(
            404,
            "Notice not found",
            f"Company {row.ref} has no notice {notice_id}. History shows its notices.",
        )
    session.commit()
    return RedirectResponse(_back(row, done="dismissed"), status_code=303)


def _no_problem(outcome_id: int) -> PageError:
    return PageError(
        404,
        "Problem not found",
        f"There is no failed document {outcome_id} of this company. History lists "
        "the open problems.",
    )
