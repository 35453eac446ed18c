"""*Leads/Prospect > Contact* and *Purchase > Supplier*: the lists of a
company's contacts and suppliers, and the edit dialog's *Accountancy
booking codes* / *Specific booking codes*.

Rights, CSRF, validation and saving through Starlette's TestClient (SQLite
and PostgreSQL); the whole flow against the sandbox in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import cast

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ledgerbridge import booking_codes, demo
from ledgerbridge.booking_codes import Found
from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.errors import RateLimited
from ledgerbridge.intake import CUSTOMER, SUPPLIER
from ledgerbridge.queries import parties as queries
from ledgerbridge.storage.tables import AccountingSettingsRow, CompanyRow, PartyRow
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
from tests.web.site import Site

Clients = Callable[..., TestClient]

CONTACTS = "/leads-prospect/contacts"
SUPPLIERS = "/purchase/suppliers"


@pytest.fixture
def seeded(database: Database) -> Database:
    """The demo companies with their contacts, suppliers and documents, and
    ada (admin), bob (bookkeeper of BE) and vera (viewer of NL)."""
    with database.sessions() as session:
        demo.seed(session, date(2026, 3, 31))
        session.commit()
    add_users(database)
    return database


def party_id(database: Database, company: str, ref: str) -> int:
    with database.sessions() as session:
        found = session.scalar(
            select(PartyRow.id)
            .join(CompanyRow, CompanyRow.id == PartyRow.company_id)
            .where(CompanyRow.ref == company, PartyRow.ref == ref)
        )
    assert found is not None, f"no party {ref} in {company}"
    return found


def stored_codes(database: Database, id_: int) -> tuple[str | None, ...]:
    with database.sessions() as session:
        row = session.get(PartyRow, id_)
        assert row is not None
        return (row.exact_code, row.gl_account, row.vat_scenario, row.cost_centre)


def save_form(token: str, **fields: str) -> dict[str, str]:
    """The booking codes form as the browser sends it."""
    values = {"exact_code": "", "gl_account": "", "vat_scenario": "", "cost_centre": ""}
    values.update(fields)
    if token:
        values["csrf_token"] = token
    return values


# The lists


def test_contacts_list_shows_the_company_s_contacts_only(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), ADMIN)

    page = client.get(CONTACTS, params={"company": BE})

    assert page.status_code == 200
    html = page.text
    assert "Leads/Prospect" in html and "Contact" in html
    assert "Jan Peeters" in html and "Bouwbedrijf Van Damme NV" in html
    assert "<code>1015</code>" in html and "BE0926237261" in html
    assert "Sanne de Vries" not in html  # a contact of the Dutch company
    assert "Contacts 1–20 of 20 in Keukens &amp; Baden Vermeulen BV." in html
    assert 'id="company-picker"' in html  # an admin sees both companies
    # Pending documents are counted: c-1014 has invoices and no code.
    row = re.search(r"Ine Lambrechts</a></th>(.*?)</tr>", html, re.S)
    assert row is not None
    pending = re.search(r'class="number">(\d+)</td>', row.group(1))
    assert pending is not None and int(pending.group(1)) > 0


def test_suppliers_list_shows_the_company_s_suppliers_only(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), ADMIN)

    html = client.get(SUPPLIERS, params={"company": NL}).text

    assert "Sanitairgroothandel Van Wijk B.V." in html
    assert "NL024469087B01" in html
    assert "Sanitair Groothandel Desmet NV" not in html  # a Belgian supplier
    assert "Suppliers 1–10 of 10" in html


def test_list_is_searched_by_name_or_code_and_paged(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)

    by_name = client.get(CONTACTS, params={"company": BE, "q": "peeTERS"}).text
    by_code = client.get(CONTACTS, params={"company": BE, "q": "1017"}).text
    none = client.get(CONTACTS, params={"company": BE, "q": "zzz%"}).text
    second = client.get(CONTACTS, params={"company": BE, "offset": "10"}).text

    assert "Jan Peeters" in by_name and "Els Janssens" not in by_name
    assert "1–1 of 1" in by_name
    assert "Hotel De Zeeparel BV" in by_code and "Jan Peeters" not in by_code
    assert "No contact of Keukens &amp; Baden Vermeulen BV matches" in none
    assert "Contacts 11–20 of 20" in second


def test_list_pages_hold_a_page_each(seeded: Database) -> None:
    with seeded.sessions() as session:
        company = session.scalar(select(CompanyRow).where(CompanyRow.ref == BE))
        assert company is not None
        first = queries.list_parties(session, company, CUSTOMER, limit=8)
        middle = queries.list_parties(session, company, CUSTOMER, offset=8, limit=8)
        last = queries.list_parties(session, company, CUSTOMER, offset=16, limit=8)

    assert (first.first, first.last, first.total) == (1, 8, 20)
    assert (first.previous_offset, first.next_offset) == (None, 8)
    assert (middle.previous_offset, middle.next_offset) == (0, 16)
    assert (last.first, last.last, last.next_offset) == (17, 20, None)
    names = [line.name for page in (first, middle, last) for line in page.lines]
    assert names == sorted(names, key=str.lower) and len(set(names)) == 20


def test_bookkeeper_cannot_see_or_save_another_company_s_party(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    token = form_token(client.get(CONTACTS, params={"company": BE}).text)
    dutch = party_id(seeded, NL, "c-1001")
    before = stored_codes(seeded, dutch)

    listed = client.get(CONTACTS, params={"company": NL})
    opened = client.get(f"{CONTACTS}/{dutch}", params={"company": NL})
    # Through their own company, the Dutch party is not theirs either.
    through_own = client.get(f"{CONTACTS}/{dutch}", params={"company": BE})
    saved = client.post(
        f"{CONTACTS}/{dutch}",
        params={"company": NL},
        data=save_form(token, exact_code="9999"),
    )
    saved_through_own = client.post(
        f"{CONTACTS}/{dutch}",
        params={"company": BE},
        data=save_form(token, exact_code="9999"),
    )

    assert listed.status_code == 404
    assert "Sanne de Vries" not in listed.text
    assert opened.status_code == 404
    assert through_own.status_code == 404
    assert saved.status_code == 404
    assert saved_through_own.status_code == 404
    assert stored_codes(seeded, dutch) == before


def test_contact_is_not_a_supplier(seeded: Database, clients: Clients) -> None:
    client = client_sign_in(clients(), ADMIN)
    contact = party_id(seeded, BE, "c-1001")

    assert (
        client.get(f"{SUPPLIERS}/{contact}", params={"company": BE}).status_code == 404
    )


# The edit dialog


def test_dialog_shows_the_booking_codes_in_its_settings_tab(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    contact = party_id(seeded, BE, "c-1015")
    supplier = party_id(seeded, BE, "s-2001")

    dialog = client.get(
        f"{CONTACTS}/{contact}", params={"company": BE}, headers={"HX-Request": "true"}
    )
    page = client.get(f"{SUPPLIERS}/{supplier}", params={"company": BE})

    assert dialog.status_code == 200
    assert "<html" not in dialog.text  # a fragment for the dialog
    assert 'role="tab"' in dialog.text and ">Settings</button>" in dialog.text
    assert "Accountancy booking codes" in dialog.text
    assert 'value="1015"' in dialog.text and 'value="705000"' in dialog.text
    assert 'value="BE-REVERSE-CHARGE" selected' in dialog.text
    assert ">Save</button>" in dialog.text
    assert page.status_code == 200 and "<html" in page.text  # page of its own
    assert "Specific booking codes" in page.text and 'value="2001"' in page.text


def test_bookkeeper_saves_the_codes(seeded: Database, clients: Clients) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    contact = party_id(seeded, BE, "c-1013")  # no code in the demo
    token = form_token(client.get(f"{CONTACTS}/{contact}", params={"company": BE}).text)

    answer = client.post(
        f"{CONTACTS}/{contact}",
        params={"company": BE},
        data=save_form(
            token,
            exact_code=" 401013 ",
            gl_account="700000",
            vat_scenario="BE-06-RENOVATION",
        ),
    )

    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{CONTACTS}?company={BE}&saved=")
    assert stored_codes(seeded, contact) == (
        "401013",
        "700000",
        "BE-06-RENOVATION",
        None,
    )
    listed = client.get(answer.headers["location"]).text
    assert "Saved the Accountancy booking codes of Dirk Van den Broeck." in listed
    assert "<code>401013</code>" in listed


def test_save_from_the_dialog_sends_the_browser_to_the_list(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), ADMIN)
    supplier = party_id(seeded, NL, "s-2001")
    token = form_token(client.get(SUPPLIERS, params={"company": NL}).text)

    answer = client.post(
        f"{SUPPLIERS}/{supplier}",
        params={"company": NL},
        data=save_form("", exact_code="302001"),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )

    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"].startswith(f"{SUPPLIERS}?company={NL}")
    assert stored_codes(seeded, supplier)[0] == "302001"


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("exact_code", "1234567890123456789", "1 to 18 letters or digits"),
        ("exact_code", "12 34", "without spaces"),
        ("exact_code", "12/34", "1 to 18 letters or digits"),
        ("gl_account", "70 00", "a GL account is 1 to 20"),
        ("cost_centre", "TOOLONGCENTRE", "a cost centre is 1 to 8"),
        ("vat_scenario", "NL-21", "is for NL; use one of"),
    ],
)
def test_invalid_code_is_refused_with_a_sentence(
    seeded: Database, clients: Clients, field: str, value: str, sentence: str
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    contact = party_id(seeded, BE, "c-1001")
    before = stored_codes(seeded, contact)
    token = form_token(client.get(f"{CONTACTS}/{contact}", params={"company": BE}).text)

    answer = client.post(
        f"{CONTACTS}/{contact}",
        params={"company": BE},
        data=save_form(token, **{field: value}),
    )

    assert answer.status_code == 422
    assert "Nothing was saved" in answer.text
    error = re.search(r'class="field-error" id="[a-z-]+-error">([^<]*)<', answer.text)
    assert error is not None
    assert sentence.lower() in error.group(1).lower()
    assert 'aria-invalid="true"' in answer.text
    assert stored_codes(seeded, contact) == before


def test_invalid_code_in_the_dialog_comes_back_into_the_dialog(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    contact = party_id(seeded, BE, "c-1001")
    token = form_token(client.get(CONTACTS, params={"company": BE}).text)

    answer = client.post(
        f"{CONTACTS}/{contact}",
        params={"company": BE},
        data=save_form("", exact_code="x" * 19),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )

    assert answer.status_code == 200  # htmx swaps 2xx only
    assert "<html" not in answer.text
    assert "without spaces" in answer.text and 'value="' + "x" * 19 in answer.text
    assert stored_codes(seeded, contact)[0] == "1001"


def test_viewer_reads_the_codes_and_cannot_save(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), VIEWER)
    contact = party_id(seeded, NL, "c-1001")
    before = stored_codes(seeded, contact)

    opened = client.get(f"{CONTACTS}/{contact}", params={"company": NL})
    token = form_token(opened.text)
    saved = client.post(
        f"{CONTACTS}/{contact}",
        params={"company": NL},
        data=save_form(token, exact_code="9999"),
    )
    checked = client.get(
        f"{CONTACTS}/check-code", params={"company": NL, "exact_code": "1001"}
    )

    assert opened.status_code == 200
    assert 'value="1001"' in opened.text and "readonly" in opened.text
    assert ">Save</button>" not in opened.text
    assert "a bookkeeper or an admin changes them" in opened.text
    assert saved.status_code == 403
    assert "you are signed in as viewer" in saved.text
    assert checked.status_code == 403
    assert stored_codes(seeded, contact) == before


def test_save_without_csrf_token_is_refused(seeded: Database, clients: Clients) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)
    contact = party_id(seeded, BE, "c-1001")

    answer = client.post(
        f"{CONTACTS}/{contact}",
        params={"company": BE},
        data=save_form("", exact_code="9999"),
    )

    assert answer.status_code == 403
    assert stored_codes(seeded, contact)[0] == "1001"


def test_code_check_says_so_when_the_company_is_not_connected(
    seeded: Database, clients: Clients
) -> None:
    client = client_sign_in(clients(), BOOKKEEPER)

    known = client.get(
        f"{CONTACTS}/check-code", params={"company": BE, "exact_code": "1001"}
    )
    bad = client.get(
        f"{SUPPLIERS}/check-code", params={"company": BE, "exact_code": "20 01"}
    )
    empty = client.get(f"{SUPPLIERS}/check-code", params={"company": BE})

    assert known.status_code == 200
    assert 'data-found="not_connected"' in known.text
    assert "cannot be checked until the company is connected" in known.text
    assert "Financial settings &gt; Accounting settings" in known.text
    assert 'data-found="invalid"' in bad.text and "without spaces" in bad.text
    assert 'data-found="empty"' in empty.text


# In the browser, against the sandbox


@pytest.fixture
def desk(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def add_account(site: Site, code: str, name: str, *, supplier: bool) -> None:
    """An account in the Belgian company's sandbox division, through Exact's
    REST API (the demo's parties reach the sandbox only when exported)."""
    client = site.runner.client(BE)
    resources.create_account(
        client,
        resources.NewAccount(
            code=code, name=name, customer=not supplier, supplier=supplier
        ),
    )


def test_bookkeeper_sets_booking_codes_in_the_browser(
    desk: Page, site: Site, shoot: Screens
) -> None:
    page = desk
    add_account(site, "401099", "Keukenhuis Peeters (in Exact)", supplier=False)
    add_account(site, "602001", "Desmet Sanitair (in Exact)", supplier=True)
    sign_in(page, BOOKKEEPER)

    # The contacts, searched.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Contact", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contact")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(21)
    shoot(page, "contacts")
    page.get_by_label("Search by name or code").fill("peeters")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=peeters"))

    # The dialog, opened with the keyboard, its Settings tab.
    edit = page.get_by_role("button", name="Edit Jan Peeters")
    edit.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    general = dialog.get_by_role("tab", name="General")
    expect(general).to_be_focused()
    page.keyboard.press("ArrowRight")
    settings = dialog.get_by_role("tab", name="Settings")
    expect(settings).to_be_focused()
    expect(settings).to_have_attribute("aria-selected", "true")
    expect(
        dialog.get_by_role("group", name="Accountancy booking codes")
    ).to_be_visible()
    code = dialog.get_by_label("Customer code in Exact (debtor number)")
    expect(code).to_have_value("1001")
    check = dialog.locator("#exact-code-check")
    # The stored code is checked as the dialog opens: not in the sandbox yet.
    expect(check).to_contain_text("will be created")

    # A code in Exact shows its name; an unknown one will be created (the
    # demo lets the export create missing customers).
    code.fill("401099")
    expect(check).to_contain_text("In Exact: Keukenhuis Peeters (in Exact).")
    shoot(page, "contact dialog code found")
    code.fill("409999")
    expect(check).to_contain_text("will be created")
    shoot(page, "contact dialog code to create")
    code.fill("12 34")
    expect(check).to_contain_text("without spaces")

    # A refused save keeps the dialog open with the sentence by the field.
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Nothing was saved")).to_be_visible()
    expect(dialog.locator("#exact-code-error")).to_contain_text("without spaces")
    expect(code).to_be_focused()
    shoot(page, "contact dialog refused")

    code.fill("401099")
    expect(check).to_contain_text("Keukenhuis Peeters")
    dialog.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Saved the Accountancy booking codes of Jan Peeters."
    )
    expect(page.get_by_role("dialog")).to_be_hidden()
    row = page.get_by_role("row", name=re.compile("Jan Peeters"))
    expect(row).to_contain_text("401099")
    with site.database.sessions() as session:
        stored = session.scalar(
            select(PartyRow.exact_code)
            .join(CompanyRow, CompanyRow.id == PartyRow.company_id)
            .where(CompanyRow.ref == BE, PartyRow.ref == "c-1001")
        )
    assert stored == "401099"
    shoot(page, "contacts after save")

    # A supplier, briefly.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Supplier", exact=True
    ).click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(11)
    page.get_by_role("button", name="Edit Sanitair Groothandel Desmet NV").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Settings").click()
    expect(dialog.get_by_role("group", name="Specific booking codes")).to_be_visible()
    code = dialog.get_by_label("Supplier code in Exact (creditor number)")
    code.fill("602001")
    expect(dialog.locator("#exact-code-check")).to_contain_text(
        "In Exact: Desmet Sanitair (in Exact)."
    )
    shoot(page, "supplier dialog")
    dialog.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("row", name=re.compile("Sanitair Groothandel Desmet"))
    ).to_contain_text("602001")

    # At tablet width the list and the dialog still fit.
    page.set_viewport_size(TABLET)
    page.get_by_role("button", name="Edit Sanitair Groothandel Desmet NV").press(
        "Enter"
    )
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("tab", name="Settings").click()
    shoot(page, "supplier dialog tablet", full_page=False)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(
        page.get_by_role("button", name="Edit Sanitair Groothandel Desmet NV")
    ).to_be_focused()
    shoot(page, "suppliers tablet")


def test_viewer_sees_the_codes_read_only_in_the_browser(
    page: Page, shoot: Screens
) -> None:
    sign_in(page, VIEWER)
    page.goto(CONTACTS)

    page.get_by_role("button", name="Edit Sanne de Vries").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Settings").click()

    code = dialog.get_by_label("Customer code in Exact (debtor number)")
    expect(code).to_have_value("1001")
    expect(code).not_to_be_editable()
    expect(dialog.get_by_role("button", name="Save")).to_have_count(0)
    shoot(page, "viewer dialog", full_page=False)


# What the code check says, with Exact's answers stood in for


class OneAccount:
    """Stands in for the Exact client: `crm/Accounts` holds `account`, or
    the call raises `error`."""

    def __init__(
        self, account: Mapping[str, object] | None, error: Exception | None = None
    ):
        self.account, self.error, self.calls = account, error, 0

    def get(self, path: str, params: dict[str, str]) -> dict[str, object]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        assert path == "crm/Accounts" and "Code eq" in params["$filter"]
        return {"d": {"results": [self.account] if self.account else []}}


def test_code_check_tells_what_the_export_will_do(seeded: Database) -> None:
    customer = {"Code": "  401099", "Name": "Peeters", "Status": "C"}
    prospect = {"Code": "  401099", "Name": "Peeters", "Status": "P"}
    blocked = {**customer, "Blocked": True}
    supplier = {"Code": "  602001", "Name": "Desmet", "IsSupplier": True}
    limited = RateLimited("GET", "crm/Accounts", 1001, 429, "Too many")

    def ask(role: str, code: str, stand_in: OneAccount) -> booking_codes.CodeLookup:
        with seeded.sessions() as session:
            company = session.scalar(select(CompanyRow).where(CompanyRow.ref == BE))
            assert company is not None
            return booking_codes.look_up(
                session,
                lambda ref: cast(ExactClient, stand_in),
                company,
                role,
                code,
            )

    found = ask(CUSTOMER, "401099", OneAccount(customer))
    assert (found.found, found.name) == (Found.EXISTS, "Peeters")
    assert found.sentence == "In Exact: Peeters."
    assert ask(CUSTOMER, "401099", OneAccount(prospect)).found is Found.WRONG_KIND
    assert (
        "set its status to Customer"
        in ask(CUSTOMER, "1", OneAccount(prospect)).sentence
    )
    assert "blocked" in ask(CUSTOMER, "401099", OneAccount(blocked)).sentence
    assert ask(SUPPLIER, "602001", OneAccount(supplier)).found is Found.EXISTS
    assert "not a supplier" in ask(SUPPLIER, "401099", OneAccount(customer)).sentence
    # The demo lets the export create missing customers and suppliers ...
    assert ask(CUSTOMER, "409999", OneAccount(None)).found is Found.WILL_BE_CREATED
    # ... and without that, a missing code is unknown, with where to fix it.
    with seeded.sessions() as session:
        for row in session.scalars(select(AccountingSettingsRow)):
            row.sales_create_missing = row.purchase_create_missing = False
        session.commit()
    unknown = ask(SUPPLIER, "609999", OneAccount(None))
    assert unknown.found is Found.UNKNOWN
    assert "create missing suppliers in Exact' on the Supplier invoice tab" in (
        unknown.sentence
    )
    busy = ask(CUSTOMER, "401099", OneAccount(None, limited))
    assert busy.found is Found.NOT_CHECKED and "cannot be checked now" in busy.sentence
    # A code that breaks Exact's rules is not asked about.
    never = OneAccount(customer)
    assert ask(CUSTOMER, "40 10", never).found is Found.INVALID
    assert never.calls == 0
