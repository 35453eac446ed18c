"""`ledgerbridge sandbox serve`: in-process for its options, and end to end as
a user runs it, in its own process, talked to over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from ledgerbridge.cli import app
from ledgerbridge.sandbox.core import Sandbox

STARTUP_SECONDS = 30
STOP_SECONDS = 10

runner = CliRunner()


def _said(text: str) -> str:
    """`text` with Rich's error box and line wrapping undone."""
    return " ".join(text.replace("│", " ").split())


# In-process: uvicorn.run is replaced, so nothing listens.


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `uvicorn.run` was called with, once per command run."""
    calls: list[dict[str, Any]] = []

    def run(asgi: FastAPI, **kwargs: Any) -> None:
        calls.append({"app": asgi, **kwargs})

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_sandbox_serve_prints_its_urls_and_runs_the_app(
    served: list[dict[str, Any]],
) -> None:
    result = runner.invoke(app, ["sandbox", "serve", "--port", "8711"])

    assert result.exit_code == 0, result.output
    assert "Exact Online sandbox on http://127.0.0.1:8711/" in result.stdout
    assert "Admin API:   http://127.0.0.1:8711/_sandbox/" in result.stdout
    assert "Web view:    http://127.0.0.1:8711/_sandbox/ui/" in result.stdout
    assert "in memory only" in result.stdout
    [call] = served
    assert (call["host"], call["port"], call["log_config"]) == ("127.0.0.1", 8711, None)
    sandbox = call["app"].state.sandbox
    assert isinstance(sandbox, Sandbox)
    assert sandbox.divisions == {}


def test_sandbox_serve_creates_divisions_once_in_the_state_file(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    state = tmp_path / "state" / "s.sqlite"
    args = ["sandbox", "serve", "--state", str(state)]
    divisions = ["--division", "1001:BE:Demo BE", "--division", "1002:nl:Demo: NL"]

    first = runner.invoke(app, [*args, *divisions])
    again = runner.invoke(app, [*args, "--division", "1001:NL:Other"])

    assert first.exit_code == 0, first.output
    assert "Created division 1001 (BE, Demo BE)." in first.stdout
    assert "Created division 1002 (NL, Demo: NL)." in first.stdout
    assert f"State file:  {state}" in first.stdout
    assert again.exit_code == 0, again.output
    assert "Division 1001 exists already (BE, Demo BE); left as it is." in again.stdout
    kept = served[1]["app"].state.sandbox.divisions
    assert {code: (d.template, d.name) for code, d in kept.items()} == {
        1001: ("BE", "Demo BE"),
        1002: ("NL", "Demo: NL"),
    }


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("1001", "the template must be one of BE, NL"),
        ("1001:XX:Demo", "the template must be one of BE, NL"),
        ("abc:BE:Demo", "the code must be a number"),
        ("0:BE:Demo", "the code must be a number"),
        ("99999999999:BE:Demo", "the code must be a number"),
        ("1001:BE:", "the name must be 1 to 100 printable characters"),
    ],
)
def test_sandbox_serve_refuses_a_malformed_division(
    served: list[dict[str, Any]], spec: str, says: str
) -> None:
    result = runner.invoke(app, ["sandbox", "serve", "--division", spec])

    assert result.exit_code == 2
    assert says in _said(result.stderr)
    assert served == []


def test_sandbox_serve_with_an_unreadable_state_file_fails_plainly(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    state = tmp_path / "not-a-database.sqlite"
    state.write_bytes(b"this is not a SQLite database, just text " * 10)

    result = runner.invoke(app, ["sandbox", "serve", "--state", str(state)])

    assert result.exit_code == 1
    assert "Cannot open the sandbox state file" in result.stderr
    assert "Traceback" not in result.output
    assert served == []


# End to end: the installed command in its own process.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`ledgerbridge sandbox serve` on a free port with a state file."""
    executable = Path(sys.executable).with_name("ledgerbridge")
    assert executable.is_file(), f"{executable} is missing: install the package"
    port = _free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEDGERBRIDGE_")
    }
    env["LEDGERBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    command = [
        str(executable),
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--state",
        str(tmp_path / "sandbox.sqlite"),
        "--division",
        "1001:BE:Demo",
    ]
    with (
        (tmp_path / "stdout.log").open("w") as stdout,
        (tmp_path / "stderr.log").open("w") as stderr,
        subprocess.Popen(  # noqa: S603 - our own command, no shell
            command,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            yield process, port
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_served(
    client: httpx2.Client, url: str, process: subprocess.Popen[str], logs: Path
) -> httpx2.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"the sandbox exited with {process.returncode}:\n"
                + (logs / "stderr.log").read_text()
            )
        try:
            response = client.get(url)
        except httpx2.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return response
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer 200 within {STARTUP_SECONDS} s")
        time.sleep(0.1)


def test_sandbox_serve_answers_with_its_division(
    sandbox_process: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    process, port = sandbox_process
    base = f"http://127.0.0.1:{port}"

    with httpx2.Client(timeout=5) as client:
        divisions = _wait_until_served(
            client, f"{base}/_sandbox/divisions", process, tmp_path
        )
        web_view = client.get(f"{base}/_sandbox/ui/1001")
    process.terminate()
    returncode = process.wait(timeout=STOP_SECONDS)
    printed = (tmp_path / "stdout.log").read_text()

    assert divisions.json() == [{"code": 1001, "name": "Demo", "template": "BE"}]
    assert web_view.status_code == 200
    assert "<h1>1001 · Demo</h1>" in web_view.text
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert returncode in (0, -signal.SIGTERM), (tmp_path / "stderr.log").read_text()
    assert f"Exact Online sandbox on {base}/" in printed
    assert f"Admin API:   {base}/_sandbox/" in printed
    assert f"Web view:    {base}/_sandbox/ui/" in printed
    assert (tmp_path / "sandbox.sqlite").is_file()
