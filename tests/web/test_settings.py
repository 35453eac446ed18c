"""*Financial settings > Accounting settings tab*: who may read and save the
settings, what a bad form changes (nothing), the problems of the mapping,
and the *Connect* flow's state; through TestClient on SQLite and
PostgreSQL. In a real Chromium against the sandbox: connect the Belgian
company, pick codes, tick *Export automatically daily*, save."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from ledgerbridge import demo, wiring
from ledgerbridge.domain.accounting import AccountingSettings
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.web.pages.settings import STATE_COOKIE
from ledgerbridge.wiring import Database
from tests.web.conftest import (
    ADMIN,
    BE,
    BOOKKEEPER,
    DESKTOP,
    NL,
    TABLET,
    VIEWER,
    Screens,
    add_users,
    client_sign_in,
    form_token,
    sign_in,
)
from tests.web.site import CALLBACK, Site

Clients = Callable[..., TestClient]

PAGE = "/financial-settings/accounting-settings"
EXACT = "http://exact.invalid"


@pytest.fixture
def demo_data(database: Database) -> Database:
    with database.sessions() as session:
        demo.seed(session, date.today())  # noqa: DTZ011 - as the demo does
        session.commit()
    add_users(database)
    return database


def _settings(database: Database, ref: str) -> AccountingSettings:
    with database.sessions() as session:
        row = repo.get_company(session, ref)
        assert row is not None
        return repo.load_settings(session, row)


def _form(client: TestClient, ref: str) -> dict[str, Any]:
    """The page's form as the browser would send it unchanged."""
    html = client.get(PAGE, params={"company": ref}).text
    form: dict[str, Any] = {"csrf_token": form_token(html)}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name.group(1) == "csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                form[name.group(1)] = "on"
        elif 'type="hidden"' not in tag:
            form[name.group(1)] = value.group(1) if value else ""
    return form


def _admin(clients: Clients) -> TestClient:
    return client_sign_in(clients(), ADMIN)


# Reading


def test_page_shows_the_tabs_boxes_and_connection(
    clients: Clients, demo_data: Database
) -> None:
    page = _admin(clients).get(PAGE, params={"company": BE})

    assert page.status_code == 200
    for label in (
        "Customer invoice",
        "Supplier invoice",
        "Payments",
        "Accountancy export",
        "Export automatically daily",
        "Payments Import",
        "Sales journal",
        "Default revenue GL account",
        "Default cost GL account",
    ):
        assert label in page.text
    assert "Not connected" in page.text
    assert "is not connected to Exact Online yet" in page.text
    assert 'href="/exact/connect?company=be-keukens"' in page.text


def test_problems_of_the_mapping_are_counted(
    clients: Clients, demo_data: Database
) -> None:
    page = _admin(clients).get(PAGE, params={"company": BE})

    # The demo leaves BE-12 unmapped on purpose (one invoice uses it).
    assert re.search(
        r"\d+ pending invoices? uses? the VAT scenario BE-12 \(12 % intermediate "
        r"rate\), which has no VAT code: choose one on the Customer invoice tab.",
        page.text,
    )


def test_viewer_reads_but_has_no_save_or_connect(
    clients: Clients, demo_data: Database
) -> None:
    viewer = client_sign_in(clients(), VIEWER)

    page = viewer.get(PAGE, params={"company": NL})

    assert page.status_code == 200
    assert "Only an admin can connect" in page.text
    assert "/exact/connect" not in page.text
    assert '<button type="submit">Save</button>' not in page.text
    assert viewer.get(PAGE, params={"company": BE}).status_code == 404


@pytest.mark.parametrize(("user", "ref"), [(VIEWER, NL), (BOOKKEEPER, BE)])
def test_viewer_and_bookkeeper_cannot_save(
    clients: Clients, demo_data: Database, user: str, ref: str
) -> None:
    before = _settings(demo_data, ref)
    client = client_sign_in(clients(), user)
    form = _form(client, ref)
    form.pop(f"{'sales'}_enabled", None)

    answer = client.post(PAGE, params={"company": ref}, data=form)

    assert answer.status_code == 403
    assert "This needs the role admin" in answer.text
    assert _settings(demo_data, ref) == before


# Saving


def test_admin_saves_and_is_sent_to_the_terms(
    clients: Clients, demo_data: Database
) -> None:
    client = _admin(clients)
    form = _form(client, BE)
    form.update(
        {
            "sales_vat_BE-12": "V12",
            "sales_journal": "71",
            "sales_daily": "on",
            "sales_daily_at": "05:15",
        }
    )
    form.pop("purchase_attach_pdf", None)

    answer = client.post(PAGE, params={"company": BE}, data=form)

    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/terms"
    assert parse_qs(location.query) == {
        "company": [BE],
        "next": [f"{PAGE}?company={BE}"],
    }
    saved = _settings(demo_data, BE)
    assert saved.sales.vat_codes["BE-12"] == "V12"
    assert saved.sales.vat_codes["BE-21"] == "V21"  # the others kept
    assert saved.sales.journal == "71"
    assert saved.sales.daily.enabled
    assert saved.sales.daily.at.strftime("%H:%M") == "05:15"
    assert not saved.purchases.attach_pdf


def test_admin_saving_with_every_flow_off_stays_here(
    clients: Clients, demo_data: Database
) -> None:
    client = _admin(clients)
    form = _form(client, NL)
    for name in (
        "sales_enabled",
        "sales_daily",
        "purchase_enabled",
        "purchase_daily",
        "payments_enabled",
        "payments_daily",
    ):
        form.pop(name, None)

    answer = client.post(PAGE, params={"company": NL}, data=form)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{PAGE}?company={NL}&notice=saved"
    saved = _settings(demo_data, NL)
    assert not saved.sales.enabled and not saved.payments.enabled
    shown = client.get(answer.headers["location"])
    assert "The settings are saved." in shown.text


def test_bad_input_is_refused_whole_with_sentences(
    clients: Clients, demo_data: Database
) -> None:
    before = _settings(demo_data, BE)
    client = _admin(clients)
    form = _form(client, BE)
    form.update(
        {
            "sales_journal": "72",  # valid alone, but not saved with the rest
            "sales_daily_at": "25:99",
            "purchase_vat_BE-21": "TOOLONG",
        }
    )

    answer = client.post(PAGE, params={"company": BE}, data=form)

    assert answer.status_code == 422
    assert "Nothing was saved." in answer.text
    assert (
        "On the Customer invoice tab, the time of Export automatically daily "
        "(&#39;25:99&#39;) is not a time of day: use HH:MM." in answer.text
    )
    assert "On the Supplier invoice tab, VAT code for scenario BE-21" in answer.text
    assert 'value="72"' in answer.text  # what was typed is kept on the page
    assert _settings(demo_data, BE) == before


def test_saving_without_the_csrf_token_is_refused(
    clients: Clients, demo_data: Database
) -> None:
    before = _settings(demo_data, BE)
    client = _admin(clients)
    form = _form(client, BE)
    form.pop("csrf_token")
    form.pop("sales_enabled", None)

    answer = client.post(PAGE, params={"company": BE}, data=form)

    assert answer.status_code == 403
    assert "security token" in answer.text
    assert _settings(demo_data, BE) == before


# Connect: the state


@pytest.fixture
def exact_runner(demo_data: Database, tmp_path: Path) -> Runner:
    """A runner with an Exact app configured (at an address never called)."""
    settings = Settings(
        data_dir=tmp_path,
        secret_keys=SecretStr(Fernet.generate_key().decode()),
        exact_client_id="11111111-2222-3333-4444-555555555555",
        exact_client_secret=SecretStr("secret"),
        exact_redirect_uri=f"http://testserver{CALLBACK}",
        exact_base_url=EXACT,
    )
    return Runner(settings, demo_data)


def _with_runner(client: TestClient, runner: Runner) -> TestClient:
    client.app.state.runner = runner  # type: ignore[attr-defined]
    return client


def test_connect_goes_to_exact_with_a_state_kept_in_a_cookie(
    clients: Clients, exact_runner: Runner
) -> None:
    client = _with_runner(_admin(clients), exact_runner)

    answer = client.get("/exact/connect", params={"company": BE})

    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{EXACT}/api/oauth2/auth"
    )
    query = parse_qs(target.query)
    assert query["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    assert query["state"][0]
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{STATE_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/exact" in cookie
    assert query["state"][0] not in cookie  # signed, not the bare state


def test_only_admins_connect(clients: Clients, exact_runner: Runner) -> None:
    client = _with_runner(client_sign_in(clients(), BOOKKEEPER), exact_runner)

    assert client.get("/exact/connect", params={"company": BE}).status_code == 403
    assert client.get(CALLBACK, params={"code": "x", "state": "y"}).status_code == 403


def test_callback_with_another_state_is_refused(
    clients: Clients, exact_runner: Runner
) -> None:
    client = _with_runner(_admin(clients), exact_runner)
    client.get("/exact/connect", params={"company": BE})

    answer = client.get(CALLBACK, params={"code": "x", "state": "forged"})

    assert answer.status_code == 400
    assert "does not belong to a Connect started from this browser" in answer.text
    assert "Nothing was stored." in answer.text


def test_callback_without_a_started_connect_is_refused(
    clients: Clients, exact_runner: Runner
) -> None:
    client = _with_runner(_admin(clients), exact_runner)

    answer = client.get(CALLBACK, params={"code": "x", "state": "y"})

    assert answer.status_code == 400
    assert "click Connect again" in answer.text


def test_state_of_another_session_is_refused(
    clients: Clients, exact_runner: Runner
) -> None:
    first = _with_runner(_admin(clients), exact_runner)
    started = first.get("/exact/connect", params={"company": BE})
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    other = _admin(clients)
    other.cookies.set(STATE_COOKIE, first.cookies[STATE_COOKIE], path="/exact")

    answer = other.get(CALLBACK, params={"code": "x", "state": state})

    assert answer.status_code == 400
    assert "does not belong" in answer.text


def test_refused_consent_says_so(clients: Clients, exact_runner: Runner) -> None:
    client = _with_runner(_admin(clients), exact_runner)
    started = client.get("/exact/connect", params={"company": BE})
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]

    answer = client.get(CALLBACK, params={"error": "access_denied", "state": state})

    assert answer.status_code == 400
    assert "Exact Online did not give access (access_denied)" in answer.text
    assert f"{PAGE}?company={BE}" in answer.text


# In the browser, against the sandbox


def test_connect_pick_codes_and_switch_on_the_daily_export(
    browser: Browser, site_unconnected: Site, shoot: Screens
) -> None:
    site = site_unconnected
    site.runner.accept_terms(BE, "tests")
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, ADMIN)
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Accounting settings"
        ).click()
        page.get_by_label("Company").select_option(BE)
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Keukens & Baden")
        expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
        shoot(page, "not connected")

        # Exact's (the sandbox's) consent form: sign in, tick the Belgian
        # administration only.
        page.get_by_role("link", name="Connect", exact=True).click()
        expect(page.get_by_label("Username")).to_be_visible()
        page.get_by_label("Username").fill("sandbox")
        page.get_by_label("Password").fill("sandbox")
        page.get_by_role("checkbox", name="2001 NL").uncheck()
        page.get_by_role("checkbox", name="1001 BE").check()
        shoot(page, "consent")
        page.get_by_role("button", name="Sign in and allow").click()

        expect(page.get_by_role("status")).to_have_text(
            re.compile(r"is connected to Exact Online, administration 1001\.")
        )
        expect(page.get_by_text("Signed in", exact=True)).to_be_visible()
        expect(page.get_by_text(re.compile(r"Alive until"))).to_be_visible()
        shoot(page, "connected")

        customer = page.get_by_role("tabpanel", name="Customer invoice")
        expect(customer).to_be_visible()
        vat = customer.get_by_label(re.compile("BE-12 · 12 % intermediate rate"))
        expect(vat).to_have_value("")
        vat.fill("V12")
        customer.get_by_label("Sales journal").fill("70")
        # Both come from the administration's live lists.
        expect(page.locator("#sales-vat-codes option[value=V12]")).to_have_count(1)
        expect(page.locator("#sales-journals option[value='70']")).to_have_text(
            "Verkopen"
        )
        page.get_by_role("tab", name="Supplier invoice").click()
        supplier = page.get_by_role("tabpanel", name="Supplier invoice")
        daily = supplier.get_by_label("Export automatically daily")
        expect(daily).not_to_be_checked()
        daily.check()
        supplier.get_by_label("Time of the daily run").fill("04:45")
        shoot(page, "picked")
        page.get_by_role("tab", name="Payments").click()
        expect(
            page.get_by_role("tabpanel", name="Payments").get_by_label(
                "Payments Import"
            )
        ).to_be_checked()
        page.get_by_role("button", name="Save").click()

        expect(page.get_by_role("status")).to_have_text("The settings are saved.")
        customer = page.get_by_role("tabpanel", name="Customer invoice")
        expect(customer.get_by_label(re.compile("BE-12 · 12 %"))).to_have_value("V12")
        expect(customer.get_by_text("Verkopen 12%")).to_be_visible()
        expect(page.get_by_text("None: every pending invoice")).to_be_visible()
        page.get_by_role("tab", name="Supplier invoice").click()
        supplier = page.get_by_role("tabpanel", name="Supplier invoice")
        expect(supplier.get_by_label("Export automatically daily")).to_be_checked()
        expect(supplier.get_by_label("Time of the daily run")).to_have_value("04:45")
        shoot(page, "saved")
        page.set_viewport_size(TABLET)
        shoot(page, "saved at tablet width")
    finally:
        context.close()

    saved = _settings(site.database, BE)
    assert saved.sales.vat_codes["BE-12"] == "V12"
    assert saved.sales.journal == "70"
    assert saved.purchases.daily.enabled
    assert saved.purchases.daily.at.strftime("%H:%M") == "04:45"
    overview = {
        entry.company.ref: entry.connection
        for entry in wiring.connection_overview(site.settings, site.database)
    }
    connection = overview[BE]
    assert connection is not None and connection.connected
    assert connection.division == 1001
    assert overview[NL] is None


def test_consent_to_two_administrations_stores_nothing(
    browser: Browser, site_unconnected: Site, shoot: Screens
) -> None:
    site = site_unconnected
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, ADMIN)
        page.goto(f"{PAGE}?company={BE}")
        page.get_by_role("link", name="Connect", exact=True).click()
        page.get_by_label("Username").fill("sandbox")
        page.get_by_label("Password").fill("sandbox")
        # Both administrations left ticked: which is the company's?
        page.get_by_role("button", name="Sign in and allow").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Not connected")
        expect(page.get_by_role("alert")).to_contain_text(
            "Exact granted 2 administrations (1001 BE, 2001 NL)"
        )
        expect(page.get_by_role("alert")).to_contain_text(
            "tick only the company's administration"
        )
        shoot(page, "two administrations")
        page.get_by_role("link", name="Back to Accounting settings").click()
        expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    finally:
        context.close()

    overview = wiring.connection_overview(site.settings, site.database)
    assert all(entry.connection is None for entry in overview)


def test_code_not_in_the_administration_is_refused(
    browser: Browser, site: Site, shoot: Screens
) -> None:
    before = _settings(site.database, BE)
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, ADMIN)
        page.goto(f"{PAGE}?company={BE}")
        customer = page.get_by_role("tabpanel", name="Customer invoice")
        customer.get_by_label("Sales journal").fill("60")  # a purchase journal
        customer.get_by_label("Accountancy export").uncheck()
        page.get_by_role("button", name="Save").click()

        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Nothing was saved.")
        expect(alert).to_contain_text(
            "On the Customer invoice tab, Sales journal: '60' is not in the "
            "administration's list"
        )
        customer = page.get_by_role("tabpanel", name="Customer invoice")
        expect(customer.get_by_label("Sales journal")).to_have_value("60")
        shoot(page, "refused")
    finally:
        context.close()

    assert _settings(site.database, BE) == before


def test_viewer_moves_between_the_tabs_by_keyboard(page: Page, shoot: Screens) -> None:
    sign_in(page, VIEWER)
    page.goto(PAGE)

    expect(page.get_by_role("tab", name="Customer invoice")).to_have_attribute(
        "aria-selected", "true"
    )
    page.get_by_role("tab", name="Customer invoice").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")

    expect(page.get_by_role("tab", name="Payments")).to_be_focused()
    payments = page.get_by_role("tabpanel", name="Payments")
    expect(payments.get_by_label("Payments Import")).to_be_disabled()
    expect(page.get_by_role("tabpanel", name="Customer invoice")).to_be_hidden()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    shoot(page, "viewer on payments")
