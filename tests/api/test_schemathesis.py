"""schemathesis over the whole API: no 5xx, no response off its schema,
schema-invalid input refused, authentication enforced.

One check is left out: `positive_data_acceptance` expects every request that
fits the JSON schema to succeed, but the API also applies the domain's rules
(VAT number checksums, a country's VAT scenarios, totals that must match the
lines), which a schema cannot express; those answer 422 with the reason.

The schema is loaded from the app once; each test points the app at that
test's database (SQLite and PostgreSQL). `from_fixture` would be neater but
reads a pytest attribute that pytest 9 removed.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import sessionmaker

from ledgerbridge import intake
from ledgerbridge.domain.parties import BookingCodes, Company, Party
from ledgerbridge.storage.tables import ApiKeyRow
from ledgerbridge.web.api.schemas import REF_PATTERN
from ledgerbridge.web.app import create_app
from ledgerbridge.wiring import Database

KEY_PREFIX = "5c4e3a7f"
KEY_SECRET = "schemathesis-fixed-secret"

app = create_app(sessionmaker())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.auth()
class ApiKey:
    def get(self, case: schemathesis.Case, context: object) -> str:
        return f"lb_{KEY_PREFIX}_{KEY_SECRET}"

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# Random references rarely name a company that exists, so half of the valid
# ones are swapped for a seeded company and its parties: the deep paths
# (documents written with generated amounts) get exercised too. Only valid
# values are swapped, so negative cases stay negative.
SEEDED = {
    "company": "acme",
    "customer": "c1",
    "supplier": "s1",
    "vat_scenario": "BE-21",
    "currency": "EUR",
}


def _swap(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _swap(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(item) for item in value]
    if key in SEEDED and isinstance(value, str) and re.match(REF_PATTERN, value):
        return SEEDED[key]
    return value


def _maybe_seeded(values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([_swap(values), values])


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    return _maybe_seeded(path_parameters)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    return _maybe_seeded(body)


def _seed(database: Database) -> None:
    with database.sessions() as session:
        company = intake.upsert_company(
            session, Company("acme", "Acme", "BE", "BE0403170701")
        ).row
        for role, ref in ((intake.CUSTOMER, "c1"), (intake.SUPPLIER, "s1")):
            party = Party(ref, f"Party {ref}", booking_codes=BookingCodes("1001"))
            intake.upsert_party(session, company, role, party)
        session.add(
            ApiKeyRow(
                name="schemathesis",
                prefix=KEY_PREFIX,
                secret_hash=hashlib.sha256(KEY_SECRET.encode()).hexdigest(),
            )
        )
        session.commit()


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(
    case: schemathesis.Case, database: Database
) -> None:
    if app.state.sessions is not database.sessions:
        _seed(database)
        app.state.sessions = database.sessions
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
