"""Signing in and out in a real Chromium, by the labels users see, with the
keyboard too."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import (
    BOOKKEEPER,
    DESKTOP,
    PASSWORD,
    Screens,
    sign_in,
)

BE_NAME = "Keukens"  # part of the Belgian demo company's name
NL_NAME = "Badkamers"


def test_sign_in_by_labels_shows_own_companies(page: Page, shoot: Screens) -> None:
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, "sign-in")

    sign_in(page, BOOKKEEPER)

    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=re.compile(BE_NAME))).to_be_visible()
    expect(table).not_to_contain_text(NL_NAME)
    expect(page.get_by_text(f"Signed in as {BOOKKEEPER}")).to_be_visible()
    shoot(page, "start")


def test_sign_in_comes_back_to_the_page_asked_for(page: Page) -> None:
    page.goto("/financial/payments")

    expect(page).to_have_url(re.compile(r"/sign-in\?next=/financial/payments$"))
    page.get_by_label("Username").fill(BOOKKEEPER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/financial/payments$"))
    expect(page.get_by_role("heading", name=re.compile("Payments"))).to_be_visible()


def test_sign_in_with_wrong_password_says_so(page: Page, shoot: Screens) -> None:
    sign_in(page, BOOKKEEPER, "not the password at all")

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(re.compile("username or password is not right"))
    expect(page.get_by_label("Username")).to_have_value(BOOKKEEPER)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    shoot(page, "wrong password")

    # The form works again at once.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()


def test_sign_out_ends_the_session(
    page: Page, browser: Browser, base_url: str, shoot: Screens
) -> None:
    sign_in(page, BOOKKEEPER)
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    cookies = page.context.cookies()

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=true$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    shoot(page, "signed out")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))

    # The cookie the browser had no longer opens anything.
    other = browser.new_context(base_url=base_url, viewport=DESKTOP)
    try:
        other.add_cookies(cookies)
        stale = other.new_page()
        stale.goto("/")
        expect(stale).to_have_url(re.compile(r"/sign-in$"))
    finally:
        other.close()


FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    id: element.id,
    tag: element.tagName.toLowerCase(),
    text: (element.textContent || "").trim(),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
  };
}"""


def test_keyboard_reaches_the_form_with_visible_focus(
    page: Page, shoot: Screens
) -> None:
    page.goto("/sign-in")
    # From the top of the page: the first stop is the skip link.
    page.get_by_role("link", name="Skip to the content").focus()

    reached = [page.evaluate(FOCUSED)]
    for _ in range(8):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        reached.append(focused)
        if focused["tag"] == "button":
            break

    names = [f["id"] or f["text"] for f in reached]
    assert names[0] == "Skip to the content", names
    assert names[-3:] == ["username", "password", "Sign in"], names
    for focused in reached:
        assert focused["outline"] != "none", focused
        assert focused["width"] >= 2, focused
    shoot(page, "focus on the button", full_page=False)

    # Typing and Enter sign in, without the mouse.
    page.get_by_label("Username").focus()
    page.keyboard.type(BOOKKEEPER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
