"""A company with a customer and a supplier to push documents to."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.payloads import COMPANY, company_body


@pytest.fixture
def acme(client: TestClient) -> str:
    """Company `acme` (BE) with contact `c1` and supplier `s1`; its URL."""
    assert client.put(COMPANY, json=company_body()).status_code == 201
    contact = {"name": "Jan Peeters", "booking_codes": {"exact_code": "1001"}}
    assert client.put(f"{COMPANY}/contacts/c1", json=contact).status_code == 201
    supplier = {"name": "Sanitair NV", "booking_codes": {"exact_code": "2001"}}
    assert client.put(f"{COMPANY}/suppliers/s1", json=supplier).status_code == 201
    return COMPANY
