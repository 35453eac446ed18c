"""Runs, previews and terms over the REST API, on both databases.

Runs that talk to Exact use the sandbox with the demo companies connected
(`env`, from tests/sync) and hand its `Runner` to the app. The guards and the
terms need no Exact: they run on company `acme`, not connected, through the
runner the app builds for itself from the settings.

TestClient returns once the background task is done, so the run has ended
when `POST` answers; the answer itself shows it running.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledgerbridge import apikeys
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.sync.model import Flow, RunRequest, Trigger
from ledgerbridge.web.app import create_app
from ledgerbridge.wiring import Database
from tests.api.payloads import COMPANY, company_body
from tests.sync import conftest as sync
from tests.sync.conftest import BE, DIVISIONS, Env

env = sync.env
"""The sandbox, and the demo companies connected to it (`tests/sync`)."""

BE_URL = f"/api/v1/companies/{BE}"
TODAY = date(2026, 12, 3)


def key(database: Database, *companies: str) -> str:
    with database.sessions() as session:
        _, plaintext = apikeys.create(session, "erp", list(companies))
        session.commit()
    return plaintext


def period(
    first: date, last: date | None = None, flow: str = "customer_invoices"
) -> dict[str, str]:
    return {"flow": flow, "from": str(first), "to": str(last or first)}


# Without Exact: company acme, switched on, not connected


@pytest.fixture
def acme_on(
    acme: str, client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """`acme` with its three flows switched on; its URL. The runner the app
    builds reads the settings from a clean environment."""
    monkeypatch.setenv("LEDGERBRIDGE_DATA_DIR", str(tmp_path))
    settings = client.get(f"{acme}/accounting-settings").json()
    for tab in ("sales", "purchases", "payments"):
        settings[tab]["enabled"] = True
    assert client.put(f"{acme}/accounting-settings", json=settings).is_success
    return acme


def accept(client: TestClient, company_url: str = COMPANY) -> str:
    version = client.get(f"{company_url}/terms").json()["version"]
    answer = client.post(
        f"{company_url}/terms/accept",
        json={"version": version, "accepted_by": "Ann Peeters"},
    )
    assert answer.status_code == 200, answer.text
    return str(version)


def test_terms_accept_records_the_version_and_who(
    acme_on: str, client: TestClient
) -> None:
    terms = client.get(f"{acme_on}/terms").json()
    assert terms["accepted"] is False
    assert terms["accepted_by"] is terms["accepted_version"] is None
    assert "Exact Online" in terms["text"]

    answer = client.post(
        f"{acme_on}/terms/accept",
        json={"version": terms["version"], "accepted_by": "Ann Peeters"},
    )

    assert answer.status_code == 200, answer.text
    accepted = answer.json()
    assert accepted["accepted"] is True
    assert accepted["accepted_version"] == terms["version"]
    assert accepted["accepted_by"] == "Ann Peeters"
    assert accepted["accepted_at"]
    assert client.get(f"{acme_on}/terms").json() == accepted


def test_terms_accept_of_another_version_is_409(
    acme_on: str, client: TestClient
) -> None:
    current = client.get(f"{acme_on}/terms").json()["version"]

    answer = client.post(
        f"{acme_on}/terms/accept", json={"version": "0123abcd", "accepted_by": "Ann"}
    )

    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "terms_changed"
    assert body["terms_version"] == current
    assert client.get(f"{acme_on}/terms").json()["accepted_version"] is None


def test_post_run_without_terms_is_422_with_the_version(
    acme_on: str, client: TestClient
) -> None:
    version = client.get(f"{acme_on}/terms").json()["version"]

    answer = client.post(f"{acme_on}/runs", json=period(TODAY))

    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "terms_not_accepted"
    assert body["terms_version"] == version
    assert "terms accept --company acme" in body["message"]
    assert body["problems"] == []
    assert client.get(f"{acme_on}/runs").json()["total"] == 0


def test_post_run_of_a_flow_switched_off_is_422(
    acme_on: str, client: TestClient
) -> None:
    accept(client)
    settings = client.get(f"{acme_on}/accounting-settings").json()
    settings["payments"]["enabled"] = False
    assert client.put(f"{acme_on}/accounting-settings", json=settings).is_success

    answer = client.post(f"{acme_on}/runs", json=period(TODAY, flow="payments"))

    assert answer.status_code == 422
    assert answer.json()["error"] == "flow_disabled"
    assert "'Payments Import'" in answer.json()["message"]


def test_post_run_with_the_period_reversed_is_422(
    acme_on: str, client: TestClient
) -> None:
    accept(client)

    answer = client.post(
        f"{acme_on}/runs", json=period(TODAY, TODAY - timedelta(days=1))
    )

    assert answer.status_code == 422
    assert answer.json()["error"] == "bad_period"
    assert "swap the dates" in answer.json()["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"flow": "everything", "from": "2026-11-01", "to": "2026-11-30"}, "flow"),
        ({"flow": "payments", "from": "2026-11-31", "to": "2026-11-30"}, "from"),
        ({"flow": "payments", "from": "2026-11-01"}, "to"),
        ({"flow": "payments", "first": "2026-11-01", "to": "2026-11-30"}, "first"),
    ],
)
def test_post_run_with_a_bad_body_is_422(
    acme_on: str, client: TestClient, body: dict[str, str], field: str
) -> None:
    answer = client.post(f"{acme_on}/runs", json=body)

    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input"
    assert field in {problem["field"] for problem in answer.json()["problems"]}


def test_post_run_of_a_company_not_connected_stops_with_the_reason(
    acme_on: str, client: TestClient
) -> None:
    accept(client)

    answer = client.post(f"{acme_on}/runs", json=period(TODAY))

    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "running"
    run = client.get(answer.headers["Location"]).json()
    assert run["status"] == "stopped"
    assert "LEDGERBRIDGE_EXACT_CLIENT_ID" in run["message"]
    assert run["documents"] == []


def test_post_run_while_another_runs_is_409_with_its_id(
    acme_on: str, client: TestClient, database: Database
) -> None:
    accept(client)
    going = Runner(Settings(), database).start(
        RunRequest("acme", Flow.PAYMENTS, TODAY, TODAY, Trigger.MANUAL, "ann")
    )

    answer = client.post(f"{acme_on}/runs", json=period(TODAY))

    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "run_in_progress"
    assert body["run_id"] == going.id
    assert f"run {going.id}" in body["message"]
    runs = client.get(f"{acme_on}/runs").json()
    assert [(item["id"], item["status"]) for item in runs["items"]] == [
        (going.id, "running")
    ]


def test_runs_are_paged_newest_first(acme_on: str, client: TestClient) -> None:
    accept(client)
    ids = [
        client.post(f"{acme_on}/runs", json=period(TODAY)).json()["id"]
        for _ in range(3)
    ]

    page = client.get(f"{acme_on}/runs", params={"limit": 2, "offset": 1}).json()

    assert page["total"] == 3
    assert (page["limit"], page["offset"]) == (2, 1)
    assert [item["id"] for item in page["items"]] == [ids[1], ids[0]]


def test_run_of_another_company_is_not_found(acme_on: str, client: TestClient) -> None:
    accept(client)
    run_id = client.post(f"{acme_on}/runs", json=period(TODAY)).json()["id"]
    assert client.put("/api/v1/companies/other", json=company_body()).is_success

    answer = client.get(f"/api/v1/companies/other/runs/{run_id}")

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    assert client.get(f"{acme_on}/runs/{run_id}").status_code == 200
    assert client.get(f"{acme_on}/runs/{run_id + 1}").status_code == 404


def test_key_of_another_company_is_refused(
    acme_on: str, client: TestClient, database: Database
) -> None:
    accept(client)
    run_id = client.post(f"{acme_on}/runs", json=period(TODAY)).json()["id"]
    assert client.put("/api/v1/companies/other", json=company_body()).is_success
    other = {"Authorization": f"Bearer {key(database, 'other')}"}

    for method, path, body in (
        ("POST", f"{acme_on}/runs", period(TODAY)),
        ("GET", f"{acme_on}/runs", None),
        ("GET", f"{acme_on}/runs/{run_id}", None),
        ("POST", f"{acme_on}/preview", period(TODAY)),
        ("GET", f"{acme_on}/terms", None),
        ("POST", f"{acme_on}/terms/accept", {"version": "x", "accepted_by": "me"}),
    ):
        answer = client.request(method, path, json=body, headers=other)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"] == "forbidden"

    assert client.get(f"{acme_on}/runs").json()["total"] == 1
    assert client.get("/api/v1/companies/other/runs", headers=other).is_success


def test_preview_without_terms_is_422(acme_on: str, client: TestClient) -> None:
    answer = client.post(f"{acme_on}/preview", json=period(TODAY))

    assert answer.status_code == 422
    assert answer.json()["error"] == "terms_not_accepted"
    assert answer.json()["terms_version"]


def test_preview_of_a_company_not_connected_is_422(
    acme_on: str, client: TestClient
) -> None:
    accept(client)

    answer = client.post(f"{acme_on}/preview", json=period(TODAY))

    assert answer.status_code == 422
    assert answer.json()["error"] == "not_connected"


def test_preview_of_payments_is_refused(acme_on: str, client: TestClient) -> None:
    answer = client.post(f"{acme_on}/preview", json=period(TODAY, flow="payments"))

    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "flow"


# With Exact: the sandbox and the demo companies


@pytest.fixture
def api(env: Env) -> Iterator[TestClient]:
    """The API on the environment's database and runner, with a key for
    every company; the terms accepted for be-keukens."""
    env.accept_terms()
    app = create_app(env.database.sessions, runner=env.runner)
    with TestClient(app, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {key(env.database)}"
        yield client


def days(env: Env) -> tuple[date, date]:
    """A day whose customer invoices all book, and one where some fail: short
    runs with a known ending."""
    preview = env.runner.preview(
        BE, Flow.CUSTOMER_INVOICES, env.today - timedelta(days=200), env.today
    )
    wills: dict[date, set[str]] = {}
    for document in preview.documents:
        wills.setdefault(document.issue_date, set()).add(document.will)
    good = min(day for day, found in wills.items() if found == {"book"})
    bad = min(day for day, found in wills.items() if "fail" in found)
    return good, bad


def posts(env: Env, company: str = BE) -> dict[str, Any]:
    """What the sandbox counted of the company's POSTs, per endpoint."""
    divisions = env.http.get("/_sandbox/stats").json()["divisions"]
    calls = divisions.get(str(DIVISIONS[company][0]), {}).get("by_endpoint", {})
    return {name: count for name, count in calls.items() if name.startswith("POST")}


def test_post_run_answers_202_and_runs_in_the_background(
    env: Env, api: TestClient
) -> None:
    _, bad = days(env)

    answer = api.post(f"{BE_URL}/runs", json=period(bad))

    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert started["status"] == "running"
    assert (started["trigger"], started["started_by"]) == ("api", "API key erp")
    assert (started["from"], started["to"]) == (str(bad), str(bad))
    assert answer.headers["Location"] == f"{BE_URL}/runs/{started['id']}"

    run = api.get(f"{BE_URL}/runs/{started['id']}").json()
    assert run["status"] == "partial"
    assert run["counts"]["failed"] >= 1
    failed = [d for d in run["documents"] if d["outcome"] == "failed"]
    assert len(failed) == run["counts"]["failed"]
    assert all(d["reason"] and d["reason_code"] for d in failed)
    booked = [d for d in run["documents"] if d["outcome"] == "booked"]
    assert len(booked) == run["counts"]["booked"]
    assert all(d["entry_number"] for d in booked)
    assert len(env.entries()) == run["counts"]["booked"]
    listed = api.get(f"{BE_URL}/runs").json()
    assert [(item["id"], item["status"]) for item in listed["items"]] == [
        (started["id"], "partial")
    ]


def test_post_run_of_a_good_day_succeeds(env: Env, api: TestClient) -> None:
    good, _ = days(env)

    answer = api.post(f"{BE_URL}/runs", json=period(good))

    assert answer.status_code == 202, answer.text
    run = api.get(answer.headers["Location"]).json()
    assert run["status"] == "succeeded"
    assert run["counts"]["booked"] == len(run["documents"]) > 0
    assert run["exact_calls"] > 0


def test_post_payments_import_runs(env: Env, api: TestClient) -> None:
    answer = api.post(
        f"{BE_URL}/runs",
        json=period(env.today - timedelta(days=60), env.today, "payments"),
    )

    assert answer.status_code == 202, answer.text
    run = api.get(answer.headers["Location"]).json()
    assert (run["flow"], run["status"]) == ("payments", "succeeded")
    assert run["message"]


def test_preview_shows_each_document_and_sends_nothing(
    env: Env, api: TestClient
) -> None:
    before = posts(env)

    answer = api.post(
        f"{BE_URL}/preview", json=period(env.today - timedelta(days=200), env.today)
    )

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert (shown["company"], shown["flow"]) == (BE, "customer_invoices")
    documents = shown["documents"]
    assert shown["counts"]["book"] == sum(d["will"] == "book" for d in documents)
    booking = next(d for d in documents if d["will"] == "book")
    assert booking["journal"] and booking["party_code"] and booking["total"]
    assert {"gl_account", "vat_code", "description", "net", "vat"} == set(
        booking["lines"][0]
    )
    failing = next(d for d in documents if d["will"] == "fail")
    assert failing["problems"][0]["code"] and failing["problems"][0]["sentence"]
    assert posts(env) == before
    assert env.entries() == []
    assert api.get(f"{BE_URL}/runs").json()["total"] == 0
