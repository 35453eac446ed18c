"""The web pages on a real socket, and a real Chromium to drive them.

Browser tests drive Debian's Chromium (`/usr/bin/chromium`, installed by
`./dev test` when missing), never a browser build of Playwright's own.
Without it they are skipped, with the reason, unless
LEDGERBRIDGE_TEST_REQUIRE_BROWSER is set (as CI sets it): then they fail.

Every screenshot goes to one folder per test run, printed at the end:
LEDGERBRIDGE_SCREENSHOTS when set, else `screens/` in pytest's base
temporary folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from ledgerbridge import demo, users
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.web.app import create_app
from ledgerbridge.web.pages.sessions import use_session_key
from ledgerbridge.wiring import Database
from tests.serving import serve

if TYPE_CHECKING:
    from tests.web.site import Site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Read once at import: the suite's autouse fixture clears LEDGERBRIDGE_*
# variables around every test.
REQUIRE_BROWSER = bool(os.environ.get("LEDGERBRIDGE_TEST_REQUIRE_BROWSER"))
SCREENSHOTS = os.environ.get("LEDGERBRIDGE_SCREENSHOTS")

SESSION_KEY = "test-session-key-" + "x" * 32
PASSWORD = "correct horse battery staple"
ADMIN, BOOKKEEPER, VIEWER = "ada", "bob", "vera"
BE, NL = demo.BE_REF, demo.NL_REF

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

_screens: list[Path] = []


CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: the tests hash many passwords. The real
    parameters are tested in tests/test_users.py."""
    monkeypatch.setattr(users, "HASHER", CHEAP_HASHER)


def add_users(database: Database) -> None:
    """An admin, a bookkeeper of the Belgian company, a viewer of the Dutch."""
    with database.sessions() as session:
        users.create_user(session, ADMIN, PASSWORD, "admin")
        users.create_user(session, BOOKKEEPER, PASSWORD, "bookkeeper", [BE])
        users.create_user(session, VIEWER, PASSWORD, "viewer", [NL])
        session.commit()


def web_app(database: Database) -> FastAPI:
    app = create_app(database.sessions)
    use_session_key(app, SESSION_KEY)
    return app


# A served app with the demo data


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """SQLite with the demo companies, their data, and the three users."""
    path = tmp_path_factory.mktemp("web") / "ledgerbridge.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    database = Database(engine, make_session_factory(engine))
    with database.sessions() as session:
        demo.seed(session, date.today())  # noqa: DTZ011 - as the demo does
        session.commit()
    real, users.HASHER = users.HASHER, CHEAP_HASHER
    try:
        add_users(database)
    finally:
        users.HASHER = real
    yield database
    engine.dispose()


@pytest.fixture(scope="session")
def base_url(demo_database: Database) -> Iterator[str]:
    with serve(web_app(demo_database)) as url:
        yield url


# The browser


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's Chromium "
            "('apt-get install chromium'; ./dev test does it as root)"
        )
        if REQUIRE_BROWSER:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop size on the app."""
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


# Screenshots


@pytest.fixture(scope="session")
def screens_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
    else:
        folder = tmp_path_factory.getbasetemp() / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Screens:
    """Takes numbered screenshots named after the test and the page."""

    folder: Path
    test: str
    taken: int = 0

    def __call__(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        self.taken += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.folder / f"{self.test}-{self.taken:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=full_page)
        _screens.append(path)
        return path


@pytest.fixture
def shoot(screens_dir: Path, request: pytest.FixtureRequest) -> Screens:
    test = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return Screens(screens_dir, test.removeprefix("test-"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _screens:
        terminalreporter.write_sep("-", "screenshots")
        terminalreporter.write_line(
            f"{len(_screens)} screenshots in {_screens[0].parent}"
        )


# Signing in


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, by the labels users see."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None, "no csrf_token field in the page"
    return found.group(1)


def client_sign_in(
    client: TestClient, username: str, password: str = PASSWORD
) -> TestClient:
    """Sign `client` in through the form; its cookie jar keeps the session."""
    token = form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def clients(database: Database) -> Iterator[Callable[..., TestClient]]:
    """TestClients on the app (both databases), which do not follow
    redirects; closed at the end."""
    app = web_app(database)
    made: list[TestClient] = []

    def make(base_url: str = "http://testserver") -> TestClient:
        client = TestClient(app, base_url=base_url, follow_redirects=False)
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


# The whole product (sandbox, app, runner) for the flows in the browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The demo companies connected to the sandbox, the app served with a
    runner, on SQLite (tests/web/site.py)."""
    from tests.web.site import open_site

    with open_site(tmp_path) as opened:
        yield opened


@pytest.fixture
def site_unconnected(tmp_path: Path) -> Iterator[Site]:
    """As `site`, with no company connected to Exact yet."""
    from tests.web.site import open_site

    with open_site(tmp_path, connected=False) as opened:
        yield opened
