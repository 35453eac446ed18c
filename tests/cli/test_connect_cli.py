"""Connecting a company to Exact Online, on SQLite and PostgreSQL.

End to end: the installed `ledgerbridge connect` in its own process, against
the sandbox served by uvicorn on a free port (LEDGERBRIDGE_EXACT_BASE_URL),
with an app registered through `/_sandbox/apps` whose redirect URI is a free
local port. The test reads the printed URL and submits the sandbox's consent
form as a browser would, following the redirect to the command's local
callback (or pasting it, with `--paste`).

In-process: the division choice and the stored connection's client
(`wiring.connect_company`, `wiring.exact_client`) against the sandbox through
Starlette's TestClient, and the refusals that need no sign-in (CliRunner).
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledgerbridge import intake, wiring
from ledgerbridge.cli import app
from ledgerbridge.domain.parties import Company
from ledgerbridge.exact import resources
from ledgerbridge.exact.connect import DivisionNotChosen
from ledgerbridge.exact.errors import NeedsSignIn
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import Settings
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database
from tests.serving import serve

runner = CliRunner()

AUTH_URL = re.compile(r"\S+/api/oauth2/auth\?\S+")
WAIT_SECONDS = 30
IN_PROCESS_BASE = "http://sandbox.test"
IN_PROCESS_REDIRECT = "http://127.0.0.1:9/exact/callback"  # never called


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode("ascii")


def _add_company(database: Database, ref: str = "acme") -> int:
    with database.sessions() as session:
        row = intake.upsert_company(
            session, Company(ref, f"{ref.title()} NV", "BE", "BE0403170701")
        ).row
        session.commit()
        return row.id


def _store(database: Database, key: str) -> DbTokenStore:
    return DbTokenStore(database.engine, SecretBox([key]))


# The consent page, as a browser submits it


class _FormReader(HTMLParser):
    """The consent form's action and fields as a browser would submit them
    (hidden inputs, ticked checkboxes)."""

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


def _consent_form(
    browser: httpx2.Client,
    authorization_url: str,
    *,
    divisions: list[int] | None = None,
    state: str | None = None,
) -> tuple[str, dict[str, list[str]]]:
    """The form's address and fields, signed in as sandbox/sandbox, with
    `divisions` ticked (default: as the page ticks them) and `state`
    replaced if given (as a forged answer would be)."""
    page = browser.get(authorization_url)
    assert page.status_code == 200, page.text
    form = _FormReader()
    form.feed(page.text)
    assert form.action is not None
    fields: dict[str, list[str]] = {}
    for name, value in [*form.fields, ("username", "sandbox"), ("password", "sandbox")]:
        fields.setdefault(name, []).append(value)
    if divisions is not None:
        fields["division"] = [str(code) for code in divisions]
    if state is not None:
        fields["state"] = [state]
    return urljoin(authorization_url, form.action), fields


# A sandbox behind a real socket, and the command in its own process


@dataclass
class Served:
    url: str
    admin: httpx2.Client
    redirect_uri: str
    client_id: str
    client_secret: str


@pytest.fixture
def served() -> Iterator[Served]:
    with serve(create_app(Sandbox())) as url:
        yield from _set_up(url)


def _set_up(url: str) -> Iterator[Served]:
    redirect_uri = f"http://127.0.0.1:{_free_port()}/exact/callback"
    with httpx2.Client(base_url=url, timeout=10) as admin:
        created = admin.post(
            "/_sandbox/divisions",
            json={"code": 1001, "template": "BE", "name": "Demo"},
        )
        assert created.status_code == 201, created.text
        registered = admin.post("/_sandbox/apps", json={"redirect_uri": redirect_uri})
        assert registered.status_code == 201, registered.text
        app_ = registered.json()
        yield Served(url, admin, redirect_uri, app_["client_id"], app_["client_secret"])


@dataclass
class Running:
    process: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    seen: list[str]
    stderr_path: Path

    def authorization_url(self) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if found := AUTH_URL.search(line):
                return found.group()
        self.process.kill()
        pytest.fail(
            "connect printed no authorization URL:\n"
            + "".join(self.seen)
            + self.stderr_path.read_text()
        )

    def finish(self) -> tuple[int, str, str]:
        """Exit code, stdout and stderr once the command has ended."""
        code = self.process.wait(timeout=WAIT_SECONDS)
        while (line := self.lines.get(timeout=WAIT_SECONDS)) is not None:
            self.seen.append(line)
        return code, "".join(self.seen), self.stderr_path.read_text()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _env(served: Served, database_url: str, key: str, tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEDGERBRIDGE_")
    }
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "LEDGERBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "LEDGERBRIDGE_DATABASE_URL": database_url,
            "LEDGERBRIDGE_SECRET_KEYS": key,
            "LEDGERBRIDGE_EXACT_CLIENT_ID": served.client_id,
            "LEDGERBRIDGE_EXACT_CLIENT_SECRET": served.client_secret,
            "LEDGERBRIDGE_EXACT_REDIRECT_URI": served.redirect_uri,
            "LEDGERBRIDGE_EXACT_BASE_URL": served.url,
        }
    )
    return env


@contextmanager
def _connect(env: dict[str, str], tmp_path: Path, *args: str) -> Iterator[Running]:
    """`ledgerbridge connect ARGS` in its own process."""
    executable = Path(sys.executable).with_name("ledgerbridge")
    assert executable.is_file(), f"{executable} is missing: install the package"
    lines: queue.Queue[str | None] = queue.Queue()
    stderr_path = tmp_path / "stderr.log"
    with (
        stderr_path.open("w") as stderr,
        subprocess.Popen(  # noqa: S603 - our own command, no shell
            [str(executable), "connect", *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        assert process.stdout is not None
        reader = threading.Thread(
            target=_pump, args=(process.stdout, lines), daemon=True
        )
        reader.start()
        try:
            yield Running(process, lines, [], stderr_path)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=10)


def _assert_connected(
    database: Database, key: str, company_id: int, served: Served, output: str
) -> None:
    store = _store(database, key)
    connection = store.find(company_id)
    assert connection is not None
    state = store.state(connection)
    assert state.connected
    assert not state.needs_sign_in
    assert state.division == 1001
    assert state.base_url == served.url
    assert store.limits(connection).daily_remaining is not None  # calls left today
    pair = store.current(connection)
    assert pair is not None
    assert pair.access_token not in output
    assert pair.refresh_token not in output


def test_connect_catches_the_redirect_and_stores_the_connection(
    served: Served, database: Database, database_url: str, key: str, tmp_path: Path
) -> None:
    company_id = _add_company(database)
    env = _env(served, database_url, key, tmp_path)

    with _connect(env, tmp_path, "--company", "acme") as running:
        url = running.authorization_url()
        with httpx2.Client(timeout=WAIT_SECONDS, follow_redirects=True) as browser:
            action, fields = _consent_form(browser, url)
            landed = browser.post(action, data=fields)
        code, stdout, stderr = running.finish()

    assert code == 0, stdout + stderr
    assert str(landed.url).startswith(served.redirect_uri)
    assert landed.status_code == 200
    assert "Connected" in landed.text
    assert "close this tab" in landed.text
    assert "Connected company acme (Acme NV) to Exact Online." in stdout
    assert "1001 Demo (BE)" in stdout
    assert "status:       connected" in stdout
    authorization_code = parse_qs(urlsplit(str(landed.url)).query)["code"][0]
    assert authorization_code not in stdout + stderr
    _assert_connected(database, key, company_id, served, stdout + stderr)


def test_connect_paste_stores_the_connection(
    served: Served, database: Database, database_url: str, key: str, tmp_path: Path
) -> None:
    company_id = _add_company(database)
    env = _env(served, database_url, key, tmp_path)

    with _connect(env, tmp_path, "--company", "acme", "--paste") as running:
        url = running.authorization_url()
        with httpx2.Client(timeout=WAIT_SECONDS) as browser:
            action, fields = _consent_form(browser, url)
            answer = browser.post(action, data=fields)
        assert answer.status_code == 302, answer.text
        assert running.process.stdin is not None
        running.process.stdin.write(answer.headers["location"] + "\n")
        running.process.stdin.close()
        code, stdout, stderr = running.finish()

    assert code == 0, stdout + stderr
    assert "Paste the full address" in stdout
    assert "1001 Demo (BE)" in stdout
    _assert_connected(database, key, company_id, served, stdout + stderr)


def test_connect_refuses_an_answer_with_another_state(
    served: Served, database: Database, database_url: str, key: str, tmp_path: Path
) -> None:
    company_id = _add_company(database)
    env = _env(served, database_url, key, tmp_path)

    with _connect(env, tmp_path, "--company", "acme") as running:
        url = running.authorization_url()
        with httpx2.Client(timeout=WAIT_SECONDS, follow_redirects=True) as browser:
            # A real code, but the answer to another sign-in.
            action, fields = _consent_form(browser, url, state="someone-elses")
            landed = browser.post(action, data=fields)
        code, stdout, stderr = running.finish()

    assert code == 1
    assert "Connected company" not in stdout
    assert landed.status_code == 400
    assert "Not connected" in landed.text
    said = " ".join(stderr.split())
    assert "does not belong to this request" in said
    assert "Nothing was stored." in said
    assert _store(database, key).find(company_id) is None


# Refusals before any sign-in (in-process)


def _cli_env(
    database_url: str, key: str, tmp_path: Path, **extra: str
) -> dict[str, str]:
    env = {
        "LEDGERBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "LEDGERBRIDGE_DATABASE_URL": database_url,
        "LEDGERBRIDGE_SECRET_KEYS": key,
        "LEDGERBRIDGE_EXACT_CLIENT_ID": "4f1e2b7c-0000-4000-8000-000000000001",
        "LEDGERBRIDGE_EXACT_CLIENT_SECRET": "app-secret",
        "LEDGERBRIDGE_EXACT_REDIRECT_URI": (
            f"http://127.0.0.1:{_free_port()}/exact/callback"
        ),
        "LEDGERBRIDGE_EXACT_BASE_URL": "http://127.0.0.1:9",
    }
    env.update(extra)
    return env


def _said(text: str) -> str:
    """`text` with Rich's line wrapping undone."""
    return " ".join(text.split())


def test_connect_unknown_company_exits_1(
    database: Database, database_url: str, key: str, tmp_path: Path
) -> None:
    _add_company(database)

    result = runner.invoke(
        app,
        ["connect", "--company", "nope", "--paste"],
        env=_cli_env(database_url, key, tmp_path),
    )

    assert result.exit_code == 1
    assert "No company has the reference 'nope'" in _said(result.stderr)
    assert "oauth2/auth" not in result.stdout


@pytest.mark.parametrize(
    ("unset", "variable"),
    [
        ("LEDGERBRIDGE_EXACT_CLIENT_ID", "LEDGERBRIDGE_EXACT_CLIENT_ID"),
        ("LEDGERBRIDGE_EXACT_CLIENT_SECRET", "LEDGERBRIDGE_EXACT_CLIENT_SECRET"),
    ],
)
def test_connect_without_app_credentials_names_the_variable(
    unset: str, variable: str, tmp_path: Path, key: str
) -> None:
    env = _cli_env("sqlite:///unused.sqlite3", key, tmp_path)
    del env[unset]

    result = runner.invoke(app, ["connect", "--company", "acme"], env=env)

    assert result.exit_code == 1
    said = _said(result.stderr)
    assert f"{variable} is not set" in said
    assert "App Center" in said
    assert not (tmp_path / "data").exists()  # stopped before the database


def test_connect_remote_redirect_uri_asks_for_paste(tmp_path: Path, key: str) -> None:
    env = _cli_env(
        "sqlite:///unused.sqlite3",
        key,
        tmp_path,
        LEDGERBRIDGE_EXACT_REDIRECT_URI="https://books.example.com/exact/callback",
    )

    result = runner.invoke(app, ["connect", "--company", "acme"], env=env)

    assert result.exit_code == 1
    assert "run again with --paste" in _said(result.stderr).lower()


def test_connect_without_an_answer_times_out(
    database: Database, database_url: str, key: str, tmp_path: Path
) -> None:
    company_id = _add_company(database)

    result = runner.invoke(
        app,
        ["connect", "--company", "acme", "--timeout", "1"],
        env=_cli_env(database_url, key, tmp_path),
    )

    assert result.exit_code == 1
    assert "oauth2/auth?" in result.stdout
    said = _said(result.stderr)
    assert "No answer from Exact arrived" in said
    assert "Nothing was stored." in said
    assert _store(database, key).find(company_id) is None


# The use case and the client of a stored connection (in-process sandbox)


@dataclass
class InProcess:
    sandbox: TestClient
    settings: Settings
    database: Database
    company_id: int

    def store(self) -> DbTokenStore:
        return wiring.token_store(self.settings, self.database)

    def connect(
        self, *, tick: list[int] | None = None, division: int | None = None
    ) -> wiring.CompanyConnection:
        def redirect_from(url: str) -> str:
            action, fields = _consent_form(self.sandbox, url, divisions=tick)
            answer = self.sandbox.post(action, data=fields, follow_redirects=False)
            assert answer.status_code == 302, answer.text
            return str(answer.headers["location"])

        return wiring.connect_company(
            self.settings,
            self.database,
            "acme",
            redirect_from,
            division=division,
            http=self.sandbox,
        )


@pytest.fixture
def in_process(database: Database, database_url: str, key: str) -> Iterator[InProcess]:
    with TestClient(create_app(Sandbox()), base_url=IN_PROCESS_BASE) as sandbox:
        for code, name in [(1001, "Keukens"), (1002, "Badkamers")]:
            created = sandbox.post(
                "/_sandbox/divisions",
                json={"code": code, "template": "BE", "name": name},
            )
            assert created.status_code == 201, created.text
        registered = sandbox.post(
            "/_sandbox/apps", json={"redirect_uri": IN_PROCESS_REDIRECT}
        ).json()
        settings = Settings(
            database_url=database_url,
            secret_keys=key,
            exact_client_id=registered["client_id"],
            exact_client_secret=registered["client_secret"],
            exact_redirect_uri=IN_PROCESS_REDIRECT,
            exact_base_url=IN_PROCESS_BASE,
        )
        yield InProcess(sandbox, settings, database, _add_company(database))


def test_connect_company_several_divisions_lists_them_and_stores_nothing(
    in_process: InProcess,
) -> None:
    with pytest.raises(DivisionNotChosen) as refused:
        in_process.connect()

    assert [d.code for d in refused.value.divisions] == [1001, 1002]
    assert "--division" in str(refused.value)
    assert in_process.store().find(in_process.company_id) is None


def test_connect_company_division_option_picks_a_granted_one(
    in_process: InProcess,
) -> None:
    connected = in_process.connect(division=1002)

    assert connected.division.code == 1002
    assert connected.division.name == "Badkamers"
    assert connected.connection.division == 1002
    assert connected.connection.connected
    assert connected.user


def test_connect_company_division_not_granted_is_refused(
    in_process: InProcess,
) -> None:
    with pytest.raises(DivisionNotChosen) as refused:
        in_process.connect(tick=[1001], division=1002)

    assert "Division 1002 was not granted" in str(refused.value)
    assert in_process.store().find(in_process.company_id) is None


def test_connect_company_again_replaces_a_connection_that_needs_sign_in(
    in_process: InProcess,
) -> None:
    first = in_process.connect(tick=[1001])
    store = in_process.store()
    store.mark_needs_sign_in(first.connection.id, "Old refresh token used.")

    again = in_process.connect(tick=[1001])

    assert again.connection.id == first.connection.id
    assert not again.connection.needs_sign_in
    assert again.connection.reason is None


def test_exact_client_calls_the_stored_division_and_records_limits(
    in_process: InProcess,
) -> None:
    connected = in_process.connect(tick=[1001])

    client = wiring.exact_client(
        in_process.settings, in_process.database, "acme", http=in_process.sandbox
    )
    granted = resources.divisions(client)

    assert client.division == 1001
    assert [row["Code"] for row in granted] == [1001]
    limits = in_process.store().limits(connected.connection.id)
    assert limits.daily_remaining is not None
    assert limits.daily_limit is not None


def test_exact_client_unconnected_company_is_refused(in_process: InProcess) -> None:
    with pytest.raises(wiring.NotConnected, match="ledgerbridge connect"):
        wiring.exact_client(in_process.settings, in_process.database, "acme")


def test_exact_client_connection_that_needs_sign_in_is_refused(
    in_process: InProcess,
) -> None:
    connected = in_process.connect(tick=[1001])
    in_process.store().mark_needs_sign_in(
        connected.connection.id, "The refresh token expired."
    )

    with pytest.raises(NeedsSignIn, match="connect the company to Exact again"):
        wiring.exact_client(in_process.settings, in_process.database, "acme")


def test_connections_list_shows_status_division_and_calls_left(
    in_process: InProcess, database_url: str, key: str, tmp_path: Path
) -> None:
    _add_company(in_process.database, "beta")
    _add_company(in_process.database, "gamma")
    in_process.connect(tick=[1001])
    client = wiring.exact_client(
        in_process.settings, in_process.database, "acme", http=in_process.sandbox
    )
    resources.divisions(client)
    env = _cli_env(database_url, key, tmp_path)

    listed = runner.invoke(app, ["connections", "list", "--json"], env=env)

    assert listed.exit_code == 0, listed.stderr
    rows = {row["company"]: row for row in json.loads(listed.stdout)}
    assert rows["acme"]["status"] == "connected"
    assert rows["acme"]["division"] == 1001
    assert rows["acme"]["host"] == IN_PROCESS_BASE
    assert isinstance(rows["acme"]["calls_left_today"], int)
    assert rows["beta"]["status"] == "not connected"
    assert rows["beta"]["calls_left_today"] is None

    connection = in_process.store().find(in_process.company_id)
    assert connection is not None
    reason = "Old refresh token used."
    in_process.store().mark_needs_sign_in(connection, reason)
    table = runner.invoke(app, ["connections", "list"], env=env)

    assert table.exit_code == 0, table.stderr
    assert f"acme: {reason} Run 'ledgerbridge connect --company acme'." in table.stdout
    again = json.loads(
        runner.invoke(app, ["connections", "list", "--json"], env=env).stdout
    )
    assert again[0]["status"] == "needs sign-in again"
    assert again[0]["reason"] == reason
