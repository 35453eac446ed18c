"""The terms and conditions: shown on a company's first sync (an export, or
switching on a daily run), accepted by a bookkeeper or admin in their own
name. Refusing sends nothing: it only goes back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerbridge.queries.terms import acceptances
from ledgerbridge.runner import TermsFileError
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.sync.errors import TermsChanged
from ledgerbridge.sync.terms import Terms
from ledgerbridge.users import Role
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.api.runs import get_runner
from ledgerbridge.web.pages.companies import chosen_company
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser, PageUser, safe_next

router = APIRouter(include_in_schema=False)

TERMS_PATH = "/terms"
ACCEPTERS = (Role.ADMIN, Role.BOOKKEEPER)


@router.get(TERMS_PATH)
def terms_page(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    company: str | None = None,
    next: str = "/",
) -> HTMLResponse:
    row = chosen_company(session, page, company)
    return _show(request, session, page, row, _terms(request), safe_next(next))


@router.post(f"{TERMS_PATH}/accept")
def accept(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    company: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    require_role(page, *ACCEPTERS)
    row = chosen_company(session, page, company or None)
    runner = get_runner(request)
    back = safe_next(next)
    try:
        runner.accept_terms(row.ref, page.user.username, version or None)
    except TermsChanged as exc:
        return _show(request, session, page, row, _terms(request), back, str(exc), 409)
    except TermsFileError as exc:
        raise PageError(503, "Terms unavailable", str(exc)) from None
    return RedirectResponse(back, status_code=303)


def _terms(request: Request) -> Terms:
    try:
        return get_runner(request).terms
    except TermsFileError as exc:
        raise PageError(503, "Terms unavailable", str(exc)) from None


def _show(
    request: Request,
    session: SessionDep,
    page: PageUser,
    company: CompanyRow,
    terms: Terms,
    back: str,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    accepted = acceptances(session, company.id)
    current = next((a for a in accepted if a.version == terms.version), None)
    return render(
        request,
        "terms.html",
        {
            "title": "Terms and conditions",
            "company": company,
            "terms": terms,
            "accepted": accepted,
            "current": current,
            "back": back,
            "problem": problem,
            "may_accept": page.user.role in ACCEPTERS,
        },
        page_user=page,
        status_code=status_code,
    )
