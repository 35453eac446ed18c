"""Random documents within the API's limits never crash it, and whatever is
accepted reads back equal to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS
from tests.api.payloads import invoice

LIMIT = Decimal("1e9")
BELGIAN = sorted(code for code in VAT_SCENARIOS if code.startswith("BE-"))


def decimals(places: int, low: Decimal = -LIMIT, high: Decimal = LIMIT) -> Any:
    return st.decimals(low, high, places=places, allow_nan=False).map(str)


lines = st.fixed_dictionaries(
    {
        "description": st.text(
            st.characters(exclude_categories=["Cc", "Cs"]), max_size=30
        ),
        "quantity": decimals(4, Decimal(-5), Decimal(50)) | decimals(4),
        "unit_price": decimals(4, Decimal(0), Decimal(5000)) | decimals(4),
        "discount_percent": decimals(2, Decimal(0), Decimal(100)),
        "vat_scenario": st.sampled_from(BELGIAN)
        | st.sampled_from(sorted(VAT_SCENARIOS)),
    }
)
documents = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["invoice", "credit_note"]),
        "lines": st.lists(lines, min_size=0, max_size=6),
        "due_date": st.none(),
        "currency": st.just("EUR") | st.sampled_from(["EUR", "USD"]),
        "validated": st.booleans(),
    }
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    changes=documents,
    rate=st.none() | decimals(6, Decimal("0.000001"), LIMIT),
    number=st.integers(1, 20),
)
def test_random_documents_are_stored_or_refused_never_crash(
    client: TestClient,
    acme: str,
    changes: dict[str, Any],
    rate: str | None,
    number: int,
) -> None:
    if changes["currency"] != "EUR":
        changes["exchange_rate"] = rate
    response = client.put(
        f"{acme}/customer-invoices/F{number}", json=invoice(**changes)
    )

    assert response.status_code in {200, 201, 409, 422}, response.text
    event(f"status {response.status_code}")
    if response.status_code in {200, 201}:
        stored = client.get(f"{acme}/customer-invoices/F{number}").json()
        totals = stored["totals"]
        nets = sum(Decimal(line["net"]) for line in stored["lines"])
        vats = sum(Decimal(line["vat"]) for line in stored["lines"])
        assert Decimal(totals["net"]) == nets
        assert Decimal(totals["vat"]) == vats
        assert Decimal(totals["total"]) == nets + vats
