"""Contacts (customers) and suppliers, with their booking codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from ledgerbridge import intake
from ledgerbridge.domain.parties import Address, BookingCodes, Party
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import PartyRow
from ledgerbridge.web.api.deps import (
    ApiError,
    CompanyDep,
    Limit,
    Offset,
    SessionDep,
    errors,
)
from ledgerbridge.web.api.schemas import (
    REF_PATTERN,
    AddressSchema,
    BookingCodesSchema,
    PageOut,
    PartyIn,
    PartyOut,
)

PartyRef = Annotated[
    str, Path(pattern=REF_PATTERN, description="The application's id.")
]


def party_router(role: str, path: str, noun: str) -> APIRouter:
    """The list, read and upsert routes of one kind of party."""
    router = APIRouter(tags=[path])

    @router.get(f"/companies/{{company}}/{path}", responses=errors(401, 403, 404, 422))
    def list_parties(
        company: CompanyDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
    ) -> PageOut[PartyOut]:
        page = repo.list_parties(session, company, role, limit, offset)
        return PageOut[PartyOut].of(page, party_out)

    @router.get(
        f"/companies/{{company}}/{path}/{{ref}}", responses=errors(401, 403, 404, 422)
    )
    def get_party(company: CompanyDep, ref: PartyRef, session: SessionDep) -> PartyOut:
        row = repo.get_party(session, company, role, ref)
        if row is None:
            raise ApiError(404, "not_found", f"{noun} {ref!r} is not known")
        return party_out(row)

    @router.put(
        f"/companies/{{company}}/{path}/{{ref}}",
        responses=errors(400, 401, 403, 404, 409, 422, created=PartyOut),
    )
    def put_party(
        company: CompanyDep,
        ref: PartyRef,
        body: PartyIn,
        session: SessionDep,
        response: Response,
    ) -> PartyOut:
        result = intake.upsert_party(session, company, role, party_in(ref, body))
        session.commit()
        if result.created:
            response.status_code = 201
        return party_out(result.row)

    list_parties.__doc__ = f"The company's {path}, by reference."
    put_party.__doc__ = (
        f"Create or update a {noun} and its booking codes, under the "
        "application's own id."
    )
    return router


def party_in(ref: str, body: PartyIn) -> Party:
    return Party(
        ref=ref,
        name=body.name,
        vat_number=body.vat_number or None,
        email=body.email or None,
        address=Address(**body.address.model_dump()),
        booking_codes=BookingCodes(**body.booking_codes.model_dump()),
    )


def party_out(row: PartyRow) -> PartyOut:
    return PartyOut(
        ref=row.ref,
        name=row.name,
        vat_number=row.vat_number,
        email=row.email,
        address=AddressSchema(
            street=row.street,
            postal_code=row.postal_code,
            city=row.city,
            country=row.country,
        ),
        booking_codes=BookingCodesSchema(
            exact_code=row.exact_code,
            gl_account=row.gl_account,
            vat_scenario=row.vat_scenario,
            cost_centre=row.cost_centre,
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


contacts = party_router(intake.CUSTOMER, "contacts", "contact")
suppliers = party_router(intake.SUPPLIER, "suppliers", "supplier")
