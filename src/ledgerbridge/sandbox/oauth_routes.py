"""HTTP face of the sandbox's OAuth server: sign-in/consent page and token
endpoint (API.md §3.1 paths, §3.2 response, §3.3 errors, §3.5 division
choice at consent).

The handlers read the query string and the form themselves instead of
declaring FastAPI parameters: a missing field must be Exact's 400
(``invalid_request`` on the token endpoint, a plain page on the browser
endpoints), never FastAPI's 422. The OpenAPI description is written out by
hand for the same reason (``openapi_extra``), so a fuzzer sees the real
contract: only the status codes declared here can come back.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from ledgerbridge.sandbox.oauth import ConsentError, OAuthServer, TokenError

AUTH_PATH = "/api/oauth2/auth"
TOKEN_PATH = "/api/oauth2/token"  # noqa: S105 (a path, not a secret)

# Token responses must not be cached (RFC 6749 §5.1); the consent page and
# the redirect carrying a code neither.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The consent page: no scripts, no external assets, not framable (it is
# where a user grants access, the classic clickjacking target). No
# form-action rule: browsers apply it to the redirect after the POST too,
# which goes to the app's own host.
_PAGE_HEADERS = {
    **_NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
}


class TokenResponse(BaseModel):
    """200 of the token endpoint (API.md §3.2)."""

    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: str = Field(
        description="Seconds, as a string, as Exact sends it.", examples=["600"]
    )
    refresh_token: str


class TokenErrorResponse(BaseModel):
    """Error of the token endpoint (API.md §3.3); the description is left
    out when Exact sends none."""

    error: str = Field(
        examples=["invalid_request", "invalid_grant", "access_denied"],
    )
    error_description: str | None = None


def _form_body(
    properties: dict[str, dict[str, Any]], required: list[str]
) -> dict[str, Any]:
    """An OpenAPI request body of form fields, all text."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": required,
                    }
                }
            },
        }
    }


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


# Only grant_type is required by the form's shape: credentials may come by
# HTTP Basic, and a grant's missing fields are a 400 invalid_request.
_TOKEN_FORM = _form_body(
    {
        "grant_type": _text("The grant.", enum=["authorization_code", "refresh_token"]),
        "code": _text("authorization_code: the code from the redirect."),
        "redirect_uri": _text("authorization_code: the app's redirect URI."),
        "refresh_token": _text("refresh_token: the newest refresh token."),
        "client_id": _text("The app's GUID, braces allowed; or HTTP Basic."),
        "client_secret": _text("The app's secret; or HTTP Basic."),
    },
    ["grant_type"],
)

_CONSENT_FORM = _form_body(
    {
        "client_id": _text("From the page's hidden field."),
        "redirect_uri": _text("From the page's hidden field."),
        "state": _text("From the page's hidden field, if the app sent one."),
        "username": _text("The Exact user."),
        "password": _text("Their password."),
        "division": {
            "type": "array",
            "description": "The ticked divisions' codes, one field each.",
            "items": {"type": "string", "pattern": "^[0-9]+$"},
        },
    },
    ["client_id", "redirect_uri", "username", "password"],
)


def _query_parameter(name: str, description: str, required: bool) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_HTML = {"text/html": {"schema": {"type": "string"}}}
_REASON_HEADER = {
    "Reason": {
        "description": "Why, for a refresh before 570 s: "
        "`TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired`",
        "schema": {"type": "string"},
    }
}


def oauth_router(
    server: OAuthServer,
    divisions: Callable[[], list[tuple[int, str]]],
    on_change: Callable[[], None] = lambda: None,
) -> APIRouter:
    """The OAuth endpoints on `server`; `divisions()` lists (code,
    description) for the consent page; `on_change()` runs after every change
    of the server's state, e.g. to persist it."""
    router = APIRouter(tags=["oauth2"])

    def notify_if_changed(revision_before: int) -> None:
        if server.revision != revision_before:
            on_change()

    @router.get(
        AUTH_PATH,
        summary="Sign-in and consent page (authorization-code flow)",
        response_class=HTMLResponse,
        responses={
            200: {"description": "The sign-in and division consent page."},
            400: {
                "description": "Unknown client, redirect URI not the registered "
                "one, or a response type other than `code`.",
                "content": _HTML,
            },
        },
        openapi_extra={
            "parameters": [
                _query_parameter("client_id", "The app's GUID, braces allowed.", True),
                _query_parameter(
                    "redirect_uri", "Exactly the app's registered URI.", True
                ),
                {
                    **_query_parameter("response_type", "Must be `code`.", True),
                    "schema": {"type": "string", "enum": ["code"]},
                },
                _query_parameter("state", "Echoed back on the redirect.", False),
                _query_parameter(
                    "force_login",
                    "0 or 1; the sandbox keeps no session, so it always asks.",
                    False,
                ),
            ]
        },
    )
    async def authorize_page(request: Request) -> Response:
        query = _single_values(request.query_params.multi_items())
        if query is None:
            return _problem_page("A parameter was given more than once.")
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if not client_id or not redirect_uri:
            return _problem_page("client_id and redirect_uri are required.")
        try:
            server.app_for(client_id, redirect_uri)
        except ConsentError as exc:
            # Never redirect an error to a URI the app did not register.
            return _problem_page(str(exc))
        if query.get("response_type") != "code":
            return _problem_page("Only response_type=code is supported.")
        known = divisions()
        return _consent_page(
            action=request.url.path,
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=query.get("state"),
            username="",
            divisions=known,
            ticked={code for code, _ in known},
            error=None,
        )

    @router.post(
        AUTH_PATH,
        summary="Sign in, grant divisions, get redirected with a code",
        # No media type of its own: the 302 has no body, the pages say theirs.
        response_class=Response,
        status_code=302,
        responses={
            200: {
                "description": "Wrong username or password, or no division "
                "ticked: the page again, with the reason.",
                "content": _HTML,
            },
            302: {
                "description": "Consent given: to `redirect_uri?code=…&state=…`.",
                "headers": {
                    "Location": {
                        "description": "The app's redirect URI with the code.",
                        "schema": {"type": "string"},
                    }
                },
            },
            400: {
                "description": "Malformed form, unknown client, redirect URI not "
                "the registered one, or an unknown division.",
                "content": _HTML,
            },
        },
        openapi_extra=_CONSENT_FORM,
    )
    async def authorize_submit(request: Request) -> Response:
        fields = await _read_form(request)
        if fields is None:
            return _problem_page("The form could not be read.")
        division_values = fields.pop("division", [])
        single = _single_values(
            (key, value) for key, values in fields.items() for value in values
        )
        if single is None:
            return _problem_page("A field was given more than once.")
        client_id = single.get("client_id", "")
        redirect_uri = single.get("redirect_uri", "")
        state = single.get("state") or None
        username = single.get("username")
        password = single.get("password")
        if not client_id or not redirect_uri or username is None or password is None:
            # The page always sends these (empty if left blank); without
            # them it is not this page's form.
            return _problem_page(
                "client_id, redirect_uri, username and password are required."
            )
        try:
            server.app_for(client_id, redirect_uri)
        except ConsentError as exc:
            return _problem_page(str(exc))
        known = divisions()
        known_codes = {code for code, _ in known}
        ticked: set[int] = set()
        for value in division_values:
            try:
                division = int(value)
            except ValueError:
                return _problem_page("Unknown division.")
            if division not in known_codes:
                return _problem_page("Unknown division.")
            ticked.add(division)

        def again(error: str) -> Response:
            return _consent_page(
                action=request.url.path,
                client_id=client_id,
                redirect_uri=redirect_uri,
                state=state,
                username=username,
                divisions=known,
                ticked=ticked,
                error=error,
            )

        user = server.sign_in(username, password)
        if user is None:
            return again("Wrong username or password.")
        if not ticked:
            return again("Select at least one division.")
        revision = server.revision
        try:
            code = server.issue_code(client_id, redirect_uri, user.username, ticked)
        except ConsentError as exc:  # e.g. the app was removed meanwhile
            return _problem_page(str(exc))
        finally:
            notify_if_changed(revision)
        return RedirectResponse(
            _redirect_with(redirect_uri, code=code, state=state),
            status_code=302,
            headers=_NO_STORE,
        )

    # Starlette answers a method the path lacks from its first route only
    # (`Allow: GET`), though this path also takes POST; say it right.
    @router.options(AUTH_PATH, include_in_schema=False)
    async def authorize_options() -> Response:
        return Response(status_code=204, headers={"Allow": "GET, POST, OPTIONS"})

    @router.post(
        TOKEN_PATH,
        summary="Token endpoint: redeem a code or refresh a token pair",
        response_model=TokenResponse,
        responses={
            200: {"description": "A new token pair (API.md §3.2)."},
            400: {
                "description": "invalid_request (malformed, bad client "
                "credentials, expired refresh token), invalid_grant (unknown "
                "code or refresh token), access_denied (too early, daily "
                "token budget).",
                "model": TokenErrorResponse,
                "headers": _REASON_HEADER,
            },
            401: {
                "description": "unauthorized_client: old refresh token used.",
                "model": TokenErrorResponse,
            },
        },
        openapi_extra=_TOKEN_FORM,
    )
    async def token(request: Request) -> Response:
        fields = await _read_form(request)
        revision = server.revision
        try:
            # RFC 6749 §3.2: a parameter must not be sent twice.
            form = _single_values(
                (key, value)
                for key, values in (fields or {}).items()
                for value in values
            )
            if fields is None or form is None:
                raise TokenError(400, "invalid_request")
            issued = server.token(form, request.headers.get("authorization"))
        except TokenError as exc:
            body: dict[str, str] = {"error": exc.error}
            if exc.description is not None:
                body["error_description"] = exc.description
            headers = dict(_NO_STORE)
            if exc.reason is not None:
                headers["Reason"] = exc.reason
            return JSONResponse(body, status_code=exc.status, headers=headers)
        finally:
            notify_if_changed(revision)
        return JSONResponse(issued, headers=_NO_STORE)

    return router


async def _read_form(request: Request) -> dict[str, list[str]] | None:
    """The form's fields by name; None for a malformed form or one with a
    file (no endpoint here takes files)."""
    fields: dict[str, list[str]] = {}
    try:
        async with request.form() as form:
            for key, value in form.multi_items():
                if not isinstance(value, str):
                    return None
                fields.setdefault(key, []).append(value)
    except HTTPException:  # Starlette's answer to an unparsable body
        return None
    return fields


def _single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str] | None:
    """The pairs as a dict; None when a name repeats."""
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in values:
            return None
        values[key] = value
    return values


def _redirect_with(redirect_uri: str, *, code: str, state: str | None) -> str:
    """`redirect_uri` plus code (the `!` URL-encoded as `%21`, API.md §3.1)
    and state, keeping a query the registered URI already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("code", code))
    if state is not None:
        query.append(("state", state))
    return urlunsplit(parts._replace(query=urlencode(query)))


_STYLE = """
body { font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0; }
main { max-width: 26rem; margin: 3rem auto; background: #fff; padding: 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.3rem; margin-top: 0; color: #e2001a; }
label { display: block; margin: .6rem 0 .2rem; }
input[type=text], input[type=password] { width: 100%; padding: .4rem;
       box-sizing: border-box; }
fieldset { margin: 1rem 0; } fieldset label { margin: .2rem 0; }
.error { color: #b00020; font-weight: bold; }
button { padding: .5rem 1.2rem; }
"""


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=_PAGE_HEADERS)


def _problem_page(message: str) -> HTMLResponse:
    return _page(
        "Exact Online sandbox: bad request",
        f'<h1>Exact Online sandbox</h1><p class="error">{html.escape(message)}</p>',
        400,
    )


def _consent_page(
    *,
    action: str,
    client_id: str,
    redirect_uri: str,
    state: str | None,
    username: str,
    divisions: list[tuple[int, str]],
    ticked: set[int],
    error: str | None,
) -> HTMLResponse:
    def hidden(name: str, value: str) -> str:
        return f'<input type="hidden" name="{name}" value="{html.escape(value)}">'

    boxes = "".join(
        f'<label><input type="checkbox" name="division" value="{code}"'
        f"{' checked' if code in ticked else ''}> "
        f"{code} {html.escape(description)}</label>"
        for code, description in divisions
    )
    if not boxes:
        boxes = "<p>This user has no divisions.</p>"
    body = (
        "<h1>Exact Online sandbox</h1>"
        "<p>Sign in to give the app access to the divisions you tick.</p>"
        + (f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "")
        + f'<form method="post" action="{html.escape(action)}">'
        + hidden("client_id", client_id)
        + hidden("redirect_uri", redirect_uri)
        + (hidden("state", state) if state is not None else "")
        + '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" '
        f'value="{html.escape(username)}" autocomplete="username" required>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        f"<fieldset><legend>Divisions</legend>{boxes}</fieldset>"
        '<button type="submit">Sign in and allow</button>'
        "</form>"
    )
    return _page("Exact Online sandbox: sign in", body, 200)
