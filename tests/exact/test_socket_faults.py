"""The client against the sandbox served by uvicorn on 127.0.0.1 (issue #4):
transport faults as they look on a real socket, a read timeout and a
connection cut after the answer began, with the tokens in the real database
(SQLite and PostgreSQL).

The client's `httpx2.Client` waits 1 s for an answer; the sandbox's
`timeout` fault holds its answer 3 s. A write whose answer is lost raises
`OutcomeUnknown` and is not sent again; whether it was booked is then found
by looking it up, as the sync layer will. A read is simply retried.

`serve_sandbox`, `HttpClock` and `connect_over_http` are also used by
`test_shared_connection.py`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx2
import pytest
from cryptography.fernet import Fernet

from ledgerbridge import intake
from ledgerbridge.domain.parties import Company
from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.errors import OutcomeUnknown
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.oauth import (
    ExactApp,
    TokenEndpoint,
    authorization_url,
    code_from_redirect,
)
from ledgerbridge.exact.resources import NewAccount
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database
from tests.serving import serve

DIVISION = 1001
REDIRECT = "http://127.0.0.1:9/callback"  # never called: the 302 is read
ENTRIES = "salesentry/SalesEntries"
VAT = "vat/VATCodes"
CLIENT_TIMEOUT = httpx2.Timeout(1.0, connect=5.0)
FAULT_DELAY = 3.0  # the sandbox holds its answer longer than the client waits


@dataclass
class Served:
    """The sandbox behind a real HTTP server, plus an admin client."""

    url: str
    sandbox: Sandbox
    admin: httpx2.Client


@contextmanager
def serve_sandbox(sandbox: Sandbox) -> Iterator[Served]:
    """`sandbox` on a real socket (see `tests/serving.py`), with division
    `DIVISION`."""
    with (
        serve(create_app(sandbox)) as url,
        httpx2.Client(base_url=url, timeout=10) as admin,
    ):
        created = admin.post(
            "/_sandbox/divisions",
            json={"code": DIVISION, "template": "BE", "name": "Socket BE"},
        )
        assert created.status_code == 201, created.text
        yield Served(url, sandbox, admin)


class HttpClock:
    """The sandbox's time, read over its admin API; waiting moves it."""

    def __init__(self, admin: httpx2.Client) -> None:
        self.admin = admin
        self.slept = 0.0

    def now(self) -> datetime:
        answer = self.admin.get("/_sandbox/clock")
        answer.raise_for_status()
        return datetime.fromisoformat(answer.json()["now"])

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            moved = self.admin.post(
                "/_sandbox/clock", json={"advance_seconds": seconds}
            )
            moved.raise_for_status()


def register_app(served: Served) -> ExactApp:
    answer = served.admin.post("/_sandbox/apps", json={"redirect_uri": REDIRECT})
    assert answer.status_code == 201, answer.text
    registered = answer.json()
    return ExactApp(registered["client_id"], registered["client_secret"], REDIRECT)


def sign_in_over_http(served: Served, app: ExactApp) -> str:
    """Through the consent page, as a person would; returns the code."""
    start = authorization_url(app, served.url)
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(start.url)
        assert page.status_code == 200, page.text
        answer = browser.post(
            f"{served.url}/api/oauth2/auth",
            data={
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "state": start.state,
                "username": "sandbox",
                "password": "sandbox",
                "division": str(DIVISION),
            },
            follow_redirects=False,
        )
    assert answer.status_code == 302, answer.text
    return code_from_redirect(answer.headers["location"], start.state)


def connect_over_http(
    served: Served,
    database: Database,
    store: DbTokenStore,
    app: ExactApp,
    tokens: TokenEndpoint,
) -> int:
    """The company connected once: its connection id, tokens stored."""
    with database.sessions() as session:
        company = intake.upsert_company(
            session, Company("acme", "Acme", "BE", "BE0403170701")
        ).row
        session.commit()
        company_id = company.id
    connection = store.create(company_id, served.url, DIVISION)
    store.connect(connection, tokens.exchange_code(sign_in_over_http(served, app)))
    return connection


@dataclass
class OverSocket:
    client: ExactClient
    served: Served
    clock: HttpClock

    def stats(self) -> dict[str, Any]:
        return dict(self.served.admin.get("/_sandbox/stats").json())

    def calls(self, label: str) -> int:
        division = self.stats()["divisions"][str(DIVISION)]
        return int(division["by_endpoint"].get(label, 0))

    def booked(self) -> list[dict[str, Any]]:
        url = f"/_sandbox/divisions/{DIVISION}/entries?kind=sales"
        return list(self.served.admin.get(url).json())

    def fault(self, endpoint: str, method: str, kind: str, **extra: object) -> None:
        body = {"endpoint": endpoint, "method": method, "kind": kind, **extra}
        answer = self.served.admin.post("/_sandbox/faults", json=body)
        assert answer.status_code == 201, answer.text


def build_client(
    http: httpx2.Client,
    served: Served,
    store: DbTokenStore,
    connection: int,
    tokens: TokenEndpoint,
    clock: Clock,
) -> ExactClient:
    return ExactClient(
        http=http,
        base_url=served.url,
        division=DIVISION,
        connection=connection,
        store=store,
        tokens=tokens,
        governor=RateGovernor(DIVISION, clock),
        clock=clock,
    )


@pytest.fixture
def over_socket(database: Database) -> Iterator[OverSocket]:
    with (
        serve_sandbox(Sandbox()) as served,
        httpx2.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        limits = served.admin.put(
            f"/_sandbox/divisions/{DIVISION}/limits",
            json={"minutely": 1000, "daily": 5000},
        )
        assert limits.status_code == 200, limits.text
        app = register_app(served)
        clock = HttpClock(served.admin)
        store = DbTokenStore(database.engine, SecretBox([Fernet.generate_key()]))
        tokens = TokenEndpoint(app, served.url, http, clock)
        connection = connect_over_http(served, database, store, app, tokens)
        client = build_client(http, served, store, connection, tokens, clock)
        yield OverSocket(client, served, clock)


def entry_body(client: ExactClient, your_ref: str) -> dict[str, Any]:
    customer = resources.create_account(
        client, NewAccount("1001", "Jan Peeters", customer=True)
    )
    revenue = next(
        row["ID"] for row in resources.gl_accounts(client) if row["Code"] == "700000"
    )
    return {
        "Journal": "70",
        "Customer": customer["ID"],
        "EntryDate": "2026-11-14",
        "YourRef": your_ref,
        "SalesEntryLines": [
            {"GLAccount": revenue, "AmountFC": "100.00", "VATCode": "V21"}
        ],
    }


def create_timed(
    over_socket: OverSocket, body: dict[str, Any]
) -> tuple[OutcomeUnknown, float]:
    """POST the entry, which must fail as `OutcomeUnknown`; the error and
    the seconds it took."""
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as failed:
        resources.create_entry(over_socket.client, "sales", body)
    return failed.value, time.monotonic() - started


def test_write_timeout_is_outcome_unknown_and_booked_once(
    over_socket: OverSocket,
) -> None:
    body = entry_body(over_socket.client, "SOCK-1")
    over_socket.fault(ENTRIES, "POST", "timeout", delay_seconds=FAULT_DELAY)

    error, seconds = create_timed(over_socket, body)

    # The client's 1-s read timeout ended the wait, not the sandbox's 3 s.
    assert seconds < FAULT_DELAY - 0.5
    assert (error.method, error.path, error.status) == ("POST", ENTRIES, 0)
    assert "ReadTimeout" in str(error)
    assert [entry["YourRef"] for entry in over_socket.booked()] == ["SOCK-1"]
    assert over_socket.calls(f"POST {ENTRIES}") == 1
    # What the sync layer does next: look it up before sending it again.
    found = resources.find_entries(over_socket.client, "sales", "SOCK-1", "70")
    assert [row["YourRef"] for row in found] == ["SOCK-1"]
    assert found[0]["EntryID"] == over_socket.booked()[0]["EntryID"]
    assert over_socket.calls(f"POST {ENTRIES}") == 1


def test_write_dropped_after_commit_is_outcome_unknown_and_booked_once(
    over_socket: OverSocket,
) -> None:
    body = entry_body(over_socket.client, "SOCK-2")
    over_socket.fault(ENTRIES, "POST", "drop_after_commit")

    error, _ = create_timed(over_socket, body)

    assert (error.method, error.path, error.status) == ("POST", ENTRIES, 0)
    assert "RemoteProtocolError" in str(error)  # the answer began, then the cut
    assert [entry["YourRef"] for entry in over_socket.booked()] == ["SOCK-2"]
    assert over_socket.calls(f"POST {ENTRIES}") == 1
    found = resources.find_entries(over_socket.client, "sales", "SOCK-2", "70")
    assert [row["YourRef"] for row in found] == ["SOCK-2"]


def test_read_timeout_is_retried_and_succeeds(over_socket: OverSocket) -> None:
    over_socket.fault(VAT, "GET", "timeout", delay_seconds=FAULT_DELAY, count=1)
    started = time.monotonic()

    rows = over_socket.client.get(VAT, {"$select": "Code"})

    assert rows["d"]["results"]
    assert time.monotonic() - started < FAULT_DELAY - 0.5
    assert over_socket.calls(f"GET {VAT}") == 2
    assert over_socket.clock.slept > 0  # the backoff ran on the sandbox's clock


def test_write_with_a_500_is_outcome_unknown_and_not_booked(
    over_socket: OverSocket,
) -> None:
    body = entry_body(over_socket.client, "SOCK-3")
    over_socket.fault(ENTRIES, "POST", "error_500")

    error, _ = create_timed(over_socket, body)

    assert (error.method, error.path, error.status) == ("POST", ENTRIES, 500)
    assert over_socket.booked() == []
    assert over_socket.calls(f"POST {ENTRIES}") == 1
    assert resources.find_entries(over_socket.client, "sales", "SOCK-3", "70") == []
