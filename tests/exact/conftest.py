"""An Exact client connected to an in-process sandbox, with its tokens in
the real database (SQLite and PostgreSQL) and the sandbox's clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from ledgerbridge import intake
from ledgerbridge.domain.parties import Company
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.oauth import (
    ExactApp,
    TokenEndpoint,
    authorization_url,
    code_from_redirect,
)
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database

BASE = "http://sandbox.test"
REDIRECT = "http://127.0.0.1:8123/callback"
DIVISION = 1001


class SandboxClock:
    """The client's clock follows the sandbox's; waiting moves it."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.slept = 0.0

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self.sandbox.clock.advance(seconds)


@dataclass
class Connected:
    client: ExactClient
    sandbox: Sandbox
    http: TestClient
    store: DbTokenStore
    connection: int
    clock: SandboxClock
    app: ExactApp

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/_sandbox/stats").json())

    def division_stats(self) -> dict[str, Any]:
        return dict(self.stats()["divisions"][str(DIVISION)])

    def booked(self, kind: str = "sales") -> list[dict[str, object]]:
        url = f"/_sandbox/divisions/{DIVISION}/entries?kind={kind}"
        return list(self.http.get(url).json())

    def fault(self, endpoint: str, method: str, kind: str, **extra: object) -> None:
        body = {"endpoint": endpoint, "method": method, "kind": kind, **extra}
        assert self.http.post("/_sandbox/faults", json=body).status_code == 201

    def limits(self, minutely: int, daily: int) -> None:
        self.http.put(
            f"/_sandbox/divisions/{DIVISION}/limits",
            json={"minutely": minutely, "daily": daily},
        )


def sign_in(http: TestClient, app: ExactApp) -> str:
    """Through the consent page, as a person would; returns the code."""
    start = authorization_url(app, BASE)
    page = http.get(start.url.removeprefix(BASE))
    assert page.status_code == 200
    form = {
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "state": start.state,
        "username": "sandbox",
        "password": "sandbox",
        "division": str(DIVISION),
    }
    answer = http.post("/api/oauth2/auth", data=form, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return code_from_redirect(answer.headers["location"], start.state)


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key()])


@pytest.fixture
def connected(database: Database, box: SecretBox) -> Iterator[Connected]:
    sandbox = Sandbox()
    with TestClient(create_app(sandbox), base_url=BASE) as http:
        http.post(
            "/_sandbox/divisions",
            json={"code": DIVISION, "template": "BE", "name": "Demo"},
        )
        registered = http.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}).json()
        app = ExactApp(registered["client_id"], registered["client_secret"], REDIRECT)
        clock = SandboxClock(sandbox)
        with database.sessions() as session:
            company = intake.upsert_company(
                session, Company("acme", "Acme", "BE", "BE0403170701")
            ).row
            session.commit()
            company_id = company.id
        store = DbTokenStore(database.engine, box)
        connection = store.create(company_id, BASE, DIVISION)
        tokens = TokenEndpoint(app, BASE, http, clock)
        store.connect(connection, tokens.exchange_code(sign_in(http, app)))
        governor = RateGovernor(
            DIVISION,
            clock,
            on_limits=lambda limits: store.record_limits(connection, limits),
        )
        client = ExactClient(
            http=http,
            base_url=BASE,
            division=DIVISION,
            connection=connection,
            store=store,
            tokens=tokens,
            governor=governor,
            clock=clock,
        )
        yield Connected(client, sandbox, http, store, connection, clock, app)
