"""The web pages: server-rendered HTML (Jinja2 templates in `web/templates/`,
htmx and CSS in `web/static/`), signed in with a session cookie.

`install(app)` adds them to the FastAPI app. Every page stands on
`sessions.page_user` (the `CurrentUser` dependency): routes of `signed_in`
answer a request without a session with a redirect to the sign-in page
(303), and refuse a POST, PUT, PATCH or DELETE without the session's CSRF
token (403). A new page goes on `signed_in` (or a router included in it) and
takes `page: CurrentUser` for the user and the token its forms carry; only
the sign-in page is `public`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from ledgerbridge.web.pages import (
    auth,
    dashboard,
    history,
    invoices,
    parties,
    payments,
    settings,
    start,
    terms,
)
from ledgerbridge.web.pages.errors import (
    PageError,
    csrf_refused,
    page_error,
    sign_in_required,
)
from ledgerbridge.web.pages.render import STATIC, STATIC_PATH
from ledgerbridge.web.pages.sessions import CsrfRefused, SignInRequired, page_user

signed_in = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])
signed_in.include_router(auth.signed_in)
# Each screen's router comes before `start`, whose placeholder pages for the
# screens still to come would otherwise answer first.
for _screen in (settings, parties, invoices, payments, terms, history, dashboard):
    signed_in.include_router(_screen.router)
signed_in.include_router(start.router)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error pages to `app`."""
    app.include_router(auth.public)
    app.include_router(signed_in)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(PageError, page_error)
