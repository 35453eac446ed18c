"""schemathesis over the sandbox's own OpenAPI document (the OAuth endpoints
and the `/_sandbox/` admin API; the Exact API under `/api/v1` is Exact's and
not described there): no 5xx, no undocumented status, no response off its
schema, schema-invalid input refused.

One check is left out: `positive_data_acceptance` expects every request that
fits the schema to succeed, but the sandbox must refuse well-formed requests
that name an app, division, user, code or refresh token it does not know
(`Unknown client_id.`, Exact's `invalid_request`, the sign-in page's 400);
which ids exist is state, not schema.

One sandbox serves every example, so state builds up (divisions, apps,
faults, a clock moved forward) and resets now and then, as a developer's
sandbox would.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox

app = create_app(Sandbox())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_sandbox_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
