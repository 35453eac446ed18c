"""A sandbox with a state file survives a restart: divisions, booked entries,
payments, OAuth tokens and the clock; a reset empties the file too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from tests.sandbox.conftest import BE, Signed, customer, gl_id, sign_in


@contextmanager
def served(sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox), base_url="http://sandbox.test") as client:
        yield client


def _book(exact: Signed, customer_code: str = "1001") -> dict[str, Any]:
    account = customer(exact, BE, customer_code)
    revenue = gl_id(exact, BE, "700000")
    posted = exact.post(
        f"{BE}/salesentry/SalesEntries",
        {
            "Journal": "70",
            "Customer": account,
            "YourRef": "F-PERSIST-1",
            "SalesEntryLines": [
                {"GLAccount": revenue, "AmountFC": "100.00", "VATCode": "V21"}
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    entry: dict[str, Any] = posted.json()["d"]
    return entry


def test_persistence_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = Sandbox(state_path=path)
    with served(first) as http:
        created = http.post(
            "/_sandbox/divisions",
            json={"code": BE, "template": "BE", "name": "Demo BE"},
        )
        assert created.status_code == 201, created.text
        exact = sign_in(http, first, [BE])
        entry = _book(exact)
        paid = http.post(
            f"/_sandbox/divisions/{BE}/payments",
            json={
                "entry_id": entry["EntryID"],
                "amount": "60.50",
                "date": "2026-01-05",
            },
        )
        assert paid.status_code == 200, paid.text
        moved = http.post("/_sandbox/clock", json={"advance_seconds": 600})
        assert moved.status_code == 200, moved.text
    offset = first.clock.offset_seconds

    second = Sandbox(state_path=path)

    assert list(second.divisions) == [BE]
    assert second.divisions[BE].name == "Demo BE"
    assert second.clock.offset_seconds == offset >= 600
    stored = second.divisions[BE].records("sales_entries")[entry["EntryID"]]
    assert stored["EntryNumber"] == entry["EntryNumber"]
    assert stored["AmountDC"] == Decimal("121.00")
    assert stored["VATAmountDC"] == Decimal("21.00")
    assert stored["YourRef"] == "F-PERSIST-1"
    term, paid_part = second.divisions[BE].find(
        "receivables", TransactionEntryID=entry["EntryID"]
    )
    assert (term["AmountDC"], term["IsFullyPaid"]) == (Decimal("60.50"), False)
    assert (paid_part["AmountDC"], paid_part["Status"]) == (Decimal("60.50"), 50)
    item = second.divisions[BE].first("receivables_list", _term=term["ID"])
    assert item is not None
    assert item["Amount"] == Decimal("60.50")
    with served(second) as http:
        refreshed = Signed(
            http, second, exact.client_id, exact.client_secret, exact.tokens
        ).refresh()
        assert refreshed.status_code == 200, refreshed.text
        renewed = Signed(
            http, second, exact.client_id, exact.client_secret, refreshed.json()
        )
        owed = renewed.get(
            f"{BE}/read/financial/ReceivablesList",
            **{"$select": "HID,Amount,YourRef", "$filter": "YourRef eq 'F-PERSIST-1'"},
        )
        assert owed.status_code == 200, owed.text
        assert [row["Amount"] for row in owed.json()["d"]["results"]] == [60.5]
        following = _book(renewed, customer_code="1002")
        assert following["EntryNumber"] == entry["EntryNumber"] + 1
        assert http.post("/_sandbox/reset").status_code == 200

    third = Sandbox(state_path=path)

    assert third.divisions == {}
    assert third.oauth.apps == {}
    assert third.clock.offset_seconds == offset


def test_persistence_paying_in_full_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = Sandbox(state_path=path)
    with served(first) as http:
        http.post(
            "/_sandbox/divisions",
            json={"code": BE, "template": "BE", "name": "Demo BE"},
        )
        entry = _book(sign_in(http, first, [BE]))
        paid = http.post(
            f"/_sandbox/divisions/{BE}/payments",
            json={
                "entry_id": entry["EntryID"],
                "amount": "121.00",
                "date": "2026-01-05",
            },
        )
        assert paid.json()["is_fully_paid"] is True

    division = Sandbox(state_path=path).divisions[BE]

    term = division.first("receivables", TransactionEntryID=entry["EntryID"])
    assert term is not None
    assert term["IsFullyPaid"] is True
    assert term["EndDate"].year == 2026
    assert list(division.records("receivables_list")) == []
