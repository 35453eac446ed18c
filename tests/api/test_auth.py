from __future__ import annotations

from fastapi.testclient import TestClient

from ledgerbridge import apikeys
from ledgerbridge.wiring import Database
from tests.api.payloads import COMPANY, company_body


def test_request_without_key_is_refused_with_a_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/companies", headers={"Authorization": ""})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "apikey create" in response.json()["message"]


def test_unknown_key_is_refused(client: TestClient) -> None:
    response = client.get(
        "/api/v1/companies", headers={"Authorization": "Bearer lb_0000_nope"}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_key_with_wrong_secret_is_refused(client: TestClient, api_key: str) -> None:
    forged = api_key[: api_key.rindex("_") + 1] + "x" * 43

    response = client.get(
        "/api/v1/companies", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


def test_revoked_key_is_refused(
    client: TestClient, database: Database, api_key: str
) -> None:
    with database.sessions() as session:
        apikeys.revoke(session, api_key.split("_")[1])
        session.commit()

    assert client.get("/api/v1/companies").status_code == 401


def test_key_limited_to_a_company_sees_only_it(
    client: TestClient, database: Database
) -> None:
    client.put(COMPANY, json=company_body())
    client.put("/api/v1/companies/other", json=company_body(name="Other"))
    with database.sessions() as session:
        _, limited = apikeys.create(session, "limited", ["acme"])
        session.commit()
    headers = {"Authorization": f"Bearer {limited}"}

    listed = client.get("/api/v1/companies", headers=headers).json()
    other = client.get("/api/v1/companies/other", headers=headers)
    write = client.put("/api/v1/companies/other", json=company_body(), headers=headers)

    assert [c["ref"] for c in listed["items"]] == ["acme"]
    assert other.status_code == 403
    assert "limited" in other.json()["message"]
    assert write.status_code == 403


def test_api_keys_are_stored_hashed(database: Database, api_key: str) -> None:
    with database.sessions() as session:
        rows = apikeys.list_keys(session)

    secret = api_key.split("_", 2)[2]
    assert all(secret not in row.secret_hash for row in rows)
    assert all(len(row.secret_hash) == 64 for row in rows)
