"""The web application factory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledgerbridge import __version__, intake
from ledgerbridge.domain.problems import InvalidInput, Problem
from ledgerbridge.runner import Runner
from ledgerbridge.web import pages
from ledgerbridge.web.api import companies, documents, parties, payments, runs
from ledgerbridge.web.api.deps import ApiError, reject_unknown_query

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Push companies, contacts, suppliers and invoices; read back how each document
booked in Exact Online and what was paid. Every call needs an API key
(`ledgerbridge apikey create --name NAME`) sent as `Authorization: Bearer ...`.
Amounts are decimal strings. Upserts are keyed by the application's own
references: sending the same thing twice changes nothing.
"""


def create_app(
    sessions: sessionmaker[Session], runner: Runner | None = None
) -> FastAPI:
    """The app, on a session factory bound to an already migrated database.

    Runs started through the API go through `runner`; without one, the app
    builds its own from the settings on first use."""
    app = FastAPI(
        title="ledgerbridge",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # the bundled docs pages load scripts from a CDN
        redoc_url=None,
    )
    app.state.sessions = sessions
    app.state.runner = runner
    for router in (
        companies.router,
        parties.contacts,
        parties.suppliers,
        documents.router,
        payments.router,
        runs.router,
    ):
        app.include_router(
            router, prefix=API_PREFIX, dependencies=[Depends(reject_unknown_query)]
        )

    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(intake.UnknownCompany, _unknown_company)
    app.add_exception_handler(intake.DocumentLocked, _locked)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _conflict)

    pages.install(app)  # the web pages, signed in with a session cookie

    return app


def _error(
    status: int,
    error: str,
    message: str,
    problems: list[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "message": message, "problems": []}
    if problems:
        body["problems"] = [{"field": p.field, "message": p.message} for p in problems]
    return JSONResponse(body, status_code=status, headers=headers)


def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()]
    return _error(422, "invalid_input", _summary(problems), problems)


def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return _error(422, "invalid_input", _summary(exc.problems), exc.problems)


def _unknown_company(request: Request, exc: Exception) -> JSONResponse:
    return _error(404, "not_found", str(exc))


def _locked(request: Request, exc: Exception) -> JSONResponse:
    return _error(409, "locked", str(exc))


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    # Two requests wrote the same thing at once; the session rolled back.
    return _error(
        409,
        "conflict",
        "another request changed the same data at the same moment; send it again",
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = (
        exc.error
        if isinstance(exc, ApiError)
        else _HTTP_CODES.get(exc.status_code, "error")
    )
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first matching route's methods; a path
        # served by several routes (GET and PUT) allows all of theirs.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return _error(exc.status_code, error, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def _summary(problems: list[Problem]) -> str:
    if len(problems) == 1:
        return f"{problems[0].field}: {problems[0].message}"
    return f"{len(problems)} problems; see 'problems' for each field"


def _problem(error: Any) -> Problem:
    where = [str(part) for part in error.get("loc", ()) if part != "body"]
    location = error.get("loc", ("body",))[0]
    path = ""
    for part in where if location == "body" else where[1:]:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    if error.get("type") == "json_invalid":
        return Problem("body", "the body is not valid JSON")
    if error.get("type") == "missing":
        return Problem(path or location, "this field is required")
    if error.get("type") == "extra_forbidden":
        what = "query parameter" if location == "query" else "field"
        return Problem(path, f"this {what} is not known; check its spelling")
    message = str(error.get("msg", "is not valid"))
    return Problem(path or str(location), message[0].lower() + message[1:])
