"""Financial > Payments: the list with each invoice's payment state, and
*Payments Import* started from the page through the real runner against the
sandbox (both databases); and the whole flow in a real Chromium: pay in the
sandbox's web view, import with the right-click, see the invoices paid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import func, select, update

from ledgerbridge.queries import payments as queries
from ledgerbridge.runner import Runner
from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    CompanyRow,
    DocumentRow,
    RunRow,
)
from ledgerbridge.sync import runs as run_rules
from ledgerbridge.sync.model import Flow, RunInfo, RunRequest, RunStatus, Trigger
from ledgerbridge.web.pages.companies import company_today
from tests.sync.conftest import BE, NL, Env, env  # noqa: F401 - the fixture
from tests.web.conftest import (
    ADMIN,
    BOOKKEEPER,
    DESKTOP,
    TABLET,
    VIEWER,
    Screens,
    add_users,
    client_sign_in,
    form_token,
    sign_in,
    web_app,
)
from tests.web.site import Site

PATH = "/financial/payments"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def web(env: Env) -> Iterator[Env]:  # noqa: F811 - uses the imported fixture
    add_users(env.database)
    yield env


def client_for(world: Env, username: str) -> TestClient:
    app = web_app(world.database)
    app.state.runner = world.runner
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client_sign_in(client, username)


@pytest.fixture
def bob(web: Env) -> Iterator[TestClient]:
    client = client_for(web, BOOKKEEPER)
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def vera(web: Env) -> Iterator[TestClient]:
    client = client_for(web, VIEWER)
    yield client
    client.__exit__(None, None, None)


def booked_invoices(world: Env, company: str = BE) -> list[DocumentRow]:
    with world.database.sessions() as session:
        return list(
            session.scalars(
                select(DocumentRow)
                .join(CompanyRow)
                .where(
                    CompanyRow.ref == company,
                    DocumentRow.side == "sales",
                    DocumentRow.type == "invoice",
                    DocumentRow.booking_status == "booked",
                )
                .order_by(DocumentRow.issue_date.desc(), DocumentRow.id.desc())
            )
        )


def export_and_pay(world: Env) -> tuple[DocumentRow, DocumentRow]:
    """Book the BE customer invoices; pay the newest in full (today) and the
    next one partly (yesterday's date, so listed after)."""
    world.accept_terms(BE)
    world.run(Flow.CUSTOMER_INVOICES, BE)
    paid, partly = booked_invoices(world)[:2]
    world.pay(str(paid.booking_entry_id), str(paid.total), day=str(world.today))
    yesterday = world.today.fromordinal(world.today.toordinal() - 1)
    world.pay(str(partly.booking_entry_id), "100.00", day=str(yesterday))
    return paid, partly


def import_form(page_html: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": form_token(page_html), "company": BE, **fields}


def runs_of(world: Env, flow: Flow) -> int:
    with world.database.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RunRow)
                .where(RunRow.flow == flow.value)
            )
            or 0
        )


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def test_the_list_shows_payments_newest_first_with_the_invoice_state(
    web: Env, bob: TestClient
) -> None:
    paid, partly = export_and_pay(web)
    web.run(Flow.PAYMENTS, BE)

    answer = bob.get(f"{PATH}?company={BE}")

    assert answer.status_code == 200
    html = answer.text
    assert "2 payments of" in html
    rows = re.findall(r"<tr data-payment-row>(.*?)</tr>", html, re.S)
    assert len(rows) == 2
    assert paid.number in rows[0] and ">Paid<" in rows[0]
    assert money(paid.total) in rows[0] and str(web.today) in rows[0]
    assert partly.number in rows[1] and ">Partly paid<" in rows[1]
    assert f"open {money(partly.total - Decimal('100.00'))}" in rows[1]
    assert "EUR 100.00" in rows[1]
    # A page at a time, newest first.
    with web.database.sessions() as session:
        second = queries.list_payments(
            session, _company_id(web, BE), page=2, page_size=1
        )
    assert (second.total, second.pages, second.page) == (2, 2, 2)
    assert [line.number for line in second.lines] == [partly.number]
    # The summary: one paid, one partly paid to follow up.
    assert re.search(r"Paid</span></th>\s*<td class=\"amount\">1<", html)
    assert re.search(r"Partly paid</span></th>\s*<td class=\"amount\">1<", html)
    assert "Still to pay" in html
    # The import is offered: the menu, its buttons and the dialog.
    assert 'role="menu"' in html and 'role="menuitem"' in html
    assert 'id="import-dialog"' in html


def test_payments_import_from_the_page_updates_the_invoices(
    web: Env, bob: TestClient
) -> None:
    paid, partly = export_and_pay(web)
    page = bob.get(f"{PATH}?company={BE}").text
    first, last = web.period()

    started = bob.post(
        f"{PATH}/import",
        data=import_form(
            page, period="custom", **{"from": str(first), "to": str(last)}
        ),
        headers=HTMX,
    )

    assert started.status_code == 200, started.text
    run_id = int(re.search(r"run #(\d+)", started.text).group(1))  # type: ignore[union-attr]
    # The background task ran before the answer came back: poll once.
    shown = bob.get(f"{PATH}/runs/{run_id}?company={BE}", headers=HTMX)
    assert "Import finished" in shown.text
    assert re.search(r"Payments imported</th><td>2<", shown.text)
    assert re.search(r"Invoices updated</th><td>2<", shown.text)
    assert paid.number in shown.text and partly.number in shown.text
    assert shown.headers["HX-Trigger"] == "payments-imported"
    assert 'hx-trigger="every 1s"' not in shown.text
    assert web.document(paid.number).payment_status == "paid"
    assert web.document(partly.number).payment_status == "partly_paid"
    run = web.runner.store.run(run_id)
    assert run.started_by == BOOKKEEPER and run.trigger is Trigger.MANUAL
    assert (run.first, run.last) == (first, last)
    # The list fragment the page reloads shows them.
    listed = bob.get(f"{PATH}/list?company={BE}", headers=HTMX).text
    assert ">Paid<" in listed and ">Partly paid<" in listed


def test_the_month_choices_import_that_month(web: Env, bob: TestClient) -> None:
    web.accept_terms(BE)
    page = bob.get(f"{PATH}?company={BE}").text

    bob.post(f"{PATH}/import", data=import_form(page, period="last_month"))

    with web.database.sessions() as session:
        company = session.scalar(select(CompanyRow).where(CompanyRow.ref == BE))
        assert company is not None
        expected = run_rules.last_month(company_today(company))
    [run] = web.runner.store.runs(BE, 10, 0)
    assert (run.flow, run.first, run.last) == (Flow.PAYMENTS, *expected)


class RecordingQueue:
    """A run queue as `ledgerbridge serve` sets one: the run is created
    queued, for a worker to execute."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.submitted: list[RunRequest] = []

    def submit(self, request: RunRequest) -> RunInfo:
        self.submitted.append(request)
        return self.runner.start(request, status=RunStatus.QUEUED)


def test_with_a_run_queue_the_import_is_queued_not_run_here(web: Env) -> None:
    web.accept_terms(BE)
    app = web_app(web.database)
    app.state.runner = web.runner
    app.state.run_queue = queue = RecordingQueue(web.runner)
    with TestClient(app, follow_redirects=False) as client:
        client_sign_in(client, BOOKKEEPER)
        page = client.get(f"{PATH}?company={BE}").text
        answer = client.post(
            f"{PATH}/import", data=import_form(page, period="this_month"), headers=HTMX
        )

    assert "Waiting for a worker" in answer.text
    assert 'hx-trigger="every 1s"' in answer.text
    [request] = queue.submitted
    assert (request.flow, request.started_by) == (Flow.PAYMENTS, BOOKKEEPER)
    [run] = web.runner.store.runs(BE, 10, 0)
    assert run.status is RunStatus.QUEUED


def test_refusals_are_sentences_saying_what_to_fix(web: Env, bob: TestClient) -> None:
    web.accept_terms(BE)
    page = bob.get(f"{PATH}?company={BE}").text

    custom = bob.post(
        f"{PATH}/import", data=import_form(page, period="custom"), headers=HTMX
    )
    assert "fill in both the From and To dates" in custom.text

    with web.database.sessions.begin() as session:
        session.execute(
            update(AccountingSettingsRow)
            .where(AccountingSettingsRow.company_id == _company_id(web, BE))
            .values(payments_enabled=False)
        )
    disabled = bob.post(
        f"{PATH}/import", data=import_form(page, period="this_month"), headers=HTMX
    )
    assert (
        "tick Payments Import on Financial settings &gt; Accounting settings &gt; "
        "Payments tab" in disabled.text
    )
    assert "/financial-settings/accounting-settings?company=" in disabled.text
    assert runs_of(web, Flow.PAYMENTS) == 0


def test_a_run_in_progress_is_named_and_followed(web: Env, bob: TestClient) -> None:
    web.accept_terms(BE)
    first, last = web.period()
    going = web.runner.start(
        RunRequest(BE, Flow.PAYMENTS, first, last, Trigger.MANUAL, "someone")
    )
    page = bob.get(f"{PATH}?company={BE}").text

    answer = bob.post(
        f"{PATH}/import", data=import_form(page, period="this_month"), headers=HTMX
    )

    assert f"run #{going.id}" in answer.text
    assert "Wait for it to finish" in answer.text
    assert f"{PATH}/runs/{going.id}?company={BE}" in answer.text
    assert runs_of(web, Flow.PAYMENTS) == 1


def test_terms_not_accepted_sends_to_the_terms(web: Env, bob: TestClient) -> None:
    page = bob.get(f"{PATH}?company={BE}").text
    form = import_form(page, period="this_month")

    by_htmx = bob.post(f"{PATH}/import", data=form, headers=HTMX)
    by_form = bob.post(f"{PATH}/import", data=form)

    for target in (by_htmx.headers.get("HX-Redirect"), by_form.headers["location"]):
        assert target is not None
        parts = urlsplit(target)
        assert parts.path == "/terms"
        assert parse_qs(parts.query) == {
            "company": [BE],
            "next": [f"{PATH}?company={BE}"],
        }
    assert by_form.status_code == 303
    assert runs_of(web, Flow.PAYMENTS) == 0


def test_a_bookkeeper_of_one_company_cannot_see_or_import_anothers(
    web: Env, bob: TestClient
) -> None:
    web.accept_terms(NL)
    page = bob.get(f"{PATH}?company={BE}").text

    seen = bob.get(f"{PATH}?company={NL}")
    listed = bob.get(f"{PATH}/list?company={NL}")
    imported = bob.post(
        f"{PATH}/import",
        data={**import_form(page, period="this_month"), "company": NL},
    )

    assert seen.status_code == listed.status_code == imported.status_code == 404
    assert runs_of(web, Flow.PAYMENTS) == 0
    # Nor is NL among the companies the dialog offers.
    assert f'value="{NL}"' not in page


def test_a_bookkeeper_cannot_follow_another_companys_run(
    web: Env, bob: TestClient
) -> None:
    web.accept_terms(NL)
    first, last = web.period()
    theirs = web.runner.run(
        RunRequest(NL, Flow.PAYMENTS, first, last, Trigger.MANUAL, "nl")
    )

    assert bob.get(f"{PATH}/runs/{theirs.id}?company={NL}").status_code == 404
    assert bob.get(f"{PATH}/runs/{theirs.id}?company={BE}").status_code == 404


def test_a_viewer_sees_the_list_without_the_import(web: Env, vera: TestClient) -> None:
    web.accept_terms(NL)
    answer = vera.get(f"{PATH}?company={NL}")

    assert answer.status_code == 200
    assert "0 payments of" in answer.text
    assert "Invoices in Exact by payment state" in answer.text
    assert "Payments Import" not in answer.text
    assert "data-actions" not in answer.text
    assert 'id="import-dialog"' not in answer.text
    refused = vera.post(
        f"{PATH}/import",
        data={
            "csrf_token": form_token(answer.text),
            "company": NL,
            "period": "this_month",
        },
    )
    assert refused.status_code == 403
    assert "bookkeeper" in refused.text
    assert runs_of(web, Flow.PAYMENTS) == 0


def test_an_import_without_the_csrf_token_is_refused(web: Env, bob: TestClient) -> None:
    web.accept_terms(BE)

    refused = bob.post(f"{PATH}/import", data={"company": BE, "period": "this_month"})
    wrong = bob.post(
        f"{PATH}/import",
        data={"company": BE, "period": "this_month", "csrf_token": "x" * 43},
    )

    assert refused.status_code == wrong.status_code == 403
    assert runs_of(web, Flow.PAYMENTS) == 0


def test_an_admin_picks_either_company(web: Env) -> None:
    client = client_for(web, ADMIN)
    try:
        page = client.get(f"{PATH}?company={NL}").text
    finally:
        client.__exit__(None, None, None)
    assert f'<option value="{BE}"' in page
    assert f'<option value="{NL}" selected' in page


def _company_id(world: Env, ref: str) -> int:
    with world.database.sessions() as session:
        found = session.scalar(select(CompanyRow.id).where(CompanyRow.ref == ref))
        assert found is not None
        return found


# In the browser


def viewport(size: dict[str, int]) -> ViewportSize:
    return ViewportSize(width=size["width"], height=size["height"])


def pay_in_the_sandbox(page: Page, site: Site, number: str, amount: str) -> None:
    """Register a payment on the open receivable of invoice `number` in the
    sandbox's web view, as the customer's bank would have it."""
    page.goto(site.sandbox_url + "/_sandbox/ui/")
    page.get_by_role("link", name=str(site.division())).first.click()
    receivables = page.locator(
        "section", has=page.get_by_role("heading", name="Open receivables")
    )
    row = receivables.get_by_role("row").filter(has_text=number)
    row.get_by_label("Amount").fill(amount)
    row.get_by_role("button", name="Register payment").click()
    expect(page.get_by_role("status")).to_contain_text("Registered a payment")


def test_payments_import_flow_in_the_browser(
    site: Site, browser: Browser, shoot: Screens
) -> None:
    # Set up: the terms accepted and last month's customer invoices booked.
    today = site.sandbox.clock.now().date()
    first, last = run_rules.last_month(today)
    site.runner.accept_terms(BE, "tests")
    exported = site.runner.run(
        RunRequest(BE, Flow.CUSTOMER_INVOICES, first, last, Trigger.MANUAL, "tests")
    )
    assert exported.counts.booked > 2, exported
    with site.database.sessions() as session:
        paid, partly = session.scalars(
            select(DocumentRow)
            .where(
                DocumentRow.booking_status == "booked",
                DocumentRow.side == "sales",
                DocumentRow.type == "invoice",
            )
            .order_by(DocumentRow.issue_date, DocumentRow.id)
            .limit(2)
        ).all()
    partly_open = partly.total - Decimal("100.00")

    context = browser.new_context(base_url=site.url, viewport=viewport(DESKTOP))
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        # In Exact (the sandbox): one invoice paid in full, one partly.
        pay_in_the_sandbox(page, site, paid.number, f"{paid.total:.2f}")
        shoot(page, "sandbox paid in full")
        pay_in_the_sandbox(page, site, partly.number, "100,00")
        shoot(page, "sandbox partly paid")

        # In ledgerbridge: Financial > Payments, right-click > Payments Import.
        sign_in(page, BOOKKEEPER)
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Payments"
        ).click()
        expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()
        expect(page.get_by_text("No payments yet")).to_be_visible()
        shoot(page, "payments empty")
        # No payment yet to right-click: the toolbar's Actions menu.
        page.get_by_role("button", name="Actions", exact=True).click()
        menu = page.get_by_role("menu", name="Payment actions")
        expect(menu).to_be_visible()
        menu.get_by_role("menuitem", name="Payments Import").click()
        dialog = page.get_by_role("dialog", name="Payments Import")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Company")).to_have_value(BE)
        dialog.get_by_label("Last month").check()
        expect(dialog.get_by_label("From")).to_have_value(str(first))
        shoot(page, "payments import dialog")
        dialog.get_by_role("button", name="Import").click()
        expect(
            dialog.get_by_role("heading", name=re.compile("Import finished"))
        ).to_be_visible()
        counts = dialog.get_by_role("table", name="Import counts")
        expect(counts.get_by_role("row", name="Payments imported")).to_contain_text("2")
        expect(counts.get_by_role("row", name="Invoices updated")).to_contain_text("2")
        shoot(page, "payments import result")
        dialog.get_by_role("button", name="Close").click()

        # The list reloaded: the paid invoice paid, the other partly paid.
        payments = page.get_by_role("table", name=re.compile("Payments of"))
        paid_row = payments.get_by_role("row").filter(has_text=paid.number)
        partly_row = payments.get_by_role("row").filter(has_text=partly.number)
        expect(paid_row).to_contain_text("Paid")
        expect(paid_row).not_to_contain_text("Partly")
        expect(partly_row).to_contain_text(f"Partly paid open {partly_open:,.2f}")
        shoot(page, "payments listed")

        # Right-click a payment opens the same menu where the pointer is.
        paid_row.get_by_role("cell").first.click(button="right")
        expect(menu).to_be_visible()
        expect(menu.get_by_role("menuitem", name="Payments Import")).to_be_focused()
        shoot(page, "payment context menu", full_page=False)
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()

        # By keyboard only: Tab to a row's Actions, Enter, arrows, Escape.
        actions = payments.get_by_role(
            "button", name=f"Actions for the payment on {partly.number}"
        )
        actions.focus()
        page.keyboard.press("Enter")
        item = menu.get_by_role("menuitem", name="Payments Import")
        expect(item).to_be_focused()
        expect(actions).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("ArrowDown")
        expect(item).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(actions).to_be_focused()
        page.keyboard.press("Space")
        expect(item).to_be_focused()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Company")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        # At a tablet's width the list and the menu still work.
        page.set_viewport_size(viewport(TABLET))
        actions.click()
        expect(menu).to_be_visible()
        shoot(page, "payments tablet")
    finally:
        context.close()

    with site.database.sessions() as session:
        states = {
            row.number: (row.payment_status, row.paid_amount)
            for row in session.scalars(
                select(DocumentRow).where(DocumentRow.id.in_([paid.id, partly.id]))
            )
        }
    assert states[paid.number] == ("paid", paid.total)
    assert states[partly.number] == ("partly_paid", Decimal("100.00"))
