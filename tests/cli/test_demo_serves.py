"""The demo as a user runs it: `ledgerbridge demo`, then curl the API.

Runs the installed command in its own process, on SQLite in a fresh data
folder, and talks to it over HTTP.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx2
import pytest

KEY = re.compile(r"\blb_[0-9a-f]{12}_[A-Za-z0-9_-]+")
DEMO_REFS = ["be-keukens", "nl-badkamers"]
STARTUP_SECONDS = 30


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


def _wait_for_key(lines: queue.Queue[str | None], seen: list[str]) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if found := KEY.search(line):
            return found.group()
    pytest.fail("the demo printed no API key:\n" + "".join(seen))


def _printed_so_far(lines: queue.Queue[str | None]) -> list[str]:
    printed = []
    while not lines.empty():
        line = lines.get_nowait()
        if line is not None:
            printed.append(line)
    return printed


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


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, queue.Queue[str | None]]]:
    """`ledgerbridge demo --port N`, started in `tmp_path`; its port and output."""
    executable = Path(sys.executable).with_name("ledgerbridge")
    assert executable.is_file(), f"{executable} is missing: install the package"
    port = _free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEDGERBRIDGE_")
    }
    env["LEDGERBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    lines: queue.Queue[str | None] = queue.Queue()
    with (
        (tmp_path / "stderr.log").open("w") as stderr,
        subprocess.Popen(  # noqa: S603 - our own command, no shell
            [str(executable), "demo", "--port", str(port)],
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
            yield port, lines
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=10)


def test_demo_serves_its_companies_and_invoices(
    demo: tuple[int, queue.Queue[str | None]], tmp_path: Path
) -> None:
    port, lines = demo
    seen: list[str] = []
    key = _wait_for_key(lines, seen)
    base = f"http://127.0.0.1:{port}/api/v1"

    with httpx2.Client(headers={"Authorization": f"Bearer {key}"}, timeout=5) as client:
        companies = _wait_until_served(client, f"{base}/companies").json()
        first = companies["items"][0]["ref"]
        invoices = client.get(f"{base}/companies/{first}/customer-invoices?limit=5")
        anonymous = httpx2.get(f"{base}/companies", timeout=5)
    printed = "".join(seen + _printed_so_far(lines))

    assert [c["ref"] for c in companies["items"]] == DEMO_REFS
    assert companies["total"] == 2
    assert invoices.status_code == 200, invoices.text
    assert 0 < len(invoices.json()["items"]) <= 5
    assert invoices.json()["total"] > 100
    assert anonymous.status_code == 401
    assert (tmp_path / "data" / "ledgerbridge.sqlite3").is_file()
    assert f"curl -H 'Authorization: Bearer {key}' {base}/companies" in printed
    assert f"Serving on http://127.0.0.1:{port}/" in printed
