"""Financial > Customer invoices and Financial > Supplier invoices: the lists
with their booking and payment status, and Export Accounting information
(preview, export, progress, result, refusals).

TestClient tests on both databases for the behaviour and the rights; the
whole flow in Chromium against the sandbox (SQLite, the `site` fixture)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select, update

from ledgerbridge import demo
from ledgerbridge.runner import Runner, manual_request
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    CompanyRow,
    DocumentRow,
    RunRow,
)
from ledgerbridge.sync.model import DocumentResult, Flow, RunInfo, RunStatus, Trigger
from ledgerbridge.sync.ports import Progress
from ledgerbridge.wiring import Database
from tests.web.conftest import (
    BE,
    BOOKKEEPER,
    DESKTOP,
    NL,
    TABLET,
    VIEWER,
    Screens,
    add_users,
    client_sign_in,
    sign_in,
)
from tests.web.site import Site

Clients = Callable[..., TestClient]

CUSTOMER = "/financial/customer-invoices"
SUPPLIER = "/financial/supplier-invoices"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(database: Database) -> Iterator[Runner]:
    """The demo companies and users; the runner the app will use (no Exact
    connection: a run stops with the sentence saying so)."""
    with database.sessions() as session:
        demo.seed(session, date.today())  # noqa: DTZ011 - as the demo does
        session.commit()
    add_users(database)
    runner = Runner(Settings(), database)
    yield runner
    runner.close()


def signed_in(clients: Clients, runner: Runner, username: str) -> TestClient:
    client = clients()
    client.app.state.runner = runner  # type: ignore[attr-defined]
    return client_sign_in(client, username)


def token(client: TestClient) -> str:
    html = client.get(CUSTOMER).text
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def export_form(company: str = BE, **fields: str) -> dict[str, str]:
    first = date.today() - timedelta(days=100)  # noqa: DTZ011
    values = {
        "company": company,
        "period": "custom",
        "from": first.isoformat(),
        "to": date.today().isoformat(),  # noqa: DTZ011
    }
    return {**values, **fields}


def post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data=data, headers={**HTMX, "X-CSRF-Token": token(client)})


def set_document(database: Database, company: str, number: str, **values: Any) -> None:
    with database.sessions.begin() as session:
        company_id = session.scalar(
            select(CompanyRow.id).where(CompanyRow.ref == company)
        )
        session.execute(
            update(DocumentRow)
            .where(DocumentRow.company_id == company_id, DocumentRow.number == number)
            .values(**values)
        )


def credit_note_day(database: Database, company: str) -> date:
    with database.sessions() as session:
        day = session.scalar(
            select(DocumentRow.issue_date)
            .join(CompanyRow)
            .where(CompanyRow.ref == company, DocumentRow.type == "credit_note")
            .limit(1)
        )
    assert day is not None
    return day


def runs_of(database: Database, company: str) -> list[RunRow]:
    with database.sessions() as session:
        return list(
            session.scalars(
                select(RunRow)
                .join(CompanyRow)
                .where(CompanyRow.ref == company)
                .order_by(RunRow.id)
            )
        )


# The lists


def test_list_shows_booking_and_payment_status(
    database: Database, shop: Runner, clients: Clients
) -> None:
    set_document(
        database,
        BE,
        "F2026-0001",
        booking_status="booked",
        booking_entry_number=26100042,
        booking_journal="70",
        payment_status="partly_paid",
        paid_amount=Decimal("10.00"),
    )
    set_document(
        database,
        BE,
        "F2026-0002",
        booking_status="failed",
        booking_reason="Customer X has no code in Exact: enter it.",
        booking_exact_message="Account not found",
    )
    client = signed_in(clients, shop, BOOKKEEPER)

    page = client.get(CUSTOMER)

    assert page.status_code == 200
    html = page.text
    assert "<h1>" in html and "Customer invoices" in html
    assert "Not validated" in html and "Pending" in html
    assert "Export Accounting information" in html

    day = credit_note_day(database, BE)
    credit = client.get(CUSTOMER, params={"first": str(day), "last": str(day)}).text
    assert re.search(r"CN[\d-]+ <span class=\"tag\">Credit note</span>", credit)

    booked = client.get(CUSTOMER, params={"status": "booked"}).text
    assert "F2026-0001" in booked and "F2026-0002" not in booked
    assert "Exact entry 26100042" in booked
    assert re.search(r"Partly paid \(open [\d,]+\.\d\d\)", booked)
    assert "1 document of" in booked

    failed = client.get(CUSTOMER, params={"status": "failed"}).text
    assert "F2026-0002" in failed
    assert "Customer X has no code in Exact: enter it." in failed
    assert "Exact: Account not found" in failed


def test_list_filters_by_period_and_pages(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, BOOKKEEPER)
    today = date.today()  # noqa: DTZ011

    everything = client.get(CUSTOMER).text
    total = int(re.search(r"(\d+) documents of", everything).group(1))  # type: ignore[union-attr]
    assert total > 50
    assert "Next page" in everything

    second = client.get(CUSTOMER, params={"page": "2"}).text
    assert "Previous page" in second and "page 2 of" in second

    week = client.get(
        CUSTOMER,
        params={"first": (today - timedelta(days=7)).isoformat(), "last": str(today)},
    ).text
    shown = int(re.search(r"(\d+) documents? of", week).group(1))  # type: ignore[union-attr]
    assert 0 < shown < total
    dates = re.findall(r'<td class="date">(\d{4}-\d\d-\d\d)</td>', week)
    assert dates and all(d >= str(today - timedelta(days=7)) for d in dates)


def test_supplier_list_names_the_supplier_menu(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, BOOKKEEPER)

    html = client.get(SUPPLIER).text

    assert "Supplier invoices" in html
    assert "data-menu-button>Accounting export <span" in html
    assert '<th scope="col">Supplier</th>' in html


def test_bookkeeper_cannot_list_or_export_another_company(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, BOOKKEEPER)

    assert client.get(CUSTOMER, params={"company": NL}).status_code == 404
    assert post(client, f"{CUSTOMER}/preview", export_form(NL)).status_code == 404
    assert post(client, f"{CUSTOMER}/export", export_form(NL)).status_code == 404
    assert post(client, f"{SUPPLIER}/export", export_form(NL)).status_code == 404
    assert runs_of(database, NL) == []


def test_viewer_sees_the_list_but_cannot_export(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, VIEWER)

    page = client.get(CUSTOMER)
    assert page.status_code == 200
    assert "F2026" in page.text or "NL" in page.text
    assert "Export Accounting information" not in page.text

    refused = post(client, f"{CUSTOMER}/export", export_form(NL))
    assert refused.status_code == 403
    assert "bookkeeper" in refused.text
    assert runs_of(database, NL) == []


def test_export_without_csrf_token_is_refused(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, BOOKKEEPER)
    shop.accept_terms(BE, "tests")

    refused = client.post(f"{CUSTOMER}/export", data=export_form(), headers=HTMX)

    assert refused.status_code == 403
    assert runs_of(database, BE) == []


# Export Accounting information


def test_first_export_goes_to_the_terms_and_sends_nothing(
    database: Database, shop: Runner, clients: Clients
) -> None:
    client = signed_in(clients, shop, BOOKKEEPER)

    for action in ("preview", "export"):
        answer = post(client, f"{CUSTOMER}/{action}", export_form())

        assert answer.status_code == 200
        target = answer.headers["HX-Redirect"]
        assert target.startswith(f"/terms?company={BE}&next=")
        assert "export%3Dopen" in target and "period%3Dcustom" in target
    assert runs_of(database, BE) == []


def test_export_starts_a_run_as_the_user_and_shows_its_result(
    database: Database, shop: Runner, clients: Clients
) -> None:
    shop.accept_terms(BE, "tests")
    client = signed_in(clients, shop, BOOKKEEPER)

    started = post(client, f"{CUSTOMER}/export", export_form())

    assert started.status_code == 200
    [run] = runs_of(database, BE)
    assert (run.flow, run.trigger, run.started_by) == (
        Flow.CUSTOMER_INVOICES.value,
        Trigger.MANUAL.value,
        BOOKKEEPER,
    )
    assert f"run #{run.id}" in started.text
    assert f'hx-get="{CUSTOMER}/runs/{run.id}?company={BE}"' in started.text
    # No Exact app configured: the run ran (in the background) and stopped.
    result = client.get(f"{CUSTOMER}/runs/{run.id}", params={"company": BE})
    assert result.status_code == 200
    assert "Export stopped" in result.text
    assert "hx-trigger" not in result.text
    assert "The run stopped: LEDGERBRIDGE_EXACT_CLIENT_ID is not set" in result.text
    assert runs_of(database, BE)[0].status == RunStatus.STOPPED.value


class HeldQueue:
    """A run queue whose worker never comes: runs stay queued."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.submitted: list[Any] = []

    def submit(self, request: Any) -> RunInfo:
        self.submitted.append(request)
        return self.runner.start(request, status=RunStatus.QUEUED)


def test_export_is_handed_to_the_run_queue_when_there_is_one(
    database: Database, shop: Runner, clients: Clients
) -> None:
    shop.accept_terms(BE, "tests")
    client = signed_in(clients, shop, BOOKKEEPER)
    queue = HeldQueue(shop)
    client.app.state.run_queue = queue  # type: ignore[attr-defined]

    started = post(client, f"{SUPPLIER}/export", export_form(period="last_month"))

    [request] = queue.submitted
    assert (request.flow, request.started_by) == (Flow.SUPPLIER_INVOICES, BOOKKEEPER)
    assert request.first.day == 1 and request.last.month == request.first.month
    [run] = runs_of(database, BE)
    assert run.status == RunStatus.QUEUED.value
    assert "Waiting for a worker to start the run." in started.text
    polled = client.get(f"{SUPPLIER}/runs/{run.id}", params={"company": BE})
    assert 'hx-trigger="every 1s"' in polled.text


def test_refusals_are_sentences_in_the_dialog(
    database: Database, shop: Runner, clients: Clients
) -> None:
    shop.accept_terms(BE, "tests")
    client = signed_in(clients, shop, BOOKKEEPER)
    today = date.today()  # noqa: DTZ011

    swapped = post(
        client,
        f"{CUSTOMER}/export",
        export_form(**{"from": str(today), "to": str(today - timedelta(days=3))}),
    )
    assert 'role="alert"' in swapped.text and "swap the dates" in swapped.text

    missing = post(client, f"{CUSTOMER}/preview", export_form(to=""))
    assert "fill in both the From and To dates" in missing.text

    not_connected = post(client, f"{CUSTOMER}/preview", export_form())
    assert 'role="alert"' in not_connected.text

    running = shop.start(
        manual_request(BE, Flow.PAYMENTS, today, today, "someone else")
    )
    busy = post(client, f"{CUSTOMER}/export", export_form())
    assert "already running for" in busy.text
    assert f"run #{running.id}" in busy.text
    assert len(runs_of(database, BE)) == 1

    with database.sessions.begin() as session:
        company_id = session.scalar(select(CompanyRow.id).where(CompanyRow.ref == BE))
        session.execute(
            update(AccountingSettingsRow)
            .where(AccountingSettingsRow.company_id == company_id)
            .values(purchase_enabled=False)
        )
    off = post(client, f"{SUPPLIER}/export", export_form())
    assert "Accountancy export" in off.text and "Supplier invoice tab" in off.text
    assert "/financial-settings/accounting-settings?company=" in off.text


def test_run_of_another_company_is_not_found(
    database: Database, shop: Runner, clients: Clients
) -> None:
    shop.accept_terms(NL, "tests")
    today = date.today()  # noqa: DTZ011
    theirs = shop.start(manual_request(NL, Flow.CUSTOMER_INVOICES, today, today, "x"))
    client = signed_in(clients, shop, BOOKKEEPER)

    assert (
        client.get(f"{CUSTOMER}/runs/{theirs.id}", params={"company": BE}).status_code
        == 404
    )
    assert (
        client.get(f"{CUSTOMER}/runs/{theirs.id}", params={"company": NL}).status_code
        == 404
    )


# In the browser


def test_export_dialog_opens_and_closes_from_the_keyboard(page: Page) -> None:
    sign_in(page, BOOKKEEPER)
    page.goto(CUSTOMER)

    page.get_by_role("button", name="Export", exact=True).focus()
    page.keyboard.press("Enter")
    item = page.get_by_role("button", name="Export Accounting information")
    expect(item).to_be_focused()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Export Accounting information")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Company")).to_be_focused()
    expect(dialog.get_by_label("This month")).to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_viewer_has_no_export_button(page: Page) -> None:
    sign_in(page, VIEWER)
    page.goto(CUSTOMER)

    expect(page.get_by_role("heading", level=1)).to_contain_text("Customer invoices")
    expect(
        page.get_by_role("table", name=re.compile("Customer invoices"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Export", exact=True)).to_have_count(0)


# In the browser, against the sandbox


class PausedProgress:
    """Passes a run's progress on, and holds the run after `after`
    documents until `gate` opens."""

    def __init__(self, inner: Progress | None, gate: threading.Event, after: int):
        self.inner, self.gate, self.after, self.done = inner, gate, after, 0

    def start(self, total: int) -> None:
        if self.inner is not None:
            self.inner.start(total)

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None:
        if self.inner is not None:
            self.inner.advance(result, seconds_left)
        self.done += 1
        if self.done == self.after:
            self.gate.wait(timeout=60)


def pause_runs(
    site: Site, monkeypatch: pytest.MonkeyPatch, after: int
) -> threading.Event:
    gate = threading.Event()
    execute = site.runner.execute

    def paused(run_id: int, progress: Progress | None = None) -> RunInfo:
        return execute(run_id, PausedProgress(progress, gate, after))

    monkeypatch.setattr(site.runner, "execute", paused)
    return gate


def open_export(page: Page, menu: str) -> Locator:
    page.get_by_role("button", name=menu, exact=True).click()
    page.get_by_role("button", name="Export Accounting information").click()
    dialog = page.get_by_role("dialog", name="Export Accounting information")
    expect(dialog).to_be_visible()
    return dialog


def choose_custom(dialog: Locator, first: date, last: date) -> None:
    dialog.get_by_label("Custom").check()
    dialog.get_by_label("From").fill(first.isoformat())
    dialog.get_by_label("To", exact=True).fill(last.isoformat())


def test_export_customer_and_supplier_invoices_in_the_browser(
    site: Site, browser: Browser, shoot: Screens, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = site.sandbox.clock.now().date()
    first = today - timedelta(days=100)
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    assert site.entries(BE) == []
    sign_in(page, BOOKKEEPER)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Customer invoices"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Customer invoices")
    table = page.get_by_role("table", name=re.compile("Customer invoices"))
    expect(table.get_by_role("row")).to_have_count(51)  # the header and a page
    shoot(page, "customer invoices")

    # The first export of the company asks for the terms.
    dialog = open_export(page, "Export")
    expect(dialog.get_by_label("Company")).to_have_value(BE)
    choose_custom(dialog, first, today)
    shoot(page, "export dialog", full_page=False)
    dialog.get_by_role("button", name="Preview").click()

    expect(page).to_have_url(re.compile(r"/terms\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms and conditions")
    expect(page.get_by_text("Not accepted yet")).to_be_visible()
    shoot(page, "terms")
    page.get_by_role("button", name="Accept").click()

    # Back with the dialog open on the same period.
    expect(page).to_have_url(re.compile(r"/financial/customer-invoices\?"))
    dialog = page.get_by_role("dialog", name="Export Accounting information")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Custom")).to_be_checked()
    expect(dialog.get_by_label("From")).to_have_value(first.isoformat())

    dialog.get_by_role("button", name="Preview").click()
    problems = dialog.get_by_role("table", name="Problems found")
    expect(problems).to_contain_text("has no code in Exact")
    expect(problems).to_contain_text("has no Exact VAT code")
    expect(dialog.get_by_role("table", name="Documents")).to_contain_text("VAT code")
    problems.scroll_into_view_if_needed()
    shoot(page, "preview", full_page=False)
    assert site.entries(BE) == [], "a preview sends nothing"

    # The run pauses after ten documents, so its progress can be seen.
    gate = pause_runs(site, monkeypatch, after=10)
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text(
        re.compile(r"Documents done: 10 of \d+")
    )
    expect(dialog.get_by_role("progressbar")).to_have_attribute("value", "10")
    shoot(page, "export progress", full_page=False)
    gate.set()
    finished = dialog.get_by_role("heading", name=re.compile("Export finished"))
    expect(finished).to_be_visible()
    counts = dialog.get_by_role("table", name="Export counts")
    booked_row = counts.get_by_role("row", name=re.compile("^Booked"))
    booked = int(booked_row.get_by_role("cell").inner_text())
    failed_row = counts.get_by_role("row", name=re.compile("^Failed"))
    assert int(failed_row.get_by_role("cell").inner_text()) > 0
    failures = dialog.get_by_role("table", name="Failed documents")
    expect(failures).to_contain_text(
        "has no code in Exact: enter its customer number in Leads/Prospect > Contact"
    )
    finished.evaluate("heading => heading.scrollIntoView({block: 'start'})")
    shoot(page, "export result", full_page=False)
    entries = site.entries(BE)
    assert booked > 0 and len(entries) == booked

    # The list shows what happened.
    dialog.get_by_role("button", name="Close").click()
    page.get_by_label("Status").select_option(label="Booked")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text(re.compile(rf"^{booked} documents of"))).to_be_visible()
    expect(page.get_by_text("Exact entry").first).to_be_visible()
    page.get_by_label("Status").select_option(label="Failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("has no code in Exact").first).to_be_visible()
    shoot(page, "failed customer invoices", full_page=False)

    # Supplier invoices: Accounting export > Export Accounting information.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Supplier invoices"
    ).click()
    dialog = open_export(page, "Accounting export")
    choose_custom(dialog, first, today)
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(
        dialog.get_by_role("heading", name=re.compile("Export finished"))
    ).to_be_visible()
    counts = dialog.get_by_role("table", name="Export counts")
    booked_row = counts.get_by_role("row", name=re.compile("^Booked"))
    purchases = int(booked_row.get_by_role("cell").inner_text())
    assert purchases > 0
    assert len(site.entries(BE, "purchase")) == purchases
    shoot(page, "supplier export result", full_page=False)
    context.close()


def test_refusing_the_terms_sends_nothing(
    site: Site, browser: Browser, shoot: Screens
) -> None:
    today = site.sandbox.clock.now().date()
    context = browser.new_context(base_url=site.url, viewport=TABLET)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, BOOKKEEPER)
    page.goto(CUSTOMER)

    dialog = open_export(page, "Export")
    choose_custom(dialog, today - timedelta(days=100), today)
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms and conditions")
    shoot(page, "terms at tablet width")
    page.get_by_role("link", name="Refuse").click()

    expect(page).to_have_url(re.compile(r"/financial/customer-invoices\?"))
    assert site.entries(BE) == []
    assert site.runner.store.runs(BE) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= TABLET["width"], "the page scrolls sideways"
    context.close()
