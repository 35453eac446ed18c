"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ledgerbridge import users
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import (
    SIGN_IN_PATH,
    CurrentUser,
    check_sign_in_form,
    end_session,
    new_sign_in_token,
    safe_next,
    session_token,
    set_sign_in_cookie,
    start_session,
)

public = APIRouter(include_in_schema=False)
"""Routes that answer without a session: the sign-in page alone."""

signed_in = APIRouter(include_in_schema=False)

WRONG_CREDENTIALS = "The username or password is not right. Check both and try again."
FORM_EXPIRED = (
    "This sign-in form had expired (or your browser refuses cookies). "
    "Please sign in again."
)

Field = Annotated[str, Form()]


@public.get(SIGN_IN_PATH)
def sign_in_page(
    request: Request,
    session: SessionDep,
    next: str = "/",
    signed_out: bool = False,
) -> Response:
    token = session_token(request)
    if token and users.session_user(session, token) is not None:
        session.commit()
        return RedirectResponse(safe_next(next), status_code=303)
    session.commit()
    notice = "You are signed out." if signed_out else ""
    return _form(request, next_path=safe_next(next), notice=notice)


@public.post(SIGN_IN_PATH)
def sign_in(
    request: Request,
    session: SessionDep,
    username: Field = "",
    password: Field = "",
    csrf_token: Field = "",
    next: Field = "/",
) -> Response:
    next_path = safe_next(next)
    if not check_sign_in_form(request, csrf_token):
        return _form(
            request,
            next_path=next_path,
            username=username,
            error=FORM_EXPIRED,
            status_code=403,
        )
    user = users.authenticate(session, username, password)
    if user is None:
        session.rollback()
        return _form(
            request,
            next_path=next_path,
            username=username,
            error=WRONG_CREDENTIALS,
            status_code=400,
        )
    response = RedirectResponse(next_path, status_code=303)
    start_session(request, response, session, user)
    return response


@signed_in.post("/sign-out")
def sign_out(request: Request, session: SessionDep, page: CurrentUser) -> Response:
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=true", status_code=303)
    end_session(request, response, session)
    return response


def _form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    nonce, token = new_sign_in_token(request)
    response = render(
        request,
        "sign_in.html",
        {
            "title": "Sign in",
            "next_path": next_path,
            "username": username[:200],
            "error": error,
            "notice": notice,
            "form_token": token,
        },
        status_code=status_code,
    )
    set_sign_in_cookie(request, response, nonce)
    return response
