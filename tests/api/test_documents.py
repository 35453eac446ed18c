from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledgerbridge.storage.tables import DocumentLineRow, DocumentRow
from ledgerbridge.wiring import Database
from tests.api.payloads import invoice, line, supplier_invoice


def problems_of(response_json: dict) -> dict[str, str]:
    return {p["field"]: p["message"] for p in response_json["problems"]}


def count_documents(database: Database) -> tuple[int, int]:
    with database.sessions() as session:
        documents = session.scalar(select(func.count()).select_from(DocumentRow))
        lines = session.scalar(select(func.count()).select_from(DocumentLineRow))
    return documents or 0, lines or 0


def test_customer_invoice_is_created_with_its_totals(
    client: TestClient, acme: str
) -> None:
    body = invoice(lines=[line(quantity="3", unit_price="0.35")] * 3)

    response = client.put(f"{acme}/customer-invoices/F2026-001", json=body)

    assert response.status_code == 201
    document = response.json()
    assert document["number"] == "F2026-001"
    assert document["party"] == "c1"
    # 3 × 1.05 at 21 %: VAT on the total is 0.66, not 3 × 0.22.
    assert document["totals"] == {
        "net": "3.15",
        "vat": "0.66",
        "total": "3.81",
        "vat_breakdown": [
            {"category": "S", "rate": "21", "taxable": "3.15", "vat": "0.66"}
        ],
    }
    assert sorted(line["vat"] for line in document["lines"]) == ["0.22", "0.22", "0.22"]
    assert document["booking"]["status"] == "not_booked"
    assert document["payment"] == {"status": "open", "paid": "0.00"}


def test_pushing_the_same_invoice_twice_changes_nothing(
    client: TestClient, acme: str
) -> None:
    first = client.put(f"{acme}/customer-invoices/F1", json=invoice())

    second = client.put(f"{acme}/customer-invoices/F1", json=invoice())

    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.json()["revision"] == 1


def test_draft_invoice_can_change_and_counts_revisions(
    client: TestClient, acme: str, database: Database
) -> None:
    client.put(f"{acme}/customer-invoices/F1", json=invoice(validated=False))

    changed = client.put(
        f"{acme}/customer-invoices/F1",
        json=invoice(validated=False, lines=[line(), line(quantity="1")]),
    )

    assert changed.status_code == 200
    assert changed.json()["revision"] == 2
    assert len(changed.json()["lines"]) == 2
    assert count_documents(database) == (1, 2)


def test_validated_invoice_is_locked(
    client: TestClient, acme: str, database: Database
) -> None:
    client.put(f"{acme}/customer-invoices/F1", json=invoice())

    response = client.put(
        f"{acme}/customer-invoices/F1", json=invoice(lines=[line(quantity="5")])
    )
    unvalidate = client.put(
        f"{acme}/customer-invoices/F1", json=invoice(validated=False)
    )

    assert response.status_code == 409
    assert response.json()["error"] == "locked"
    assert "credit note" in response.json()["message"]
    assert unvalidate.status_code == 409
    stored = client.get(f"{acme}/customer-invoices/F1").json()
    assert stored["lines"][0]["quantity"] == "2"
    assert stored["revision"] == 1


def test_invoice_for_an_unknown_customer_is_refused(
    client: TestClient, acme: str
) -> None:
    response = client.put(f"{acme}/customer-invoices/F1", json=invoice(customer="zz"))

    assert response.status_code == 422
    assert "create it first" in problems_of(response.json())["customer"]


def test_foreign_currency_needs_a_rate(client: TestClient, acme: str) -> None:
    without = client.put(f"{acme}/customer-invoices/F1", json=invoice(currency="USD"))
    with_rate = client.put(
        f"{acme}/customer-invoices/F1",
        json=invoice(currency="USD", exchange_rate="0.921234"),
    )

    assert without.status_code == 422
    assert "exchange rate" in problems_of(without.json())["exchange_rate"]
    assert with_rate.status_code == 201
    assert with_rate.json()["exchange_rate"] == "0.921234"


def test_negative_quantity_with_positive_total_is_refused(
    client: TestClient, acme: str
) -> None:
    body = invoice(lines=[line(), line(quantity="-1", unit_price="-20")])

    response = client.put(f"{acme}/customer-invoices/F1", json=body)

    assert response.status_code == 422
    assert "negative" in problems_of(response.json())["lines[1].quantity"]


def test_returned_item_line_is_accepted(client: TestClient, acme: str) -> None:
    body = invoice(lines=[line(), line(quantity="-1", unit_price="20")])

    response = client.put(f"{acme}/customer-invoices/F1", json=body)

    assert response.status_code == 201
    assert response.json()["totals"]["net"] == "180.00"


def test_unknown_vat_scenario_names_the_line(client: TestClient, acme: str) -> None:
    body = invoice(lines=[line(), line(vat_scenario="NL-21")])

    response = client.put(f"{acme}/customer-invoices/F1", json=body)

    assert response.status_code == 422
    message = problems_of(response.json())["lines[1].vat_scenario"]
    assert "BE-21" in message


def test_malformed_fields_get_their_path(client: TestClient, acme: str) -> None:
    body = invoice(lines=[line(), line(quantity="two")], colour="red")

    response = client.put(f"{acme}/customer-invoices/F1", json=body)

    assert response.status_code == 422
    problems = problems_of(response.json())
    assert "lines[1].quantity" in problems
    assert "not known" in problems["colour"]


def test_body_that_is_not_json_is_refused(client: TestClient, acme: str) -> None:
    response = client.put(
        f"{acme}/customer-invoices/F1",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert problems_of(response.json()) == {"body": "the body is not valid JSON"}


def test_a_refused_document_writes_nothing(
    client: TestClient, acme: str, database: Database
) -> None:
    client.put(f"{acme}/customer-invoices/F1", json=invoice(validated=False))
    before = count_documents(database)

    bad_lines = [line(), line(), line(vat_scenario="XX")]
    refused_new = client.put(
        f"{acme}/customer-invoices/F2", json=invoice(lines=bad_lines)
    )
    refused_change = client.put(
        f"{acme}/customer-invoices/F1", json=invoice(lines=bad_lines, validated=False)
    )

    assert refused_new.status_code == 422
    assert refused_change.status_code == 422
    assert count_documents(database) == before
    assert client.get(f"{acme}/customer-invoices/F1").json()["revision"] == 1


def test_stated_total_must_match_the_lines(client: TestClient, acme: str) -> None:
    wrong = client.put(f"{acme}/customer-invoices/F1", json=invoice(total="242.01"))
    right = client.put(f"{acme}/customer-invoices/F1", json=invoice(total="242.00"))

    assert wrong.status_code == 422
    assert "200.00 net + 42.00 VAT" in problems_of(wrong.json())["expected_total"]
    assert right.status_code == 201


def test_credit_note_keeps_positive_amounts(client: TestClient, acme: str) -> None:
    response = client.put(
        f"{acme}/customer-invoices/C1", json=invoice(type="credit_note")
    )
    negative = client.put(
        f"{acme}/customer-invoices/C2",
        json=invoice(type="credit_note", lines=[line(unit_price="-100")]),
    )

    assert response.status_code == 201
    assert response.json()["type"] == "credit_note"
    assert response.json()["totals"]["total"] == "242.00"
    assert negative.status_code == 422


def test_structured_reference_is_checked(client: TestClient, acme: str) -> None:
    good = client.put(
        f"{acme}/customer-invoices/F1",
        json=invoice(payment_reference="+++123/4567/89002+++"),
    )
    bad = client.put(
        f"{acme}/customer-invoices/F2",
        json=invoice(payment_reference="+++123/4567/89003+++"),
    )

    assert good.status_code == 201
    assert bad.status_code == 422
    assert "modulo 97" in problems_of(bad.json())["payment_reference"]


def test_pdf_is_kept_and_replaced_only_when_it_changes(
    client: TestClient, acme: str
) -> None:
    pdf = {
        "filename": "F1.pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4 a").decode(),
    }

    created = client.put(f"{acme}/customer-invoices/F1", json=invoice(pdf=pdf))
    again = client.put(f"{acme}/customer-invoices/F1", json=invoice(pdf=pdf))
    not_base64 = client.put(
        f"{acme}/customer-invoices/F2",
        json=invoice(pdf={"filename": "x.pdf", "content_base64": "@@@"}),
    )

    assert created.json()["has_pdf"] is True
    assert again.status_code == 200
    assert again.json()["revision"] == 1
    assert "base64" in problems_of(not_base64.json())["pdf.content_base64"]


def test_supplier_invoice_is_keyed_by_the_application_id(
    client: TestClient, acme: str
) -> None:
    created = client.put(f"{acme}/supplier-invoices/P-1", json=supplier_invoice())
    read = client.get(f"{acme}/supplier-invoices/P-1")
    missing = client.put(
        f"{acme}/supplier-invoices/P-2", json=supplier_invoice(supplier="nope")
    )

    assert created.status_code == 201
    assert read.json()["number"] == "INV-77"
    assert read.json()["party"] == "s1"
    assert missing.status_code == 422
    assert "supplier" in problems_of(missing.json())


def test_documents_are_listed_newest_first_in_pages(
    client: TestClient, acme: str
) -> None:
    for day in range(1, 8):
        number = f"F{day}"
        client.put(
            f"{acme}/customer-invoices/{number}",
            json=invoice(issue_date=f"2026-11-{day:02d}", due_date=None),
        )

    first = client.get(f"{acme}/customer-invoices", params={"limit": 3}).json()
    last = client.get(
        f"{acme}/customer-invoices", params={"limit": 3, "offset": 6}
    ).json()

    assert first["total"] == 7
    assert [d["number"] for d in first["items"]] == ["F7", "F6", "F5"]
    assert [d["number"] for d in last["items"]] == ["F1"]


def test_unknown_document_is_not_found(client: TestClient, acme: str) -> None:
    response = client.get(f"{acme}/customer-invoices/nope")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unknown_query_parameter_is_refused(client: TestClient, acme: str) -> None:
    response = client.get(f"{acme}/customer-invoices", params={"limt": 3})

    assert response.status_code == 422
    assert "limt" in problems_of(response.json())


def test_oversized_line_is_refused_not_crashed(client: TestClient, acme: str) -> None:
    body = invoice(lines=[line(quantity="999999999.9999", unit_price="999999999.9999")])

    response = client.put(f"{acme}/customer-invoices/F1", json=body)

    assert response.status_code == 422
    assert "more than" in problems_of(response.json())["lines[0].unit_price"]


def test_same_supplier_invoice_under_two_ids_is_refused(
    client: TestClient, acme: str
) -> None:
    client.put(f"{acme}/supplier-invoices/P-1", json=supplier_invoice())

    twin = client.put(f"{acme}/supplier-invoices/P-2", json=supplier_invoice())

    assert twin.status_code == 422
    assert "P-1" in problems_of(twin.json())["number"]
