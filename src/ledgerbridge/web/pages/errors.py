"""How a page says no: an HTML page with a sentence, never a stack trace."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from ledgerbridge.users import Role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import PageUser, SignInRequired, sign_in_url


class PageError(Exception):
    """Answer a page request with `status` and a page saying `message`."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def require_role(page: PageUser, *roles: Role) -> None:
    """Refuse (403) a user whose role is not one of `roles`: a page that
    changes settings or users takes admins, an export bookkeepers too."""
    if page.user.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise PageError(
            403,
            "Not allowed",
            f"This needs the role {allowed}; you are signed in as "
            f"{page.user.role.value}. Ask an admin if you need it.",
        )


def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(
        request,
        "error.html",
        {"title": exc.title, "message": exc.message},
        status_code=exc.status,
    )


def sign_in_required(request: Request, exc: Exception) -> Response:
    """303 to the sign-in page, which comes back here; an htmx request gets
    `HX-Redirect` instead, so the whole page goes there (not a fragment)."""
    assert isinstance(exc, SignInRequired)
    target = sign_in_url(exc.next_path)
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        return Response(status_code=401, headers={"HX-Redirect": sign_in_url(back)})
    return RedirectResponse(target, status_code=303)


def csrf_refused(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "Refused",
            "message": "This change was refused: it did not carry the form's "
            "security token (the page may be old, or the request did not come "
            "from ledgerbridge). Reload the page and try again.",
        },
        status_code=403,
    )
