"""The sandbox's OAuth server (API.md §3, §4.1 token budget, §5 divisions),
driven through its HTTP routes and directly."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledgerbridge.sandbox.clock import Clock
from ledgerbridge.sandbox.oauth import (
    App,
    AuthError,
    ConsentError,
    Grant,
    OAuthServer,
    TokenError,
    exact_timestamp,
)
from ledgerbridge.sandbox.oauth_routes import oauth_router

REDIRECT_URI = "http://localhost:8765/callback"
DIVISIONS = [(123456, "Acme B.V."), (654321, "Acme Holding B.V."), (777, "Test")]
TOO_EARLY = "Rate limit exceeded: access_token not expired"
UNKNOWN_CHAIN = "Token is not allowed, because of invalid or empty chainId"
EXPIRED_AT = re.compile(
    r"^The refresh token expired at (\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M)"
    r" and it is now (\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M)\.$"
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> OAuthServer:
    return OAuthServer(clock)


@pytest.fixture
def app(server: OAuthServer) -> App:
    return server.register_app(REDIRECT_URI)


@pytest.fixture
def changes() -> list[int]:
    return []


@pytest.fixture
def web(server: OAuthServer, changes: list[int]) -> Iterator[TestClient]:
    api = FastAPI()
    api.include_router(
        oauth_router(server, lambda: list(DIVISIONS), lambda: changes.append(1))
    )
    with TestClient(api, base_url="http://testserver") as client:
        yield client


class _Inputs(HTMLParser):
    """The <input>s of a page: what a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.checkboxes: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        attributes = dict(attrs)
        name, value = attributes.get("name") or "", attributes.get("value") or ""
        if attributes.get("type") == "checkbox":
            self.checkboxes[value] = "checked" in attributes
            if "checked" in attributes:
                self.fields.append((name, value))
        elif attributes.get("type") == "hidden":
            self.fields.append((name, value))


def _inputs(page: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(page)
    return parser


def _consent_url(app: App, **extra: str) -> str:
    query = {
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "response_type": "code",
        **extra,
    }
    return "/api/oauth2/auth?" + urlencode(query)


def _sign_in(
    web: TestClient,
    app: App,
    *,
    state: str | None = "xyz",
    divisions: list[int] | None = None,
    password: str = "sandbox",  # noqa: S107 (the sandbox's default user)
) -> tuple[int, dict[str, list[str]], str]:
    """Open the consent page, fill it in like a browser, submit it; the
    status, the redirect's query and the page shown (if any)."""
    extra = {"state": state} if state is not None else {}
    page = web.get(_consent_url(app, **extra))
    assert page.status_code == 200
    inputs = _inputs(page.text)
    fields = [(name, value) for name, value in inputs.fields if name != "division"]
    ticked = divisions if divisions is not None else [c for c, _ in DIVISIONS]
    fields += [("division", str(code)) for code in ticked]
    fields += [("username", "sandbox"), ("password", password)]
    body = "&".join(f"{name}={quote_plus(value)}" for name, value in fields)
    response = web.post(
        "/api/oauth2/auth",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    query: dict[str, list[str]] = {}
    if response.status_code == 302:
        query = parse_qs(urlsplit(response.headers["location"]).query)
    return response.status_code, query, response.text


def _code(web: TestClient, app: App, divisions: list[int] | None = None) -> str:
    status, query, _ = _sign_in(web, app, divisions=divisions)
    assert status == 302
    return query["code"][0]


def _exchange(web: TestClient, app: App, code: str) -> dict[str, str]:
    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def _refresh(web: TestClient, app: App, refresh_token: str) -> httpx2.Response:
    return web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )


def _pair(server: OAuthServer, app: App, divisions: list[int]) -> dict[str, str]:
    code = server.issue_code(app.client_id, app.redirect_uri, "sandbox", divisions)
    return server.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        None,
    )


def _refresh_form(app: App, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }


# -- consent page --------------------------------------------------------------


def test_consent_page_lists_every_division_ticked(web: TestClient, app: App) -> None:
    response = web.get(_consent_url(app, state="s1", force_login="1"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Acme Holding B.V." in response.text
    inputs = _inputs(response.text)
    assert inputs.checkboxes == {"123456": True, "654321": True, "777": True}
    hidden = dict(inputs.fields)
    assert hidden["client_id"] == app.client_id
    assert hidden["redirect_uri"] == REDIRECT_URI
    assert hidden["state"] == "s1"
    # Self-contained: nothing is loaded from elsewhere.
    assert "src=" not in response.text
    assert "<link" not in response.text


def test_consent_page_escapes_what_it_echoes(web: TestClient, app: App) -> None:
    response = web.get(_consent_url(app, state='"><script>'))

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert dict(_inputs(response.text).fields)["state"] == '"><script>'


def test_consent_page_unknown_client_is_400_and_no_redirect(web: TestClient) -> None:
    response = web.get(
        "/api/oauth2/auth?client_id=00000000-0000-0000-0000-000000000000"
        f"&redirect_uri={REDIRECT_URI}&response_type=code",
        follow_redirects=False,
    )

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Unknown client_id" in response.text


def test_consent_page_other_redirect_uri_is_400(web: TestClient, app: App) -> None:
    response = web.get(
        _consent_url(app, redirect_uri="http://evil.example/cb"),
        follow_redirects=False,
    )

    assert response.status_code == 400
    assert "location" not in response.headers


def test_consent_page_response_type_token_is_400(web: TestClient, app: App) -> None:
    response = web.get(_consent_url(app, response_type="token"))

    assert response.status_code == 400
    assert "response_type=code" in response.text


def test_consent_page_without_parameters_is_400(web: TestClient) -> None:
    assert web.get("/api/oauth2/auth").status_code == 400


def test_consent_submit_redirects_with_code_and_state(
    web: TestClient, app: App, changes: list[int]
) -> None:
    status, query, _ = _sign_in(web, app, state="a b&c")

    assert status == 302
    assert query["state"] == ["a b&c"]
    (code,) = query["code"]
    assert "!" in code
    assert len(code) > 200
    assert changes


def test_consent_submit_encodes_the_code(web: TestClient, app: App) -> None:
    page = _inputs(web.get(_consent_url(app)).text)
    response = web.post(
        "/api/oauth2/auth",
        data={**dict(page.fields), "username": "sandbox", "password": "sandbox"},
        follow_redirects=False,
    )

    location = response.headers["location"]
    assert location.startswith(f"{REDIRECT_URI}?code=")
    assert "%21" in location
    assert "!" not in location
    assert "state=" not in location


def test_consent_submit_without_state_sends_none(web: TestClient, app: App) -> None:
    status, query, _ = _sign_in(web, app, state=None)

    assert status == 302
    assert "state" not in query


def test_consent_submit_keeps_a_query_of_the_redirect_uri(
    server: OAuthServer, web: TestClient
) -> None:
    app = server.register_app("https://app.example/cb?tenant=7")

    status, query, _ = _sign_in(web, app)

    assert status == 302
    assert query["tenant"] == ["7"]


def test_consent_submit_wrong_password_shows_the_page_again(
    web: TestClient, app: App, changes: list[int]
) -> None:
    status, _, page = _sign_in(web, app, password="wrong", divisions=[777])

    assert status == 200
    assert "Wrong username or password." in page
    assert _inputs(page).checkboxes == {"123456": False, "654321": False, "777": True}
    assert not changes


def test_consent_submit_without_division_shows_the_page_again(
    web: TestClient, app: App
) -> None:
    status, _, page = _sign_in(web, app, divisions=[])

    assert status == 200
    assert "Select at least one division." in page


def test_consent_submit_unknown_division_is_400(web: TestClient, app: App) -> None:
    status, _, _ = _sign_in(web, app, divisions=[999])

    assert status == 400


def test_consent_submit_missing_fields_is_400(web: TestClient) -> None:
    response = web.post("/api/oauth2/auth", data={"username": "sandbox"})

    assert response.status_code == 400


# -- token endpoint over HTTP --------------------------------------------------


def test_token_code_exchange_with_form_credentials(
    web: TestClient, app: App, server: OAuthServer, changes: list[int]
) -> None:
    code = _code(web, app)
    changes.clear()

    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["expires_in"] == "600"
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("stampNL001.")
    assert body["refresh_token"].startswith("stampNL001.")
    assert len(body["access_token"]) > 200
    assert body["access_token"] != body["refresh_token"]
    assert changes  # a new pair, to be persisted
    grant = server.authenticate(f"Bearer {body['access_token']}")
    assert grant == Grant(app.client_id, "sandbox", frozenset({123456, 654321, 777}))


def test_token_code_exchange_with_http_basic(
    web: TestClient, app: App, server: OAuthServer
) -> None:
    code = _code(web, app)
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()

    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
        },
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200
    assert response.json()["expires_in"] == "600"


def test_token_braces_around_client_id_are_accepted(web: TestClient, app: App) -> None:
    braced = "{" + app.client_id.upper() + "}"
    page = web.get(_consent_url(App(braced, "", app.redirect_uri)))
    assert page.status_code == 200
    fields = dict(_inputs(page.text).fields)
    redirect = web.post(
        "/api/oauth2/auth",
        data={**fields, "username": "sandbox", "password": "sandbox"},
        follow_redirects=False,
    )
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]

    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": braced,
            "client_secret": app.client_secret,
        },
    )

    assert response.status_code == 200


def test_token_refresh_before_570_seconds_is_refused(
    web: TestClient, app: App, clock: Clock
) -> None:
    tokens = _exchange(web, app, _code(web, app))
    clock.advance(569)

    response = _refresh(web, app, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json() == {
        "error": "access_denied",
        "error_description": TOO_EARLY,
    }
    assert response.headers["Reason"] == (f"TooEarlyToRefreshTokens: {TOO_EARLY}")


def test_token_refresh_after_571_seconds_rotates(
    web: TestClient, app: App, clock: Clock, server: OAuthServer
) -> None:
    first = _exchange(web, app, _code(web, app))
    clock.advance(571)

    second = _refresh(web, app, first["refresh_token"])
    again = _refresh(web, app, first["refresh_token"])

    assert second.status_code == 200
    pair = second.json()
    assert pair["expires_in"] == "600"
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["access_token"] != first["access_token"]
    assert again.status_code == 401
    assert again.json() == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    assert server.authenticate(f"Bearer {pair['access_token']}").username == "sandbox"


def test_token_reused_code_is_refused(web: TestClient, app: App) -> None:
    code = _code(web, app)
    _exchange(web, app, code)

    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": UNKNOWN_CHAIN,
    }


def test_token_wrong_secret_is_invalid_request(
    web: TestClient, app: App, changes: list[int]
) -> None:
    code = _code(web, app)
    changes.clear()

    response = web.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret + "x",
        },
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}
    assert "reason" not in response.headers
    assert not changes  # nothing counted, nothing to persist
    _exchange(web, app, code)  # and the code still works


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"grant_type": "password", "username": "sandbox", "password": "sandbox"},
        {"grant_type": "authorization_code"},
        {"grant_type": "refresh_token"},
    ],
)
def test_token_malformed_request_is_invalid_request_not_422(
    web: TestClient, app: App, body: dict[str, str]
) -> None:
    credentials = {"client_id": app.client_id, "client_secret": app.client_secret}

    response = web.post("/api/oauth2/token", data={**body, **credentials})

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_token_json_body_is_invalid_request(web: TestClient, app: App) -> None:
    response = web.post(
        "/api/oauth2/token",
        json={"grant_type": "refresh_token", "refresh_token": "x"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_token_repeated_parameter_is_invalid_request(web: TestClient) -> None:
    response = web.post(
        "/api/oauth2/token",
        content="grant_type=refresh_token&grant_type=refresh_token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_token_unknown_refresh_token_is_invalid_grant(
    web: TestClient, app: App
) -> None:
    response = _refresh(web, app, "stampNL001.nope")

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": UNKNOWN_CHAIN,
    }


def test_openapi_declares_no_422(web: TestClient) -> None:
    schema = web.get("/openapi.json").json()

    for path in ("/api/oauth2/auth", "/api/oauth2/token"):
        for operation in schema["paths"][path].values():
            assert "422" not in operation["responses"]
    token = schema["paths"]["/api/oauth2/token"]["post"]
    assert set(token["responses"]) == {"200", "400", "401"}
    consent = schema["paths"]["/api/oauth2/auth"]["post"]
    assert set(consent["responses"]) == {"200", "302", "400"}


# -- OAuthServer directly ------------------------------------------------------


def test_issue_code_unknown_client_or_redirect_uri_raises(
    server: OAuthServer, app: App
) -> None:
    with pytest.raises(ConsentError):
        server.issue_code(
            "00000000-0000-0000-0000-000000000000", REDIRECT_URI, "sandbox", [1]
        )
    with pytest.raises(ValueError, match="redirect_uri"):
        server.issue_code(app.client_id, "http://other/cb", "sandbox", [1])


def test_token_code_older_than_180_seconds_is_refused(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    code = server.issue_code(app.client_id, app.redirect_uri, "sandbox", [777])
    clock.advance(181)

    with pytest.raises(TokenError) as refused:
        server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": app.redirect_uri,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
            None,
        )

    assert (refused.value.status, refused.value.error) == (400, "invalid_grant")
    assert refused.value.description == UNKNOWN_CHAIN


def test_token_code_of_another_app_is_refused(server: OAuthServer, app: App) -> None:
    other = server.register_app("http://other.example/cb")
    code = server.issue_code(app.client_id, app.redirect_uri, "sandbox", [777])

    with pytest.raises(TokenError) as refused:
        server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": app.redirect_uri,
                "client_id": other.client_id,
                "client_secret": other.client_secret,
            },
            None,
        )

    assert refused.value.error == "invalid_grant"


def test_token_refresh_token_older_than_30_days_is_refused(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [777])
    issued = clock.now()
    clock.advance(timedelta(days=30, hours=5).total_seconds())

    with pytest.raises(TokenError) as refused:
        server.token(_refresh_form(app, pair["refresh_token"]), None)

    assert (refused.value.status, refused.value.error) == (400, "invalid_request")
    assert refused.value.reason is None
    match = EXPIRED_AT.match(refused.value.description or "")
    assert match, refused.value.description
    expired = issued + timedelta(days=30)
    # The message is to the second; allow the few ms the test took.
    assert match.group(1) in {
        exact_timestamp(expired),
        exact_timestamp(expired + timedelta(seconds=1)),
    }


def test_refresh_token_just_inside_30_days_still_works(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [777])
    clock.advance(timedelta(days=29, hours=23).total_seconds())

    assert server.token(_refresh_form(app, pair["refresh_token"]), None)


def test_exact_timestamp_is_us_style_12_hour() -> None:
    assert exact_timestamp(datetime(2022, 10, 11, 21, 18, 20, tzinfo=UTC)) == (
        "10/11/2022 9:18:20 PM"
    )
    assert exact_timestamp(datetime(2022, 1, 2, 0, 5, 9, tzinfo=UTC)) == (
        "1/2/2022 12:05:09 AM"
    )
    assert exact_timestamp(datetime(2022, 1, 2, 12, 0, 0, tzinfo=UTC)) == (
        "1/2/2022 12:00:00 PM"
    )


def test_refused_early_refresh_leaves_the_refresh_token_usable(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [777])
    with pytest.raises(TokenError):
        server.token(_refresh_form(app, pair["refresh_token"]), None)
    clock.advance(570)

    assert server.token(_refresh_form(app, pair["refresh_token"]), None)


def test_authenticate_access_token_valid_until_600_seconds(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [777])
    bearer = f"Bearer {pair['access_token']}"
    clock.advance(599)
    assert server.authenticate(bearer).username == "sandbox"
    clock.advance(1)

    with pytest.raises(AuthError) as refused:
        server.authenticate(bearer)

    assert refused.value.www_authenticate == (
        'Bearer error="invalid_token", error_description="access token expired"'
    )


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer nope", "Basic abc", "bearer  x"]
)
def test_authenticate_missing_or_unknown_token_is_invalid(
    server: OAuthServer, authorization: str | None
) -> None:
    with pytest.raises(AuthError) as refused:
        server.authenticate(authorization)

    assert refused.value.www_authenticate == (
        'Bearer error="invalid_token", error_description="invalid token"'
    )


def test_authenticate_old_access_token_lives_until_its_own_expiry(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    first = _pair(server, app, [777])
    clock.advance(580)
    server.token(_refresh_form(app, first["refresh_token"]), None)

    assert server.authenticate(f"Bearer {first['access_token']}")
    clock.advance(20)
    with pytest.raises(AuthError, match="expired"):
        server.authenticate(f"Bearer {first['access_token']}")


def test_expire_access_tokens_expires_every_token_and_allows_refresh(
    server: OAuthServer, app: App
) -> None:
    pairs = [_pair(server, app, [777]), _pair(server, app, [123456])]

    server.expire_access_tokens()

    for pair in pairs:
        with pytest.raises(AuthError, match="access token expired"):
            server.authenticate(f"Bearer {pair['access_token']}")
    # The access token is gone, so "access_token not expired" no longer holds.
    fresh = server.token(_refresh_form(app, pairs[0]["refresh_token"]), None)
    assert server.authenticate(f"Bearer {fresh['access_token']}")


def test_grant_carries_the_ticked_divisions(
    web: TestClient, app: App, server: OAuthServer
) -> None:
    tokens = _exchange(web, app, _code(web, app, divisions=[654321]))

    grant = server.authenticate(f"Bearer {tokens['access_token']}")

    assert grant.divisions == frozenset({654321})
    assert grant.client_id == app.client_id


def test_grant_divisions_survive_refresh(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [123456, 777])
    clock.advance(571)

    fresh = server.token(_refresh_form(app, pair["refresh_token"]), None)

    grant = server.authenticate(f"Bearer {fresh['access_token']}")
    assert grant.divisions == frozenset({123456, 777})


def test_token_budget_is_200_calls_per_app_user_utc_day(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    pair = _pair(server, app, [777])  # call 1
    server.add_user("other", "secret")
    for _ in range(199):  # calls 2..200: too early, but counted
        with pytest.raises(TokenError, match="access_token not expired"):
            server.token(_refresh_form(app, pair["refresh_token"]), None)
    assert server.token_calls_today(app.client_id, "sandbox") == 200
    clock.advance(600)
    if clock.now().date() != (clock.now() - timedelta(seconds=600)).date():
        pytest.skip("crossed midnight UTC while testing; the budget was reset")

    with pytest.raises(TokenError) as refused:
        server.token(_refresh_form(app, pair["refresh_token"]), None)

    assert (refused.value.status, refused.value.error) == (400, "access_denied")
    assert "200 calls per day" in (refused.value.description or "")
    # Another user of the same app has a budget of their own.
    other_code = server.issue_code(app.client_id, app.redirect_uri, "other", [777])
    assert server.token(
        {
            "grant_type": "authorization_code",
            "code": other_code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        None,
    )
    # The next UTC day starts afresh.
    now = clock.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=1)
    clock.advance((midnight - now).total_seconds())
    assert server.token(_refresh_form(app, pair["refresh_token"]), None)
    assert server.token_calls_today(app.client_id, "sandbox") == 1


def test_snapshot_round_trip_keeps_tokens_working(
    server: OAuthServer, app: App, clock: Clock
) -> None:
    server.add_user("piet", "geheim", full_name="Piet", language="en-GB")
    old = _pair(server, app, [123456])
    clock.advance(571)
    current = server.token(_refresh_form(app, old["refresh_token"]), None)
    code = server.issue_code(app.client_id, app.redirect_uri, "piet", [777])

    restored = OAuthServer.from_dict(json.loads(json.dumps(server.to_dict())), clock)

    assert restored.apps == server.apps
    assert restored.users == server.users
    assert restored.token_calls_today(app.client_id, "sandbox") == 2
    assert restored.authenticate(f"Bearer {current['access_token']}") == Grant(
        app.client_id, "sandbox", frozenset({123456})
    )
    with pytest.raises(TokenError, match="Old refresh token used"):
        restored.token(_refresh_form(app, old["refresh_token"]), None)
    with pytest.raises(TokenError, match="access_token not expired"):
        restored.token(_refresh_form(app, current["refresh_token"]), None)
    piet = restored.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        None,
    )
    assert restored.authenticate(f"Bearer {piet['access_token']}").username == "piet"
    clock.advance(571)
    assert restored.token(_refresh_form(app, current["refresh_token"]), None)


def test_default_user_exists(server: OAuthServer) -> None:
    user = server.users["sandbox"]

    assert (user.password, user.language) == ("sandbox", "nl-NL")
    assert server.sign_in("sandbox", "sandbox") == user
    assert server.sign_in("sandbox", "wrong") is None
    assert server.sign_in("nobody", "sandbox") is None


def test_secrets_stay_out_of_repr(server: OAuthServer, app: App) -> None:
    assert app.client_secret not in repr(app)
    assert "password" not in repr(server.users["sandbox"])


def test_register_app_gives_lowercase_guid_and_secret(server: OAuthServer) -> None:
    app = server.register_app("https://app.example/callback")

    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", app.client_id)
    assert len(app.client_secret) >= 16
    with pytest.raises(ValueError, match="absolute"):
        server.register_app("/relative")
