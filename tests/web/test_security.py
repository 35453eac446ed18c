"""Who may reach what: nothing answers without a session or an API key,
neither credential opens the other's side, a bookkeeper sees only their
companies, every state change needs the CSRF token, and the session cookie
is HttpOnly, SameSite and (over TLS) Secure.

Through Starlette's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import routing
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ledgerbridge import apikeys, users
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import UserSessionRow
from ledgerbridge.storage.types import utcnow
from ledgerbridge.users import Role, User
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.sessions import (
    CSRF_HEADER,
    KEY_FILE_NAME,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    PageUser,
    SessionKeyError,
    load_session_key,
    safe_next,
)
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company
from tests.web.conftest import PASSWORD, client_sign_in, form_token, web_app

Clients = Callable[..., TestClient]

A, B = "acme-a", "acme-b"

# Answer without a session or key, by design: the sign-in form (which hands
# out no session without a password), the OpenAPI document, static files.
PUBLIC = {("GET", "/sign-in"), ("POST", "/sign-in"), ("GET", "/openapi.json")}
PUBLIC_MOUNTS = {"/static"}


@pytest.fixture
def people(database: Database) -> None:
    """Companies A and B; an admin, a bookkeeper of A, a viewer of B."""
    with database.sessions() as session:
        add_company(session, A)
        add_company(session, B)
        users.create_user(session, "admin", PASSWORD, "admin")
        users.create_user(session, "book-a", PASSWORD, "bookkeeper", [A])
        users.create_user(session, "view-b", PASSWORD, "viewer", [B])
        session.commit()


def _routes(database: Database) -> list[tuple[str, str]]:
    app = web_app(database)
    found = []
    for context in routing.iter_route_contexts(app.routes):
        path = context.path or ""
        if path in PUBLIC_MOUNTS:
            continue
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                found.append((method, path))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{company\}", A, re.sub(r"\{(?!company\})[^}]+\}", "1", path))


def test_no_route_answers_without_sign_in_or_key(
    database: Database, people: None, clients: Clients
) -> None:
    client = clients()
    routes = _routes(database)
    assert len(routes) > 20  # the API and the pages are all there

    for method, template in routes:
        path = _concrete(template)
        response = client.request(method, path)
        if (method, template) in PUBLIC:
            assert SESSION_COOKIE not in response.cookies, (method, path)
            continue
        if template.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.text)
        else:
            assert response.status_code == 303, (method, path, response.text)
            assert response.headers["location"].startswith("/sign-in"), path
        assert SESSION_COOKIE not in response.cookies


def test_pages_refuse_an_api_key(
    database: Database, people: None, clients: Clients
) -> None:
    with database.sessions() as session:
        _, key = apikeys.create(session, "erp")
        session.commit()
    client = clients()
    client.headers["Authorization"] = f"Bearer {key}"

    assert client.get("/api/v1/companies").status_code == 200
    for path in ["/", f"/companies/{A}", "/financial/payments"]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in")


def test_api_refuses_the_session_cookie(people: None, clients: Clients) -> None:
    client = client_sign_in(clients(), "admin")
    assert client.get("/").status_code == 200

    response = client.get("/api/v1/companies")

    assert response.status_code == 401
    assert client.get(f"/api/v1/companies/{A}").status_code == 401


def test_bookkeeper_sees_and_opens_only_own_company(
    people: None, clients: Clients
) -> None:
    client = client_sign_in(clients(), "book-a")

    start = client.get("/").text
    assert f"Company {A}" in start
    assert B not in start
    assert client.get(f"/companies/{A}").status_code == 200
    refused = client.get(f"/companies/{B}")
    assert refused.status_code in {403, 404}
    assert f"Company {B}" not in refused.text
    # An unknown company reads the same: nothing tells B exists.
    unknown = client.get("/companies/nowhere")
    assert unknown.status_code == refused.status_code


def test_admin_sees_every_company(people: None, clients: Clients) -> None:
    client = client_sign_in(clients(), "admin")

    start = client.get("/").text

    assert f"Company {A}" in start and f"Company {B}" in start
    assert client.get(f"/companies/{B}").status_code == 200


def test_post_without_csrf_token_is_refused(people: None, clients: Clients) -> None:
    client = client_sign_in(clients(), "book-a")
    token = form_token(client.get("/").text)

    assert client.post("/sign-out").status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "wrong"}).status_code == 403
    wrong_header = client.post("/sign-out", headers={CSRF_HEADER: token[:-1] + "x"})
    assert wrong_header.status_code == 403
    assert client.get("/").status_code == 200  # still signed in

    assert client.post("/sign-out", headers={CSRF_HEADER: token}).status_code == 303
    assert client.get("/").status_code == 303


def test_csrf_token_of_another_session_is_refused(
    people: None, clients: Clients
) -> None:
    first = client_sign_in(clients(), "book-a")
    second = client_sign_in(clients(), "book-a")
    others = form_token(second.get("/").text)

    assert first.post("/sign-out", data={"csrf_token": others}).status_code == 403


def test_sign_in_without_its_form_token_is_refused(
    people: None, clients: Clients
) -> None:
    client = clients()
    data = {"username": "book-a", "password": PASSWORD}

    refused = client.post("/sign-in", data=data)
    forged = client.post("/sign-in", data={**data, "csrf_token": "forged"})

    assert refused.status_code == 403 and forged.status_code == 403
    assert SESSION_COOKIE not in client.cookies
    assert "Please sign in again" in refused.text


def test_wrong_password_signs_nobody_in(people: None, clients: Clients) -> None:
    client = clients()
    token = form_token(client.get("/sign-in").text)

    response = client.post(
        "/sign-in",
        data={"username": "book-a", "password": "guess" * 4, "csrf_token": token},
    )

    assert response.status_code == 400
    assert "username or password is not right" in response.text
    assert SESSION_COOKIE not in client.cookies
    assert "guess" not in response.text


def test_session_cookie_is_httponly_and_samesite(
    people: None, clients: Clients
) -> None:
    client = clients()
    token = form_token(client.get("/sign-in").text)

    response = client.post(
        "/sign-in",
        data={"username": "book-a", "password": PASSWORD, "csrf_token": token},
    )

    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=lax", cookie, re.IGNORECASE)
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would not return


@pytest.mark.parametrize(
    ("base_url", "headers"),
    [
        ("https://testserver", {}),
        ("http://testserver", {"X-Forwarded-Proto": "https"}),
        ("http://testserver", {"Forwarded": "for=10.0.0.1;proto=https"}),
    ],
)
def test_session_cookie_is_secure_over_tls(
    people: None, clients: Clients, base_url: str, headers: dict[str, str]
) -> None:
    client = clients(base_url)
    client.headers.update(headers)
    form = client.get("/sign-in")
    nonce = _set_cookie(form.headers.get_list("set-cookie"), SIGN_IN_COOKIE)
    assert "Secure" in nonce
    # Behind a TLS proxy the browser talks HTTPS and sends Secure cookies;
    # the test client talks plain HTTP to the app, so it is given the cookie.
    client.cookies.clear()

    response = client.post(
        "/sign-in",
        data={
            "username": "book-a",
            "password": PASSWORD,
            "csrf_token": form_token(form.text),
        },
        headers={"Cookie": nonce.split(";")[0]},
    )

    assert response.status_code == 303
    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert re.search(r"SameSite=lax", cookie, re.IGNORECASE)


def test_sign_in_gives_a_new_session(
    database: Database, people: None, clients: Clients
) -> None:
    """A session cookie the browser already has (planted, or of an earlier
    sign-in) is never carried over: signing in ends it and starts a new one."""
    before = client_sign_in(clients(), "book-a").cookies[SESSION_COOKIE]
    client = clients()
    token = form_token(client.get("/sign-in").text)
    client.cookies[SESSION_COOKIE] = before

    response = client.post(
        "/sign-in",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 303
    after = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert before not in after
    stale = clients()
    stale.cookies[SESSION_COOKIE] = before
    assert stale.get("/").status_code == 303
    with database.sessions() as session:
        assert len(session.scalars(select(UserSessionRow)).all()) == 1


def test_forged_or_tampered_cookie_is_refused(people: None, clients: Clients) -> None:
    client = client_sign_in(clients(), "book-a")
    value = client.cookies[SESSION_COOKIE]
    token, _, signature = value.rpartition(".")

    for forged in [token, f"{token}.{signature[:-2]}xx", "x" * 40 + "." + signature]:
        other = clients()
        other.cookies[SESSION_COOKIE] = forged
        assert other.get("/").status_code == 303, forged


def test_idle_session_expires(
    database: Database, people: None, clients: Clients
) -> None:
    client = client_sign_in(clients(), "book-a")
    with database.sessions() as session:
        session.execute(
            update(UserSessionRow).values(
                last_seen_at=utcnow() - users.SESSION_IDLE - timedelta(minutes=1)
            )
        )
        session.commit()

    assert client.get("/").status_code == 303
    with database.sessions() as session:
        assert session.scalars(select(UserSessionRow)).all() == []


def test_disabling_a_user_ends_their_sessions(
    database: Database, people: None, clients: Clients
) -> None:
    client = client_sign_in(clients(), "book-a")
    with database.sessions() as session:
        users.set_disabled(session, "book-a", True)
        session.commit()

    assert client.get("/").status_code == 303
    token = form_token(client.get("/sign-in").text)
    again = client.post(
        "/sign-in",
        data={"username": "book-a", "password": PASSWORD, "csrf_token": token},
    )
    assert again.status_code == 400


def test_sign_in_goes_back_only_to_this_site(people: None, clients: Clients) -> None:
    client = clients()
    for target, expected in [
        ("/history", "/history"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        client.cookies.clear()
        token = form_token(client.get("/sign-in").text)
        response = client.post(
            "/sign-in",
            data={
                "username": "book-a",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["location"] == expected, target
    assert safe_next("/sign-in?next=/x") == "/"


def test_htmx_request_without_session_is_sent_to_sign_in(
    people: None, clients: Clients
) -> None:
    response = clients().get(
        "/financial/payments",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/financial/payments?page=2",
        },
    )

    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == (
        "/sign-in?next=/financial/payments%3Fpage%3D2"
    )


def test_pages_forbid_framing_and_foreign_scripts(
    people: None, clients: Clients
) -> None:
    response = client_sign_in(clients(), "book-a").get("/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<script src="/static/vendor/htmx.min.js' in response.text


def test_static_files_are_served(clients: Clients) -> None:
    client = clients()

    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../web/app.py").status_code == 404


# The session key


def test_session_key_file_is_made_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    key = load_session_key(settings)

    path = tmp_path / KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) >= 32
    assert load_session_key(settings) == key


def test_session_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_session_key(Settings(data_dir=tmp_path))
    (tmp_path / KEY_FILE_NAME).chmod(0o644)

    with pytest.raises(SessionKeyError, match="chmod 600"):
        load_session_key(Settings(data_dir=tmp_path))


def test_session_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGERBRIDGE_SESSION_KEY", "short")
    with pytest.raises(SessionKeyError, match="at least 32"):
        load_session_key(Settings())

    monkeypatch.setenv("LEDGERBRIDGE_SESSION_KEY", "k" * 40)
    assert load_session_key(Settings()) == "k" * 40
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_require_role_refuses_other_roles() -> None:
    viewer = PageUser(User(1, "vera", Role.VIEWER, frozenset()), "token")

    require_role(viewer, Role.VIEWER)
    with pytest.raises(PageError) as refused:
        require_role(viewer, Role.ADMIN, Role.BOOKKEEPER)
    assert refused.value.status == 403
    assert "admin or bookkeeper; you are signed in as viewer" in refused.value.message


def _set_cookie(headers: list[str], name: str) -> str:
    found = [header for header in headers if header.startswith(f"{name}=")]
    assert found, headers
    return found[0]
