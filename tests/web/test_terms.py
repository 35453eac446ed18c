"""The terms and conditions page: the operator's text and its version, who
accepted which version when, accepting as the signed-in user (CSRF-checked,
bookkeepers and admins of the company only), a changed version, and going
back only to a path of this site.

Through Starlette's TestClient, on SQLite and PostgreSQL; the flow in the
browser is in test_invoices.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ledgerbridge import users
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import CompanyRow, TermsAcceptanceRow
from ledgerbridge.sync.terms import default_terms
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company
from tests.web.conftest import PASSWORD, client_sign_in, form_token

Clients = Callable[..., TestClient]

A, B = "acme-a", "acme-b"
BACK = "/financial/customer-invoices?company=acme-a&export=open"


@pytest.fixture
def runner(database: Database) -> Iterator[Runner]:
    """Companies A and B; an admin, a bookkeeper of A, a viewer of A."""
    with database.sessions() as session:
        add_company(session, A)
        add_company(session, B)
        users.create_user(session, "admin", PASSWORD, "admin")
        users.create_user(session, "book-a", PASSWORD, "bookkeeper", [A])
        users.create_user(session, "view-a", PASSWORD, "viewer", [A])
        session.commit()
    made = Runner(Settings(), database)
    yield made
    made.close()


def signed_in(clients: Clients, runner: Runner, username: str) -> TestClient:
    client = clients()
    client.app.state.runner = runner  # type: ignore[attr-defined]
    return client_sign_in(client, username)


def accepted(database: Database, company: str) -> list[tuple[str, str]]:
    with database.sessions() as session:
        rows = session.scalars(
            select(TermsAcceptanceRow)
            .join(CompanyRow, CompanyRow.id == TermsAcceptanceRow.company_id)
            .where(CompanyRow.ref == company)
            .order_by(TermsAcceptanceRow.id)
        )
        return [(row.version, row.accepted_by) for row in rows]


def accept(
    client: TestClient, company: str = A, version: str | None = None, **extra: str
) -> Any:
    data = {
        "csrf_token": form_token(client.get("/").text),
        "company": company,
        "version": version or default_terms().version,
        "next": BACK,
        **extra,
    }
    return client.post("/terms/accept", data=data)


def test_page_shows_the_terms_and_their_version(
    database: Database, runner: Runner, clients: Clients
) -> None:
    client = signed_in(clients, runner, "book-a")

    page = client.get("/terms", params={"company": A, "next": BACK})

    assert page.status_code == 200
    terms = default_terms()
    assert "Terms for sending your bookkeeping to Exact Online" in page.text
    assert f"version {terms.version}" in page.text
    assert "Not accepted yet for this company." in page.text
    assert f'name="version" value="{terms.version}"' in page.text
    # Refuse is a plain link back: it sends nothing.
    assert re.search(r'<a class="button-like" href="([^"]+)">Refuse</a>', page.text)
    assert 'href="/financial/customer-invoices?company=acme-a&amp;export=open"' in (
        page.text
    )


def test_accepting_records_the_user_and_version(
    database: Database, runner: Runner, clients: Clients
) -> None:
    client = signed_in(clients, runner, "book-a")

    answer = accept(client)

    assert answer.status_code == 303
    assert answer.headers["location"] == BACK
    assert accepted(database, A) == [(default_terms().version, "book-a")]
    assert accepted(database, B) == []
    assert runner.store.company(A).accepted_terms == default_terms().version

    page = client.get("/terms", params={"company": A}).text
    assert "This version was accepted by book-a on" in page
    assert "<caption>Accepted</caption>" in page


def test_changed_terms_are_shown_again_with_a_sentence(
    database: Database, runner: Runner, clients: Clients, tmp_path: Path
) -> None:
    client = signed_in(clients, runner, "book-a")
    old = default_terms().version
    text = tmp_path / "terms.txt"
    text.write_text("Our new terms.\n", encoding="utf-8")
    runner.settings = Settings(terms_file=text)

    answer = accept(client, version=old)

    assert answer.status_code == 409
    html = answer.text
    assert "The terms changed while they were being read" in html
    assert "Our new terms." in html
    assert accepted(database, A) == []


def test_renewed_terms_say_they_changed(
    database: Database, runner: Runner, clients: Clients, tmp_path: Path
) -> None:
    runner.accept_terms(A, "someone")
    text = tmp_path / "terms.txt"
    text.write_text("Our new terms.\n", encoding="utf-8")
    runner.settings = Settings(terms_file=text)
    client = signed_in(clients, runner, "book-a")

    page = client.get("/terms", params={"company": A}).text

    assert "The terms changed since they were last accepted" in page
    assert "someone" in page


def test_next_is_only_a_path_of_this_site(
    database: Database, runner: Runner, clients: Clients
) -> None:
    client = signed_in(clients, runner, "book-a")

    answer = accept(client, next="https://elsewhere.example/phish")

    assert answer.headers["location"] == "/"
    page = client.get("/terms", params={"company": A, "next": "//elsewhere.example"})
    assert 'href="//elsewhere' not in page.text


def test_only_bookkeepers_and_admins_of_the_company_accept(
    database: Database, runner: Runner, clients: Clients
) -> None:
    viewer = signed_in(clients, runner, "view-a")
    page = viewer.get("/terms", params={"company": A})
    assert page.status_code == 200
    assert "Only a bookkeeper or an admin can accept the terms." in page.text
    assert accept(viewer).status_code == 403

    bookkeeper = signed_in(clients, runner, "book-a")
    assert bookkeeper.get("/terms", params={"company": B}).status_code == 404
    assert accept(bookkeeper, company=B).status_code == 404

    admin = signed_in(clients, runner, "admin")
    assert accept(admin, company=B).status_code == 303
    assert accepted(database, B) == [(default_terms().version, "admin")]
    assert accepted(database, A) == []


def test_accepting_without_the_csrf_token_is_refused(
    database: Database, runner: Runner, clients: Clients
) -> None:
    client = signed_in(clients, runner, "book-a")

    refused = client.post(
        "/terms/accept",
        data={"company": A, "version": default_terms().version, "next": BACK},
    )

    assert refused.status_code == 403
    assert accepted(database, A) == []
