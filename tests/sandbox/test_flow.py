"""The whole path an integration takes: sign in, set up a customer, book an
invoice, see it owed, pay it, see it paid."""

from __future__ import annotations

from tests.sandbox.conftest import BE, Signed, customer, gl_id


def test_sales_entry_books_and_gets_paid(exact: Signed) -> None:
    account = customer(exact, BE)
    revenue = gl_id(exact, BE, "700000")
    body = {
        "Journal": "70",
        "Customer": account,
        "EntryDate": "2026-11-14",
        "YourRef": "F2026-0042",
        "PaymentCondition": "30",
        "SalesEntryLines": [
            {
                "GLAccount": revenue,
                "AmountFC": 100.00,
                "VATCode": "V21",
                "Description": "Kast",
            },
            {"GLAccount": revenue, "AmountFC": "25.50", "VATCode": "V21"},
        ],
    }

    posted = exact.post(f"{BE}/salesentry/SalesEntries", body)

    assert posted.status_code == 201, posted.text
    entry = posted.json()["d"]
    assert entry["AmountFC"] == 151.86
    assert entry["VATAmountFC"] == 26.36
    assert entry["Type"] == 20
    assert str(entry["EntryNumber"]).startswith("2670")
    assert entry["DueDate"] == "/Date(1797206400000)/"  # 2026-12-14
    assert "__deferred" in entry["SalesEntryLines"]

    owed = exact.get(
        f"{BE}/read/financial/ReceivablesList",
        **{"$select": "HID,Amount,YourRef", "$filter": "YourRef eq 'F2026-0042'"},
    ).json()["d"]["results"]
    assert owed[0]["Amount"] == 151.86

    paid = exact.http.post(
        f"/_sandbox/divisions/{BE}/payments",
        json={"entry_id": entry["EntryID"], "amount": "151.86", "date": "2026-11-20"},
    ).json()
    assert paid["is_fully_paid"] is True

    receivable = exact.get(
        f"{BE}/cashflow/Receivables",
        **{
            "$select": "IsFullyPaid,Status",
            "$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'",
        },
    ).json()["d"]["results"][0]
    assert receivable == {
        "__metadata": receivable["__metadata"],
        "IsFullyPaid": True,
        "Status": 50,
    }
    gone = exact.get(
        f"{BE}/read/financial/ReceivablesList",
        **{"$select": "HID", "$filter": "YourRef eq 'F2026-0042'"},
    ).json()["d"]["results"]
    assert gone == []
