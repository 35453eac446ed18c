"""Rendering a page: the Jinja2 templates, the layout's context and the
headers every page is sent with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ledgerbridge import __version__
from ledgerbridge.web.pages.nav import NAV
from ledgerbridge.web.pages.sessions import CSRF_FIELD, CSRF_HEADER, PageUser

WEB = Path(__file__).resolve().parents[1]
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
STATIC_PATH = "/static"

HEADERS = {
    # Scripts and styles from our own static files only; no framing.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def static_url(path: str) -> str:
    """A static file's URL, with the version so a new release is fetched."""
    return f"{STATIC_PATH}/{path}?v={__version__}"


templates.env.globals["static_url"] = static_url


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    page_user: PageUser | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """`template` in the layout: the navigation and the user when signed in,
    the CSRF token for the forms and htmx."""
    values: dict[str, Any] = {
        "nav": NAV,
        "current_path": request.url.path,
        "user": page_user.user if page_user else None,
        "csrf_token": page_user.csrf_token if page_user else "",
        "csrf_field": CSRF_FIELD,
        "csrf_headers": {CSRF_HEADER: page_user.csrf_token} if page_user else {},
        "title": "",
        "message": "",
    }
    values.update(context or {})
    response = templates.TemplateResponse(
        request,
        template,
        values,
        status_code=status_code,
        headers={**HEADERS, **(headers or {})},
    )
    assert isinstance(response, HTMLResponse)
    return response
