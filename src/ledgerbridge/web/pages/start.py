"""The start page (the companies the user may see) and a company's page
(its facts and its screens)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledgerbridge import users
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.pages.errors import PageError
from ledgerbridge.web.pages.nav import START, screen_links
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser

router = APIRouter(include_in_schema=False)


@router.get(START.path)
def start(request: Request, session: SessionDep, page: CurrentUser) -> HTMLResponse:
    companies = users.visible_companies(session, page.user)
    return render(
        request,
        "start.html",
        {"title": "Companies", "companies": companies},
        page_user=page,
    )


@router.get("/companies/{ref}")
def company(
    request: Request, ref: str, session: SessionDep, page: CurrentUser
) -> HTMLResponse:
    row = users.visible_company(session, page.user, ref)
    if row is None:
        raise PageError(
            404,
            "Company not found",
            f"There is no company {ref!r} that you may see. The companies you "
            "may see are listed on the start page.",
        )
    return render(
        request,
        "company.html",
        {"title": row.name, "company": row, "screens": screen_links()},
        page_user=page,
    )
