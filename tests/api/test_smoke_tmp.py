def test_smoke(client):
    r = client.put("/api/v1/companies/acme", json={"name": "Acme", "country": "BE", "vat_number": "BE0403170701"})
    assert r.status_code == 201, r.text
    r = client.put("/api/v1/companies/acme/contacts/c1", json={"name": "Jan", "booking_codes": {"exact_code": "1001"}})
    assert r.status_code == 201, r.text
    body = {"customer": "c1", "issue_date": "2026-11-02", "lines": [
        {"description": "x", "quantity": "3", "unit_price": "0.35", "vat_scenario": "BE-21"}], "validated": True}
    r = client.put("/api/v1/companies/acme/customer-invoices/F1", json=body)
    assert r.status_code == 201, r.text
    print(r.json())
    r = client.put("/api/v1/companies/acme/customer-invoices/F1", json=body)
    assert r.status_code == 200, r.text
    body["lines"][0]["quantity"] = "4"
    r = client.put("/api/v1/companies/acme/customer-invoices/F1", json=body)
    assert r.status_code == 409, r.text
    print(r.json())
    r = client.put("/api/v1/companies/acme/customer-invoices/F2", json={"customer": "c1", "issue_date": "2026-11-02", "currency": "USD", "lines": [{"quantity": "-1", "unit_price": "-3", "vat_scenario": "XX"}]})
    print(r.json())
    r = client.get("/api/v1/companies/acme/customer-invoices")
    assert r.status_code == 200
    print(r.json()["total"])
