"""Issue 6's whole flow in a real Chromium, by the labels users see, against
the sandbox: an admin signs in, connects the Belgian company to Exact,
accepts the terms, sets a supplier's booking code, exports the customer and
supplier invoices of a period, pays an invoice in the sandbox's web view,
imports it with a right-click, sees the invoice paid, and fixes a failed
invoice from the history and retries it.

The steps' screenshots are the ones docs/screens.md shows (`-s` prints the
folder)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from ledgerbridge import demo
from ledgerbridge.storage.tables import CompanyRow, DocumentRow, PartyRow
from tests.web.conftest import ADMIN, DESKTOP, Screens, sign_in
from tests.web.site import Site

BE = demo.BE_REF
COMPANY_NAME = "Keukens & Baden"
SUPPLIER = "Drukkerij Van Acker BV"  # the demo leaves its code empty
CUSTOMER = "Dirk Van den Broeck"  # likewise


def test_the_whole_flow_in_the_browser(
    browser: Browser, site_unconnected: Site, shoot: Screens
) -> None:
    site = site_unconnected
    today = site.sandbox.clock.now().date()
    first = today - timedelta(days=100)
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_in(page, ADMIN)
        expect(page.get_by_role("heading", level=1)).to_have_text("Companies")
        shoot(page, "companies")

        connect(page, shoot)
        accept_terms_on_switching_on(page, shoot)
        set_supplier_code(page, shoot)
        booked, failed_number = export_customer_invoices(page, site, first, today)
        shoot(page, "export result", full_page=False)
        export_supplier_invoices(page, site, first, today)

        paid = a_booked_invoice(site)
        pay_in_the_sandbox(page, site, paid.number, f"{paid.total:.2f}")
        shoot(page, "sandbox web view paid", full_page=False)
        page.goto(site.url + "/")
        import_payments_with_a_right_click(page, shoot, str(first), str(today))
        payments = page.get_by_role("table", name=re.compile("Payments of"))
        row = payments.get_by_role("row").filter(has_text=paid.number)
        expect(row).to_contain_text("Paid")
        expect(row).not_to_contain_text("Partly")
        shoot(page, "payments imported")

        fix_and_retry_from_history(page, site, failed_number, shoot)
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Dashboard"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
        shoot(page, "dashboard")
    finally:
        context.close()

    # What the browser did, seen in the sandbox and the database.
    entries = site.entries(BE)
    numbers = [entry.get("YourRef") for entry in entries]
    assert len(numbers) == len(set(numbers)), "an invoice was booked twice"
    assert len(entries) == booked + 1  # the retried invoice
    assert failed_number in numbers
    with site.database.sessions() as session:
        document = session.scalar(select(DocumentRow).where(DocumentRow.id == paid.id))
        assert document is not None
        assert document.payment_status == "paid"
        assert document.paid_amount == paid.total


def connect(page: Page, shoot: Screens) -> None:
    """Financial settings > Accounting settings > Connect, and the
    sandbox's consent form for the Belgian administration."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Accounting settings"
    ).click()
    page.get_by_label("Company").select_option(BE)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY_NAME)
    expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    page.get_by_role("link", name="Connect", exact=True).click()
    page.get_by_label("Username").fill("sandbox")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("checkbox", name="2001 NL").uncheck()
    page.get_by_role("checkbox", name="1001 BE").check()
    shoot(page, "exact consent")
    page.get_by_role("button", name="Sign in and allow").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"is connected to Exact Online, administration 1001\.")
    )
    expect(page.get_by_text("Signed in", exact=True)).to_be_visible()


def accept_terms_on_switching_on(page: Page, shoot: Screens) -> None:
    """Map the VAT scenario the demo leaves open, switch on the daily
    export, save: the terms open, and accepting them comes back here."""
    customer = page.get_by_role("tabpanel", name="Customer invoice")
    customer.get_by_label(re.compile("BE-12 · 12 % intermediate rate")).fill("V12")
    customer.get_by_label("Export automatically daily").check()
    shoot(page, "accounting settings")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms and conditions")
    expect(page.get_by_text("Not accepted yet")).to_be_visible()
    shoot(page, "terms")
    page.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(re.compile(r"/financial-settings/accounting-settings"))
    customer = page.get_by_role("tabpanel", name="Customer invoice")
    expect(customer.get_by_label("Export automatically daily")).to_be_checked()
    expect(customer.get_by_label(re.compile("BE-12 · 12 %"))).to_have_value("V12")


def set_supplier_code(page: Page, shoot: Screens) -> None:
    """Purchase > Supplier > the supplier's dialog > Settings > Specific
    booking codes."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Supplier", exact=True
    ).click()
    choose_company(page)
    page.get_by_label("Search by name or code").fill("Van Acker")
    page.get_by_role("button", name=f"Edit {SUPPLIER}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Settings").click()
    expect(dialog.get_by_role("group", name="Specific booking codes")).to_be_visible()
    code = dialog.get_by_label("Supplier code in Exact (creditor number)")
    code.fill("602010")
    expect(dialog.locator("#exact-code-check")).to_contain_text("will be created")
    shoot(page, "supplier booking codes")
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text=SUPPLIER)
    expect(row).to_contain_text("602010")


def export_customer_invoices(
    page: Page, site: Site, first: object, last: object
) -> tuple[int, str]:
    """Financial > Customer invoices > Export > Export Accounting
    information for a custom period: the booked count and a failed
    invoice's number (the customer without a code)."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Customer invoices"
    ).click()
    choose_company(page)
    dialog = open_export(page, "Export")
    choose_custom(dialog, str(first), str(last))
    dialog.get_by_role("button", name="Preview").click()
    problems = dialog.get_by_role("table", name="Problems found")
    expect(problems).to_contain_text("has no code in Exact")
    assert site.entries(BE) == [], "a preview sends nothing"
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(
        dialog.get_by_role("heading", name=re.compile("Export finished"))
    ).to_be_visible()
    booked = count(dialog, "Booked")
    assert booked > 0 and count(dialog, "Failed") > 0
    assert len(site.entries(BE)) == booked
    failures = dialog.get_by_role("table", name="Failed documents")
    failed = failures.get_by_role("row").filter(has_text=f"{CUSTOMER} (c-1013)")
    found = re.search(r"\bF\d{4}-\d{4}\b", failed.first.inner_text())
    assert found is not None, "no invoice of the customer without a code failed"
    number = found.group(0)
    return booked, number


def export_supplier_invoices(
    page: Page, site: Site, first: object, last: object
) -> None:
    page.keyboard.press("Escape")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Supplier invoices"
    ).click()
    choose_company(page)
    dialog = open_export(page, "Accounting export")
    choose_custom(dialog, str(first), str(last))
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(
        dialog.get_by_role("heading", name=re.compile("Export finished"))
    ).to_be_visible()
    booked = count(dialog, "Booked")
    assert booked > 0
    purchases = site.entries(BE, "purchase")
    assert len(purchases) == booked
    # The supplier whose code was set here is booked under it.
    with site.database.sessions() as session:
        supplier = session.scalar(select(PartyRow).where(PartyRow.name == SUPPLIER))
        assert supplier is not None
        theirs = session.scalars(
            select(DocumentRow).where(DocumentRow.party_id == supplier.id)
        ).all()
    assert theirs and all(doc.booking_status == "booked" for doc in theirs)


def import_payments_with_a_right_click(
    page: Page, shoot: Screens, first: str, last: str
) -> None:
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Payments"
    ).click()
    choose_company(page)
    page.get_by_text("No payments yet").click(button="right")
    menu = page.get_by_role("menu", name="Payment actions")
    expect(menu).to_be_visible()
    shoot(page, "payments right-click", full_page=False)
    menu.get_by_role("menuitem", name="Payments Import").click()
    dialog = page.get_by_role("dialog", name="Payments Import")
    dialog.get_by_label("Custom").check()
    dialog.get_by_label("From").fill(first)
    dialog.get_by_label("To", exact=True).fill(last)
    dialog.get_by_role("button", name="Import").click()
    expect(
        dialog.get_by_role("heading", name=re.compile("Import finished"))
    ).to_be_visible()
    counts = dialog.get_by_role("table", name="Import counts")
    expect(counts.get_by_role("row", name="Payments imported")).to_contain_text("1")
    shoot(page, "payments import result")
    dialog.get_by_role("button", name="Close").click()


def fix_and_retry_from_history(
    page: Page, site: Site, number: str, shoot: Screens
) -> None:
    """History > the open problem > its fix link (the contact's booking
    codes) > save a code > back > Retry: booked."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="History"
    ).click()
    choose_company(page)
    problems = page.get_by_role("table", name="Open problems")
    problem = problems.get_by_role("row").filter(has_text=number)
    expect(problem).to_contain_text("has no code in Exact")
    shoot(page, "history")
    problem.get_by_role("link", name="Leads/Prospect > Contact").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(CUSTOMER)
    page.get_by_role("tab", name="Settings").click()
    page.get_by_label("Customer code in Exact (debtor number)").fill("401013")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved the"))).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="History"
    ).click()
    choose_company(page)
    problem = (
        page.get_by_role("table", name="Open problems")
        .get_by_role("row")
        .filter(has_text=number)
    )
    problem.get_by_role("button", name=f"Retry {number}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Run")
    expect(page.get_by_role("row").filter(has_text=number)).to_contain_text(
        re.compile("[Bb]ooked"), timeout=30_000
    )
    shoot(page, "retried")
    with site.database.sessions() as session:
        document = session.scalar(
            select(DocumentRow)
            .join(CompanyRow)
            .where(CompanyRow.ref == BE, DocumentRow.number == number)
        )
        assert document is not None and document.booking_status == "booked"


# Small steps


def choose_company(page: Page) -> None:
    """The admin sees both companies: the picker chooses the Belgian one."""
    picker = page.get_by_label("Company").first
    if picker.input_value() != BE:
        picker.select_option(BE)
        page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Company").first).to_have_value(BE)


def open_export(page: Page, menu: str) -> Locator:
    page.get_by_role("button", name=menu, exact=True).click()
    page.get_by_role("button", name="Export Accounting information").click()
    dialog = page.get_by_role("dialog", name="Export Accounting information")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Company").select_option(BE)
    return dialog


def choose_custom(dialog: Locator, first: str, last: str) -> None:
    dialog.get_by_label("Custom").check()
    dialog.get_by_label("From").fill(first)
    dialog.get_by_label("To", exact=True).fill(last)


def count(dialog: Locator, outcome: str) -> int:
    counts = dialog.get_by_role("table", name="Export counts")
    row = counts.get_by_role("row", name=re.compile(f"^{outcome}"))
    return int(row.get_by_role("cell").inner_text())


def a_booked_invoice(site: Site) -> DocumentRow:
    with site.database.sessions() as session:
        document = session.scalar(
            select(DocumentRow)
            .join(CompanyRow)
            .where(
                CompanyRow.ref == BE,
                DocumentRow.side == "sales",
                DocumentRow.type == "invoice",
                DocumentRow.booking_status == "booked",
                DocumentRow.total > Decimal("0"),
            )
            .order_by(DocumentRow.issue_date, DocumentRow.id)
            .limit(1)
        )
        assert document is not None
        session.expunge(document)
        return document


def pay_in_the_sandbox(page: Page, site: Site, number: str, amount: str) -> None:
    """In the sandbox's web view (Exact's stand-in), register the payment
    of invoice `number` as the customer's bank would."""
    page.goto(site.sandbox_url + "/_sandbox/ui/")
    page.get_by_role("link", name=str(site.division())).first.click()
    receivables = page.locator(
        "section", has=page.get_by_role("heading", name="Open receivables")
    )
    row = receivables.get_by_role("row").filter(has_text=number)
    row.get_by_label("Amount").fill(amount)
    row.get_by_role("button", name="Register payment").click()
    expect(page.get_by_role("status")).to_contain_text("Registered a payment")
