"""The demo as a user runs it: `ledgerbridge demo`, then curl the API, look
into the sandbox, and export against it.

Runs the installed command in its own process, on SQLite in a fresh data
folder and on two free ports, and talks to it over HTTP. The daily runs are
off here (LEDGERBRIDGE_SCHEDULER=false) so that the export below does not
wait for them; tests/jobs covers them.
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
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import httpx2
import pytest

from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.sync.model import Flow, RunRequest, Trigger
from ledgerbridge.wiring import open_database

KEY = re.compile(r"\blb_[0-9a-f]{12}_[A-Za-z0-9_-]+")
SERVING = re.compile(r"^Serving on (http://\S+)/ ")
SANDBOX = re.compile(r"^Exact Online sandbox on (http://\S+)/ ")
DEMO_REFS = ["be-keukens", "nl-badkamers"]
STARTUP_SECONDS = 90
EXECUTABLE = Path(sys.executable).with_name("ledgerbridge")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Read the process's output as it comes, so the pipe never fills."""
    for line in stream:
        lines.put(line)
    lines.put(None)


@dataclass
class Demo:
    process: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    seen: list[str]
    env: dict[str, str]
    data: Path

    def wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first line (printed so far or to come) that matches."""
        for line in self.seen:
            if found := pattern.search(line):
                return found
        deadline = time.monotonic() + STARTUP_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if found := pattern.search(line):
                return found
        stderr = (self.data.parent / "stderr.log").read_text()[-3000:]
        pytest.fail(
            f"the demo printed no line like {pattern.pattern!r}:\n"
            + "".join(self.seen)
            + f"\nstderr:\n{stderr}"
        )

    @property
    def printed(self) -> str:
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen)


@contextmanager
def _demo(tmp_path: Path, port: int, sandbox_port: int) -> Iterator[Demo]:
    """`ledgerbridge demo` on the two ports, its data in `tmp_path/data`."""
    assert EXECUTABLE.is_file(), f"{EXECUTABLE} is missing: install the package"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEDGERBRIDGE_")
    }
    env["LEDGERBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    env["LEDGERBRIDGE_SCHEDULER"] = "false"
    args = ["demo", "--port", str(port), "--sandbox-port", str(sandbox_port)]
    lines: queue.Queue[str | None] = queue.Queue()
    with (
        (tmp_path / "stderr.log").open("a") as stderr,
        subprocess.Popen(  # noqa: S603 - our own command, no shell
            [str(EXECUTABLE), *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
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
            yield Demo(process, lines, [], env, tmp_path / "data")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=10)


def _wait_until_served(client: httpx2.Client, url: str) -> httpx2.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            response = client.get(url)
        except httpx2.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return response
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer 200 within {STARTUP_SECONDS} s")
        time.sleep(0.2)


def _connections(demo: Demo) -> list[dict[str, object]]:
    """`ledgerbridge connections list --json`, as another shell would run it."""
    listed = subprocess.run(  # noqa: S603 - our own command, no shell
        [str(EXECUTABLE), "connections", "list", "--json"],
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, object]] = json.loads(listed.stdout)
    return rows


@pytest.fixture
def ports() -> tuple[int, int]:
    port = _free_port()
    while (sandbox_port := _free_port()) == port:
        pass
    return port, sandbox_port


def test_demo_serves_the_api_and_the_sandbox_with_both_companies_connected(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    port, sandbox_port = ports
    today = date.today()  # noqa: DTZ011 - the demo dates its data so
    base = f"http://127.0.0.1:{port}/api/v1"
    with _demo(tmp_path, port, sandbox_port) as demo:
        key = demo.wait_for(KEY).group()
        sandbox = demo.wait_for(SANDBOX).group(1)
        demo.wait_for(SERVING)
        with httpx2.Client(
            headers={"Authorization": f"Bearer {key}"}, timeout=5
        ) as client:
            companies = _wait_until_served(client, f"{base}/companies").json()
            invoices = client.get(f"{base}/companies/be-keukens/customer-invoices")
            anonymous = httpx2.get(f"{base}/companies", timeout=5)
        divisions = httpx2.get(f"{sandbox}/_sandbox/divisions", timeout=5).json()
        ui = httpx2.get(f"{sandbox}/_sandbox/ui/", timeout=5)
        connections = _connections(demo)
        run, entries = _export_through_the_runner(demo.data, sandbox, today)
        printed = demo.printed

    # The API
    assert [c["ref"] for c in companies["items"]] == DEMO_REFS
    assert invoices.status_code == 200, invoices.text
    assert invoices.json()["total"] > 100
    assert anonymous.status_code == 401
    assert (tmp_path / "data" / "ledgerbridge.sqlite3").is_file()
    # The sandbox, its divisions and the connections
    assert sandbox == f"http://127.0.0.1:{sandbox_port}"
    assert sorted((d["code"], d["template"]) for d in divisions) == [
        (1001, "BE"),
        (2001, "NL"),
    ]
    assert ui.status_code == 200
    assert [
        (c["company"], c["status"], c["division"], c["host"]) for c in connections
    ] == [
        ("be-keukens", "connected", 1001, sandbox),
        ("nl-badkamers", "connected", 2001, sandbox),
    ]
    # An export from another process books in the demo's sandbox.
    assert run.counts.booked > 0
    assert len(entries) == run.counts.booked
    # What a newcomer reads
    for text in (
        f"curl -H 'Authorization: Bearer {key}' {base}/companies",
        f"{sandbox}/_sandbox/ui/",
        "be-keukens: division 1001 (created now), BE template; connected now",
        "nl-badkamers: division 2001 (created now), NL template; connected now",
        f"export LEDGERBRIDGE_DATA_DIR={demo.data.resolve()} "
        f"LEDGERBRIDGE_EXACT_BASE_URL={sandbox}",
        "export customer-invoices --company be-keukens --from ",
        "import payments --company be-keukens --from ",
        "Daily runs: off (LEDGERBRIDGE_SCHEDULER=false).",
        f"Serving on http://127.0.0.1:{port}/",
    ):
        assert text in printed, printed
    app_file = demo.data / "demo-exact-app.json"
    assert app_file.stat().st_mode & 0o777 == 0o600
    secret = json.loads(app_file.read_text())["client_secret"]
    assert secret not in printed
    assert secret not in (tmp_path / "stderr.log").read_text()


def test_demo_started_again_reuses_its_data_folder(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    port, sandbox_port = ports
    with _demo(tmp_path, port, sandbox_port) as first:
        first.wait_for(SERVING)
    app_before = (tmp_path / "data" / "demo-exact-app.json").read_text()

    with _demo(tmp_path, port, sandbox_port) as again:
        sandbox = again.wait_for(SANDBOX).group(1)
        again.wait_for(SERVING)
        divisions = httpx2.get(f"{sandbox}/_sandbox/divisions", timeout=5).json()
        connections = _connections(again)
        printed = again.printed

    assert "be-keukens: division 1001, BE template; still connected" in printed
    assert "nl-badkamers: division 2001, NL template; still connected" in printed
    assert "created now" not in printed
    assert len(divisions) == 2
    assert (tmp_path / "data" / "demo-exact-app.json").read_text() == app_before
    assert {c["status"] for c in connections} == {"connected"}


def test_demo_says_a_taken_port_before_anything_starts(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    port, sandbox_port = ports
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", sandbox_port))
        taken.listen()
        with _demo(tmp_path, port, sandbox_port) as demo:
            code = demo.process.wait(timeout=STARTUP_SECONDS)

    said = " ".join((tmp_path / "stderr.log").read_text().split())
    assert code == 1
    assert f"Port {sandbox_port} on 127.0.0.1 is not free" in said
    assert "--sandbox-port" in said
    assert not (tmp_path / "data").exists()


def _export_through_the_runner(data: Path, sandbox: str, today: date):
    """Export ten days of be-keukens' customer invoices from this process,
    on the demo's data folder and sandbox, with no Exact variable set: the
    credentials come from the demo's app file."""
    settings = Settings(data_dir=data, exact_base_url=sandbox)
    database = open_database(settings)
    runner = Runner(settings, database)
    try:
        request = RunRequest(
            "be-keukens",
            Flow.CUSTOMER_INVOICES,
            today - timedelta(days=10),
            today,
            Trigger.MANUAL,
            "tests",
        )
        run = runner.run(request)
    finally:
        runner.close()
        database.engine.dispose()
    entries = httpx2.get(
        f"{sandbox}/_sandbox/divisions/1001/entries?kind=sales", timeout=5
    ).json()
    return run, entries
