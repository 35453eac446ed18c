"""An in-process sandbox with one app, two divisions and a signed-in client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox

REDIRECT = "http://127.0.0.1:9999/callback"
BE, NL = 1001, 1002


@dataclass
class Signed:
    """An Exact API client signed in to the sandbox."""

    http: TestClient
    sandbox: Sandbox
    client_id: str
    client_secret: str
    tokens: dict[str, str]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {
            "Authorization": f"Bearer {self.tokens['access_token']}",
            "Accept": "application/json",
            **kwargs.pop("headers", {}),
        }
        return self.http.request(method, f"/api/v1/{path}", headers=headers, **kwargs)

    def get(self, path: str, **params: str) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, json=body)

    def refresh(self) -> Any:
        return self.http.post(
            "/api/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.tokens["refresh_token"],
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox), base_url="http://sandbox.test") as client:
        yield client


def sign_in(
    http: TestClient, sandbox: Sandbox, divisions: list[int], username: str = "sandbox"
) -> Signed:
    app = http.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}).json()
    code = http.post(
        "/_sandbox/oauth/code",
        json={
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "divisions": divisions,
            "username": username,
        },
    ).json()["code"]
    tokens = http.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    ).json()
    return Signed(http, sandbox, app["client_id"], app["client_secret"], tokens)


@pytest.fixture
def exact(http: TestClient, sandbox: Sandbox) -> Signed:
    """Signed in to a Belgian (1001) and a Dutch (1002) division."""
    for code, template in ((BE, "BE"), (NL, "NL")):
        response = http.post(
            "/_sandbox/divisions",
            json={"code": code, "template": template, "name": f"Demo {template}"},
        )
        assert response.status_code == 201, response.text
    return sign_in(http, sandbox, [BE, NL])


def gl_id(exact: Signed, division: int, code: str) -> str:
    rows = exact.get(
        f"{division}/financial/GLAccounts",
        **{"$select": "ID,Code", "$filter": f"Code eq '{code}'"},
    ).json()["d"]["results"]
    return str(rows[0]["ID"])


def supplier(exact: Signed, division: int, code: str = "2001", **fields: Any) -> str:
    body = {"Code": code, "Name": f"Supplier {code}", "IsSupplier": True, **fields}
    response = exact.post(f"{division}/crm/Accounts", body)
    assert response.status_code == 201, response.text
    return str(response.json()["d"]["ID"])


def sales_entry(exact: Signed, division: int, **changes: Any) -> dict[str, Any]:
    """A valid two-line sales entry body for the BE template."""
    body = {
        "Journal": "70",
        "Customer": changes.pop("Customer", None) or customer(exact, division),
        "EntryDate": "2026-11-14",
        "YourRef": "F2026-0042",
        "SalesEntryLines": [
            {
                "GLAccount": gl_id(exact, division, "700000"),
                "AmountFC": 100,
                "VATCode": "V21",
            },
            {
                "GLAccount": gl_id(exact, division, "705000"),
                "AmountFC": 25.5,
                "VATCode": "V21",
            },
        ],
    }
    return body | changes


def error_of(response: Any) -> str:
    return str(response.json()["error"]["message"]["value"])


def customer(exact: Signed, division: int, code: str = "1001", **fields: Any) -> str:
    body = {"Code": code, "Name": f"Customer {code}", "Status": "C", **fields}
    response = exact.post(f"{division}/crm/Accounts", body)
    assert response.status_code == 201, response.text
    return str(response.json()["d"]["ID"])
