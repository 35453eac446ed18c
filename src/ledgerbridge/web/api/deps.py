"""What every API route needs: a database session, the caller, the company."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ledgerbridge import apikeys
from ledgerbridge.apikeys import Principal
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.web.api.schemas import REF_PATTERN, ErrorOut


class ApiError(HTTPException):
    """An HTTP error with a stable code and a sentence saying what to do."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, message, headers)
        self.error = error


def errors(
    *statuses: int, created: type[BaseModel] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, and for
    201 when an upsert creates `created`."""
    described = {
        400: "The body cannot be read as JSON.",
        401: "No API key, or one that is unknown or revoked.",
        403: "The API key is not allowed to reach this company.",
        404: "Not found.",
        409: "The document is validated and locked, or another request wrote "
        "the same data at the same moment.",
        422: "The input breaks a rule; `problems` says where and why.",
    }
    entries: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorOut, "description": described[s]} for s in statuses
    }
    if created is not None:
        entries[201] = {"model": created, "description": "Created."}
    return entries


def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters a route does not take: a typo is not ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                }
                for name in unknown
            ]
        )


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `ledgerbridge apikey create`, as a Bearer token.",
)


def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "send an API key as 'Authorization: Bearer lb_...'; create one with "
            "'ledgerbridge apikey create --name NAME'",
            challenge,
        )
    principal = apikeys.authenticate(session, credentials.credentials)
    if principal is None:
        raise ApiError(
            401, "unauthorized", "this API key is unknown or revoked", challenge
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
CompanyRef = Annotated[
    str, Path(pattern=REF_PATTERN, description="The company's reference.")
]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]


def check_reach(principal: Principal, company: str) -> None:
    if not principal.may_reach(company):
        raise ApiError(
            403,
            "forbidden",
            f"API key {principal.key_name!r} is limited to other companies than "
            f"{company!r}",
        )


def get_company(
    company: CompanyRef, principal: PrincipalDep, session: SessionDep
) -> CompanyRow:
    check_reach(principal, company)
    row = repo.get_company(session, company)
    if row is None:
        raise ApiError(404, "not_found", f"company {company!r} is not known")
    return row


CompanyDep = Annotated[CompanyRow, Depends(get_company)]
