"""The start page (the companies the user may see), a company's page, and
the screens still to come."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledgerbridge import users
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.pages.errors import PageError
from ledgerbridge.web.pages.nav import START, Link, Section, coming_links
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser, PageUser

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
        {"title": row.name, "company": row, "screens": coming_links()},
        page_user=page,
    )


def _coming(section: Section, link: Link) -> Callable[..., HTMLResponse]:
    def page(request: Request, page: CurrentUser) -> HTMLResponse:
        return _render_coming(request, page, section, link)

    page.__name__ = f"coming_{link.path.strip('/').replace('/', '_').replace('-', '_')}"
    return page


def _render_coming(
    request: Request, page: PageUser, section: Section, link: Link
) -> HTMLResponse:
    return render(
        request,
        "coming.html",
        {"title": link.label, "section": section, "link": link},
        page_user=page,
    )


for _section, _link in coming_links():
    router.add_api_route(_link.path, _coming(_section, _link), methods=["GET"])
