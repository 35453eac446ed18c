"""Documents and attachments, the purchase side's cash flow, and the sync
feeds an integration reads payments from (API.md §7.10-§7.13, §8)."""

from __future__ import annotations

import base64
import time
from decimal import Decimal
from typing import Any

from tests.sandbox.conftest import BE, Signed, error_of, gl_id, sales_entry, supplier


def test_pdf_is_attached_through_a_document(exact: Signed) -> None:
    document = exact.post(
        f"{BE}/documents/Documents",
        {"Subject": "F2026-0042", "Type": 10, "DocumentDate": "2026-11-14"},
    ).json()["d"]
    pdf = base64.b64encode(b"%PDF-1.4 demo").decode()

    attachment = exact.post(
        f"{BE}/documents/DocumentAttachments",
        {"Document": document["ID"], "FileName": "F2026-0042.pdf", "Attachment": pdf},
    )
    entry = exact.post(
        f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE, Document=document["ID"])
    )

    assert document["TypeDescription"] == "Sales invoice"
    assert document["DocumentViewUrl"].startswith("http://sandbox.test/docs/")
    assert attachment.status_code == 201
    assert attachment.json()["d"]["FileSize"] == 13
    assert attachment.json()["d"]["Attachment"] is None
    assert entry.json()["d"]["Document"] == document["ID"]


def test_attachment_must_be_base64_of_at_most_10_mb(exact: Signed) -> None:
    document = exact.post(
        f"{BE}/documents/Documents", {"Subject": "x", "Type": 10}
    ).json()["d"]
    body = {"Document": document["ID"], "FileName": "x.pdf"}

    raw = exact.post(f"{BE}/documents/DocumentAttachments", body | {"Attachment": "%%"})
    big = base64.b64encode(b"0" * (10 * 1024 * 1024 + 1)).decode()
    too_big = exact.post(
        f"{BE}/documents/DocumentAttachments", body | {"Attachment": big}
    )

    assert raw.status_code == 400
    assert "Byte[]" in error_of(raw)
    assert too_big.status_code == 500


def test_unknown_document_on_an_entry_is_refused(exact: Signed) -> None:
    missing = "00000000-0000-0000-0000-0000000000aa"

    response = exact.post(
        f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE, Document=missing)
    )

    assert error_of(response) == "Ongeldige referentie: Document"


def purchase(exact: Signed, amount: float) -> dict[str, Any]:
    body = {
        "Journal": "60",
        "Supplier": supplier(exact, BE, code=str(int(amount))),
        "EntryDate": "2026-11-03",
        "YourRef": "INV-77",
        "PurchaseEntryLines": [
            {
                "GLAccount": gl_id(exact, BE, "604000"),
                "AmountFC": amount,
                "VATCode": "A21",
            }
        ],
    }
    return dict(exact.post(f"{BE}/purchaseentry/PurchaseEntries", body).json()["d"])


def test_purchase_entry_is_payable_until_paid(exact: Signed) -> None:
    entry = purchase(exact, 100)

    def payments() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = exact.get(
            f"{BE}/cashflow/Payments",
            **{
                "$select": "Status,AmountDC,TransactionEntryID",
                "$filter": "Status eq 20",
            },
        ).json()["d"]["results"]
        return rows

    open_before = payments()
    listed = exact.get(
        f"{BE}/read/financial/PayablesList", **{"$select": "Amount,YourRef"}
    ).json()["d"]["results"]
    exact.http.post(
        f"/_sandbox/divisions/{BE}/payments",
        json={"entry_id": entry["EntryID"], "amount": "121.00", "date": "2026-11-30"},
    )

    assert [row["AmountDC"] for row in open_before] == [121.0]
    assert "IsFullyPaid" not in open_before[0]
    assert listed == [{**listed[0], "Amount": 121.0, "YourRef": "INV-77"}]
    assert payments() == []


def test_sync_feeds_deliver_changes_after_a_timestamp(exact: Signed) -> None:
    entry = exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE)).json()
    lines = exact.get(
        f"{BE}/sync/Financial/TransactionLines",
        **{"$select": "Timestamp,EntryID,AmountDC,GLAccountCode"},
    ).json()["d"]["results"]
    latest = max(row["Timestamp"] for row in lines)

    exact.http.post(
        f"/_sandbox/divisions/{BE}/payments",
        json={
            "entry_id": entry["d"]["EntryID"],
            "amount": "151.86",
            "date": "2026-11-20",
        },
    )
    newer = exact.get(
        f"{BE}/sync/Cashflow/PaymentTerms",
        **{"$select": "Timestamp,IsFullyPaid", "$filter": f"Timestamp gt {latest}L"},
    ).json()["d"]["results"]

    # revenue lines and VAT credit, the receivable debit: the entry balances
    assert sum(Decimal(str(row["AmountDC"])) for row in lines) == 0
    assert {row["GLAccountCode"] for row in lines} == {
        "700000",
        "705000",
        "451000",
        "400000",
    }
    assert [row["IsFullyPaid"] for row in newer] == [True]


def test_timeout_fault_books_and_answers_only_after_the_delay(exact: Signed) -> None:
    exact.http.post(
        "/_sandbox/faults",
        json={
            "endpoint": "salesentry/SalesEntries",
            "method": "POST",
            "kind": "timeout",
            "delay_seconds": 0.2,
        },
    )
    body = sales_entry(exact, BE)

    started = time.perf_counter()
    response = exact.post(f"{BE}/salesentry/SalesEntries", body)
    waited = time.perf_counter() - started

    assert response.status_code == 201
    assert waited >= 0.2
    booked = exact.http.get(f"/_sandbox/divisions/{BE}/entries?kind=sales").json()
    assert len(booked) == 1
