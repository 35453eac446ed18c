"""The demo's Exact Online: the bundled sandbox, served in this process, with
a division per demo company, an app, and both companies connected to it.

`ledgerbridge demo` serves the sandbox on its own port from a thread
(`ServerThread`), its state kept in the data folder (`sandbox.sqlite3`, the
file `ledgerbridge sandbox serve --state` uses), then `set_up`:

* creates the divisions that are missing: 1001 from the BE template for
  be-keukens, 2001 from the NL template for nl-badkamers;
* registers an app unless the one in `demo-exact-app.json` (data folder,
  0600) is still known to the sandbox with the same redirect URI; every
  command falls back to that file's client ID and secret when the
  environment sets neither (`Settings.exact_credentials`). Its redirect URI
  is the demo web app's `/exact/callback` (`web_redirect_uri`), so *Connect*
  on *Accounting settings* works in the demo's browser;
* connects each company through the OAuth flow a person goes through: the
  sign-in page, its form posted as the sandbox's user with the company's
  division ticked, the redirect's code exchanged (`wiring.connect_company`).
  A connection that still answers is kept;
* accepts the terms and conditions for each company as user "demo".

Everything is looked up before it is made, so a second start on the same
data folder adds nothing and reconnects only what needs it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import structlog
import uvicorn
from pydantic import SecretStr

from ledgerbridge import wiring
from ledgerbridge.accounting_setup import CALLBACK_PATH
from ledgerbridge.demo.model import BE_REF, NL_REF
from ledgerbridge.exact import resources
from ledgerbridge.exact.connect import DivisionNotChosen, RedirectSource
from ledgerbridge.exact.errors import ExactError
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import DEMO_APP_FILE, MissingSetting, Settings
from ledgerbridge.storage.secrets import SecretKeyError
from ledgerbridge.sync.errors import SyncError

logger = structlog.get_logger(__name__)

STATE_FILE = "sandbox.sqlite3"
SANDBOX_USER = "sandbox"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105 - the sandbox's documented demo user
TERMS_USER = "demo"
START_SECONDS = 15.0
STOP_SECONDS = 10.0
AUTH_PATH = "/api/oauth2/auth"


@dataclass(frozen=True, slots=True)
class DemoDivision:
    code: int
    template: str
    name: str


DIVISIONS = {
    BE_REF: DemoDivision(1001, "BE", "BE Keukens (demo)"),
    NL_REF: DemoDivision(2001, "NL", "NL Badkamers (demo)"),
}


class DemoSetupError(Exception):
    """The demo's sandbox could not be set up; the message says why."""


# Serving


def client_host(host: str) -> str:
    """Where a client on this machine reaches a server listening on `host`."""
    if host in {"0.0.0.0", ""}:  # noqa: S104 - recognised, not bound
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, for uvicorn to listen on; `OSError`
    when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """An ASGI app behind uvicorn on a thread, on a socket bound before."""

    def __init__(self, app: Any, sock: socket.socket, name: str) -> None:
        self.sock = sock
        config = uvicorn.Config(
            app, log_config=None, access_log=False, timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise DemoSetupError(f"The {self.thread.name} did not start.")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(STOP_SECONDS)
        self.sock.close()


# The app's credentials


@dataclass(frozen=True, slots=True)
class DemoApp:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str


def read_app(path: Path) -> DemoApp | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DemoApp(
            str(data["client_id"]),
            str(data["client_secret"]),
            str(data["redirect_uri"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_app(path: Path, app: DemoApp, base_url: str) -> None:
    """Write the file readable by its owner only, replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "about": "The Exact Online sandbox app of 'ledgerbridge demo'. Commands "
        "use it when LEDGERBRIDGE_EXACT_CLIENT_ID and _SECRET are unset.",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uri,
        "base_url": base_url,
    }
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
    os.chmod(partial, 0o600)  # O_CREAT's mode does not apply to a file left over
    os.replace(partial, path)


# Setting up


def start_sandbox(data_dir: Path, sock: socket.socket) -> ServerThread:
    """The sandbox, its state in `data_dir`, served on `sock`."""
    state = data_dir / STATE_FILE
    try:
        sandbox = Sandbox(state)
    # As `ledgerbridge sandbox serve --state` reads the file.
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise DemoSetupError(
            f"Cannot open the sandbox state file {state}: {exc}"
        ) from exc
    server = ServerThread(create_app(sandbox), sock, "sandbox server")
    server.start()
    return server


def demo_settings(settings: Settings, app: DemoApp, base_url: str) -> Settings:
    """`settings` talking to the demo's sandbox with the demo app, whatever
    the environment says about Exact."""
    return settings.model_copy(
        update={
            "exact_client_id": app.client_id,
            "exact_client_secret": SecretStr(app.client_secret),
            "exact_redirect_uri": app.redirect_uri,
            "exact_base_url": base_url,
        }
    )


@dataclass
class SetUp:
    """What `set_up` found and did, to tell the person starting the demo."""

    base_url: str
    created: list[int] = field(default_factory=list)
    """Divisions created now."""
    new_app: bool = False
    connected: list[str] = field(default_factory=list)
    """Companies connected now (the others kept their connection)."""
    accepted: list[str] = field(default_factory=list)
    """Companies whose terms were accepted now."""


def set_up(runner: Runner, base_url: str) -> SetUp:
    """Divisions, app, connections and terms of the demo on the sandbox at
    `base_url` (see the module docstring). `runner.settings` must point at
    that sandbox with the demo app's credentials: use `demo_settings` first.

    Raises `DemoSetupError`.
    """
    report = SetUp(base_url)
    with httpx2.Client(base_url=base_url, timeout=30) as http:
        try:
            report.created = _ensure_divisions(http)
            for ref, division in DIVISIONS.items():
                if _connect_if_needed(runner, http, ref, division, base_url):
                    report.connected.append(ref)
        except httpx2.HTTPError as exc:
            raise DemoSetupError(
                f"The sandbox at {base_url} did not answer as expected: {exc}"
            ) from exc
    try:
        for ref in DIVISIONS:
            context = runner.store.company(ref)
            if context.accepted_terms != runner.terms.version:
                runner.accept_terms(ref, TERMS_USER)
                report.accepted.append(ref)
    except SyncError as exc:  # e.g. LEDGERBRIDGE_TERMS_FILE cannot be read
        raise DemoSetupError(str(exc)) from exc
    return report


def ensure_app(
    base_url: str, app_file: Path, redirect_uri: str
) -> tuple[DemoApp, bool]:
    """The demo app in `app_file` if the sandbox still knows it, else a new
    one registered and written there; and whether it is new."""
    stored = read_app(app_file)
    with httpx2.Client(base_url=base_url, timeout=30) as http:
        try:
            if (
                stored is not None
                and stored.redirect_uri == redirect_uri
                and _app_known(http, stored)
            ):
                return stored, False
            answer = http.post("/_sandbox/apps", json={"redirect_uri": redirect_uri})
        except httpx2.HTTPError as exc:
            raise DemoSetupError(
                f"The sandbox at {base_url} did not answer: {exc}"
            ) from exc
        if answer.status_code != 201:
            raise DemoSetupError(
                f"The sandbox refused to register the demo app "
                f"({answer.status_code}): {answer.text}"
            )
        registered = answer.json()
    app = DemoApp(registered["client_id"], registered["client_secret"], redirect_uri)
    write_app(app_file, app, base_url)
    logger.info("demo.app_registered", client_id=app.client_id, file=str(app_file))
    return app, True


def web_redirect_uri(web_url: str) -> str:
    """The demo app's redirect URI: the callback of the web app served at
    `web_url`, where *Connect* on *Accounting settings* comes back."""
    return web_url.rstrip("/") + CALLBACK_PATH


def app_file(data_dir: Path) -> Path:
    return data_dir / DEMO_APP_FILE


def _app_known(http: httpx2.Client, app: DemoApp) -> bool:
    """Whether the sign-in page opens for the app (it is 400 for an app or
    redirect URI the sandbox does not know)."""
    page = http.get(
        AUTH_PATH,
        params={
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "response_type": "code",
        },
    )
    return page.status_code == 200


def _ensure_divisions(http: httpx2.Client) -> list[int]:
    listed = http.get("/_sandbox/divisions")
    listed.raise_for_status()
    existing = {int(item["code"]) for item in listed.json()}
    created = []
    for division in DIVISIONS.values():
        if division.code in existing:
            continue
        answer = http.post(
            "/_sandbox/divisions",
            json={
                "code": division.code,
                "template": division.template,
                "name": division.name,
            },
        )
        answer.raise_for_status()
        created.append(division.code)
    return created


def _connect_if_needed(
    runner: Runner,
    http: httpx2.Client,
    ref: str,
    division: DemoDivision,
    base_url: str,
) -> bool:
    """Connect the company unless its connection to this sandbox's division
    still answers; whether it was connected now."""
    if _still_connected(runner, ref, division, base_url):
        return False
    try:
        wiring.connect_company(
            runner.settings,
            runner.database,
            ref,
            consent_form(http, division.code),
            division=division.code,
        )
    except (
        MissingSetting,
        SecretKeyError,
        ExactError,
        DivisionNotChosen,
        wiring.UnknownCompany,
        wiring.NoExactHost,
    ) as exc:
        raise DemoSetupError(f"Company {ref} could not be connected: {exc}") from exc
    runner.forget_client(ref)
    logger.info("demo.connected", company=ref, division=division.code)
    return True


def _still_connected(
    runner: Runner, ref: str, division: DemoDivision, base_url: str
) -> bool:
    overview = wiring.connection_overview(runner.settings, runner.database)
    info = next(
        (entry.connection for entry in overview if entry.company.ref == ref), None
    )
    if (
        info is None
        or not info.connected
        or info.needs_sign_in
        or info.base_url != base_url
        or info.division != division.code
    ):
        return False
    # The tokens may be from an app the sandbox no longer knows, or expired
    # for good: one call tells (current/Me does not count against limits).
    try:
        resources.me(runner.client(ref))
    except (ExactError, SyncError, httpx2.HTTPError) as exc:
        logger.info("demo.reconnecting", company=ref, reason=str(exc))
        runner.forget_client(ref)
        return False
    return True


def consent_form(
    http: httpx2.Client,
    division: int,
    username: str = SANDBOX_USER,
    password: str = SANDBOX_PASSWORD,
) -> RedirectSource:
    """Sign in as a person would, without a browser: open the sign-in page,
    post its form with `division` ticked, and return where the sandbox
    redirects to (the redirect URI with the code and state)."""

    def redirect_from(url: str) -> str:
        page = http.get(url)
        if page.status_code != 200:
            raise DemoSetupError(
                f"The sandbox's sign-in page answered {page.status_code}: {page.text}"
            )
        query = dict(parse_qsl(urlsplit(url).query))
        form = {
            "client_id": query["client_id"],
            "redirect_uri": query["redirect_uri"],
            "state": query.get("state", ""),
            "username": username,
            "password": password,
            "division": str(division),
        }
        answer = http.post(AUTH_PATH, data=form, follow_redirects=False)
        location = answer.headers.get("location")
        if answer.status_code != 302 or not location:
            raise DemoSetupError(
                f"The sandbox's sign-in form answered {answer.status_code}, "
                "not a redirect with a code."
            )
        return location

    return redirect_from
