from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from ledgerbridge.storage.tables import CompanyRow, DocumentRow, PaymentRow
from ledgerbridge.wiring import Database
from tests.api.payloads import COMPANY, company_body, invoice


def test_company_upsert_creates_then_leaves_it_alone(client: TestClient) -> None:
    created = client.put(COMPANY, json=company_body())
    again = client.put(COMPANY, json=company_body())
    renamed = client.put(COMPANY, json=company_body(name="Acme Badkamers"))

    assert created.status_code == 201
    assert again.status_code == 200
    assert again.json()["updated_at"] == created.json()["updated_at"]
    assert renamed.json()["name"] == "Acme Badkamers"
    assert client.get(COMPANY).json()["time_zone"] == "Europe/Brussels"


def test_company_with_invalid_vat_number_is_refused(client: TestClient) -> None:
    response = client.put(COMPANY, json=company_body(vat_number="BE0403170702"))

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "vat_number"


def test_company_country_cannot_change(client: TestClient) -> None:
    client.put(COMPANY, json=company_body())

    response = client.put(
        COMPANY, json=company_body(country="NL", vat_number="NL004495445B01")
    )

    assert response.status_code == 422
    assert "cannot change" in response.json()["message"]


def test_unsupported_country_is_refused(client: TestClient) -> None:
    response = client.put(COMPANY, json=company_body(country="FR"))

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "country"


def test_companies_are_listed_in_pages(client: TestClient) -> None:
    for ref in ("c", "a", "b"):
        client.put(f"/api/v1/companies/{ref}", json=company_body(name=ref))

    page = client.get("/api/v1/companies", params={"limit": 2, "offset": 1}).json()

    assert page["total"] == 3
    assert [c["ref"] for c in page["items"]] == ["b", "c"]


def test_unknown_company_is_not_found(client: TestClient) -> None:
    response = client.get("/api/v1/companies/nope/contacts")

    assert response.status_code == 404
    assert "nope" in response.json()["message"]


def test_contact_booking_codes_round_trip(client: TestClient, acme: str) -> None:
    body = {
        "name": "Bouw BV",
        "vat_number": "BE0403170701",
        "address": {"street": "Kerkstraat 1", "postal_code": "9000", "city": "Gent"},
        "booking_codes": {
            "exact_code": "400123",
            "gl_account": "700100",
            "vat_scenario": "BE-REVERSE-CHARGE",
            "cost_centre": "SHOWRM1",
        },
    }

    created = client.put(f"{acme}/contacts/bouw", json=body)
    read = client.get(f"{acme}/contacts/bouw").json()
    again = client.put(f"{acme}/contacts/bouw", json=body)

    assert created.status_code == 201
    assert read["booking_codes"] == body["booking_codes"]
    assert read["address"]["city"] == "Gent"
    assert again.status_code == 200


def test_booking_codes_are_checked(client: TestClient, acme: str) -> None:
    body = {
        "name": "X",
        "booking_codes": {"exact_code": "10 01", "vat_scenario": "NL-21"},
    }

    response = client.put(f"{acme}/suppliers/x", json=body)

    fields = {p["field"] for p in response.json()["problems"]}
    assert response.status_code == 422
    assert fields == {"booking_codes.exact_code", "booking_codes.vat_scenario"}


def test_contacts_and_suppliers_are_separate(client: TestClient, acme: str) -> None:
    contacts = client.get(f"{acme}/contacts").json()
    suppliers = client.get(f"{acme}/suppliers").json()

    assert [c["ref"] for c in contacts["items"]] == ["c1"]
    assert [s["ref"] for s in suppliers["items"]] == ["s1"]
    assert client.get(f"{acme}/suppliers/c1").status_code == 404


def test_accounting_settings_round_trip(client: TestClient, acme: str) -> None:
    default = client.get(f"{acme}/accounting-settings").json()
    body = {
        "sales": {
            "enabled": True,
            "daily": {"enabled": True, "at": "06:15"},
            "journal": "700",
            "credit_note_journal": "710",
            "default_gl_account": "700000",
            "vat_codes": {"BE-21": "V21", "BE-06": "V06"},
            "create_missing_parties": True,
            "attach_pdf": True,
        },
        "payments": {"enabled": True},
    }

    saved = client.put(f"{acme}/accounting-settings", json=body).json()
    again = client.put(
        f"{acme}/accounting-settings",
        json=body | {"sales": body["sales"] | {"vat_codes": {"BE-21": "V21"}}},
    ).json()

    assert default["sales"]["enabled"] is False
    assert saved["sales"]["daily"] == {"enabled": True, "at": "06:15"}
    assert saved["sales"]["vat_codes"] == {"BE-21": "V21", "BE-06": "V06"}
    assert saved["purchases"]["enabled"] is False
    assert saved["payments"]["enabled"] is True
    assert again["sales"]["vat_codes"] == {"BE-21": "V21"}


def test_settings_refuse_another_countrys_scenario(
    client: TestClient, acme: str
) -> None:
    body = {"purchases": {"vat_codes": {"NL-09": "9"}}}

    response = client.put(f"{acme}/accounting-settings", json=body)

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "purchases.vat_codes.NL-09"


def test_payments_are_listed_with_their_document(
    client: TestClient, acme: str, database: Database
) -> None:
    client.put(f"{acme}/customer-invoices/F1", json=invoice())
    with database.sessions() as session:
        company = session.scalar(select(CompanyRow).where(CompanyRow.ref == "acme"))
        document = session.scalar(select(DocumentRow))
        assert company is not None and document is not None
        session.add(
            PaymentRow(
                company_id=company.id,
                document_id=document.id,
                paid_on=date(2026, 11, 20),
                amount=Decimal("100.00"),
                currency="EUR",
            )
        )
        session.commit()

    page = client.get(f"{acme}/payments").json()

    assert page["total"] == 1
    assert page["items"][0]["document_number"] == "F1"
    assert page["items"][0]["side"] == "sales"
    assert page["items"][0]["amount"] == "100.00"


def test_vat_scenarios_are_listed_per_country(client: TestClient) -> None:
    belgian = client.get("/api/v1/vat-scenarios", params={"country": "BE"}).json()

    codes = {s["code"] for s in belgian}
    assert "BE-06-RENOVATION" in codes
    assert all(code.startswith("BE-") for code in codes)


def test_method_not_allowed_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete(COMPANY)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PUT"


def test_openapi_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert "/api/v1/companies/{company}/customer-invoices/{ref}" in schema["paths"]
