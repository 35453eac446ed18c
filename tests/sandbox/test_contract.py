"""Contract test: a third-party Exact Online client from PyPI,
`exact-online-sdk` 2.0.0, unmodified, against the sandbox served by uvicorn on
127.0.0.1.

Only the client's public configuration points it at the sandbox: `Settings`
with `base_url`, `auth_url`, `token_url` and `division`. Everything on the
wire is the library's own: the authorization URL, the code exchange and the
refresh (HTTP Basic client credentials), `current/Me`, POSTs to
`crm/Accounts`, its page iterator following `__next`, and its generic `post`
on `salesentry/SalesEntries` (it has no class for that endpoint).

Set-up the library cannot do goes through the sandbox's admin API or its
consent page, as a user would: a division, an app, the sign-in form, the
clock and a higher minutely limit (the test says why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from tests.serving import serve

sdk = pytest.importorskip(
    "exact_online_sdk", reason="the `contract` extra is not installed"
)
sdk_api = pytest.importorskip("exact_online_sdk.api")
sdk_auth = pytest.importorskip("exact_online_sdk.auth")

DIVISION = 1001
REDIRECT = "http://127.0.0.1:9/callback"  # never called: the 302 is read
ACCOUNTS = 75  # more than one page of 60


@dataclass
class Served:
    """The sandbox behind a real HTTP server, plus an admin client."""

    url: str
    admin: httpx2.Client


@pytest.fixture
def served() -> Iterator[Served]:
    with (
        serve(create_app(Sandbox())) as url,
        httpx2.Client(base_url=url, timeout=10) as admin,
    ):
        yield Served(url, admin)


class _FormReader(HTMLParser):
    """The consent page's form: its action and its fields as a browser
    would submit them (hidden inputs, ticked checkboxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            kind = values.get("type", "text")
            if kind == "hidden" or (kind == "checkbox" and "checked" in values):
                self.fields.append((values["name"], values.get("value", "")))


def _consent(authorization_url: str) -> str:
    """Sign in on the sandbox's consent page as a browser would; the code
    from the redirect to the app."""
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        form = _FormReader()
        form.feed(page.text)
        assert form.action is not None
        fields: dict[str, list[str]] = {}
        for name, value in [
            *form.fields,
            ("username", "sandbox"),
            ("password", "sandbox"),
        ]:
            fields.setdefault(name, []).append(value)
        assert fields["division"] == [str(DIVISION)]
        answer = browser.post(urljoin(authorization_url, form.action), data=fields)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["contract-state"]
    return query["code"][0]


def _sales_entry(customer: str, revenue: str) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": customer,
        "EntryDate": "2026-11-14",
        "YourRef": "SDK-0001",
        "PaymentCondition": "30",
        "SalesEntryLines": [
            {
                "GLAccount": revenue,
                "AmountFC": 100.00,
                "VATCode": "V21",
                "Description": "Kast",
            },
            {"GLAccount": revenue, "AmountFC": 25.50, "VATCode": "V21"},
        ],
    }


def test_sdk_books_against_sandbox_over_http(served: Served) -> None:
    admin = served.admin
    created = admin.post(
        "/_sandbox/divisions",
        json={"code": DIVISION, "template": "BE", "name": "Contract BE"},
    )
    assert created.status_code == 201, created.text
    # The SDK ignores X-RateLimit-* and, on a 429 without Retry-After, backs
    # off 1..30 s up to five times; at Exact's 60 calls a minute the ~85
    # calls below would spend a minute waiting. Rate limits are tested
    # elsewhere; here they only need to stay out of the way.
    limits = admin.put(
        f"/_sandbox/divisions/{DIVISION}/limits",
        json={"minutely": 1000, "daily": 5000},
    )
    assert limits.status_code == 200, limits.text
    app = admin.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}).json()

    settings = sdk.Settings(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        redirect_uri=REDIRECT,
        base_url=served.url,
        auth_url=f"{served.url}/api/oauth2/auth",
        token_url=f"{served.url}/api/oauth2/token",
        division=DIVISION,
    )
    storage = sdk_auth.InMemoryTokenStorage()
    auth = sdk_auth.ExactOnlineAuth(settings, storage=storage)

    # Authorization-code flow: the library's URL, the sandbox's sign-in page,
    # the library's code exchange (HTTP Basic).
    code = _consent(auth.get_authorization_url(state="contract-state"))
    first = auth.exchange_code_for_token(code)
    assert first.refresh_token
    assert first.token_type == "bearer"

    with sdk.ExactOnlineClient(settings, auth=auth) as client:
        me = sdk_api.MeAPI(client).list()
        assert [m.current_division for m in me] == [DIVISION]

        # Generic `post`, not `AccountsAPI.create`: the SDK validates the
        # payload against its `Account` model first, which types `Status` as
        # "Active"/"Inactive"; Exact's customer status is "C" (API.md §7.1),
        # and only a "C" account can be a sales entry's customer.
        ids = []
        for n in range(1, ACCOUNTS + 1):
            account = client.post(
                "crm/Accounts",
                json={"Code": str(n), "Name": f"Customer {n}", "Status": "C"},
            )
            assert account["Code"] == f"{n:>18}"
            ids.append(account["ID"])
        assert len(set(ids)) == ACCOUNTS

        # The iterator sends its page_size as `$top` (100 by default) and
        # follows `__next`; raw, as its `Account` model refuses Status "C".
        # Without $select, page 2 (`$top=40`) must still be wrapped: the SDK
        # reads no bare `{"d": [...]}`. `$top=70` means 70 rows in all.
        for select, page_size, total in (
            (["ID", "Code", "Name"], 100, ACCOUNTS),
            (None, 100, ACCOUNTS),
            (["ID"], 70, 70),
        ):
            pages = list(
                sdk_api.AccountsAPI(client).iter_pages(
                    params={"$filter": "Status eq 'C'"},
                    select=select,
                    page_size=page_size,
                    raw=True,
                )
            )
            assert [len(page) for page in pages] == [60, total - 60]
            listed = [row["ID"] for page in pages for row in page]
            # No row twice, none made up; with all of them: each exactly once.
            assert len(set(listed)) == len(listed) == total
            assert set(listed) <= set(ids)

        # Refresh: 590 s on the sandbox's clock (past Exact's 570-s floor)
        # and on the library's, whose token now has 10 s left, inside its
        # 60-s margin, so its next call refreshes by itself.
        moved = admin.post("/_sandbox/clock", json={"advance_seconds": 590})
        assert moved.status_code == 200, moved.text
        storage.set_token(
            dataclasses.replace(
                first, expires_at=first.expires_at - timedelta(seconds=590)
            )
        )
        assert sdk_api.MeAPI(client).list()[0].current_division == DIVISION
        second = storage.get_token()
        assert second is not None
        assert second.access_token != first.access_token
        assert second.refresh_token not in (None, first.refresh_token)
        # Past the old access token's 600 s: only the new one works now.
        moved = admin.post("/_sandbox/clock", json={"advance_seconds": 20})
        assert moved.status_code == 200, moved.text
        stale = admin.get(
            "/api/v1/current/Me",
            headers={
                "Authorization": f"Bearer {first.access_token}",
                "Accept": "application/json",
            },
        )
        assert stale.status_code == 401

        revenue = sdk_api.GLAccountsAPI(client).list(
            params={"$filter": "Code eq '700000'"}, select=["ID", "Code"], raw=True
        )
        assert len(revenue) == 1
        entry = client.post(
            "salesentry/SalesEntries", json=_sales_entry(ids[0], revenue[0]["ID"])
        )
        assert entry["AmountFC"] == 151.86
        assert entry["YourRef"] == "SDK-0001"

    booked = admin.get(f"/_sandbox/divisions/{DIVISION}/entries")
    assert booked.status_code == 200, booked.text
    [row] = [e for e in booked.json() if e["EntryID"] == entry["EntryID"]]
    assert row["Customer"] == ids[0]
    assert row["YourRef"] == "SDK-0001"
    assert row["AmountFC"] == 151.86
    assert [line["AmountFC"] for line in row["SalesEntryLines"]] == [100.0, 25.5]
    assert {line["GLAccount"] for line in row["SalesEntryLines"]} == {revenue[0]["ID"]}
