"""The layout every page stands on, in a real Chromium: the navigation with
the screen names users know, each screen reachable, a company's page, and
the tablet width."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import ADMIN, BOOKKEEPER, NL, TABLET, Screens, sign_in

MENU = {
    None: ["Companies", "Dashboard"],
    "Financial": ["Customer invoices", "Supplier invoices", "Payments"],
    "Financial settings": ["Accounting settings"],
    "Leads/Prospect": ["Contact"],
    "Purchase": ["Supplier"],
}


def test_navigation_names_the_screens_users_know(page: Page, shoot: Screens) -> None:
    sign_in(page, ADMIN)
    nav = page.get_by_role("navigation", name="Main")

    for section, labels in MENU.items():
        if section:
            expect(nav.get_by_role("heading", name=section, exact=True)).to_be_visible()
        for label in labels:
            expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="History", exact=True)).to_be_visible()

    # Every screen opens, says what it is, and marks itself in the menu; a
    # screen still to come would say so instead.
    screens = [label for labels in MENU.values() for label in labels][1:]
    placeholders = []
    for label in [*screens, "History"]:
        nav.get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(label)
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        if page.get_by_text(re.compile("screen is coming", re.IGNORECASE)).count():
            placeholders.append(label)
        shoot(page, label)
    assert not placeholders, f"still placeholders: {placeholders}"


def test_admin_sees_every_company_and_opens_one(page: Page, shoot: Screens) -> None:
    sign_in(page, ADMIN)
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # header and two companies
    shoot(page, "start as admin")

    table.get_by_role("link", name=re.compile("Badkamers")).click()

    expect(page).to_have_url(re.compile(rf"/companies/{NL}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Badkamers")
    expect(page.get_by_text("Europe/Amsterdam")).to_be_visible()
    shoot(page, "company")


def test_other_company_is_not_found(page: Page, shoot: Screens) -> None:
    sign_in(page, BOOKKEEPER)

    response = page.goto(f"/companies/{NL}")

    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("that you may see")
    shoot(page, "not found")


def test_pages_carry_htmx_and_the_csrf_header(page: Page) -> None:
    sign_in(page, BOOKKEEPER)

    assert page.evaluate("() => window.htmx && window.htmx.version") == "2.0.11"
    headers = page.locator("body").get_attribute("hx-headers")
    assert headers is not None and '"X-CSRF-Token"' in headers


def test_tablet_width_puts_the_menu_above(page: Page, shoot: Screens) -> None:
    page.set_viewport_size(TABLET)
    sign_in(page, BOOKKEEPER)

    nav = page.get_by_role("navigation", name="Main").bounding_box()
    main = page.get_by_role("main").bounding_box()
    assert nav is not None and main is not None
    assert nav["y"] + nav["height"] <= main["y"] + 1
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= TABLET["width"], "the page scrolls sideways"
    shoot(page, "start at tablet width")
