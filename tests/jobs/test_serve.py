"""`ledgerbridge serve` starts the daily scheduler with the server and stops
it on shutdown (SIGTERM included), unless LEDGERBRIDGE_SCHEDULER=false."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

EXECUTABLE = Path(sys.executable).with_name("ledgerbridge")
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _serve(tmp_path: Path, **extra: str) -> str:
    """Serve on a fresh database until it answers, stop it with SIGTERM;
    what the process logged."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBRIDGE_")}
    env["LEDGERBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    subprocess.run(  # noqa: S603 - our own command, no shell
        [str(EXECUTABLE), "db", "upgrade"], env=env, check=True, capture_output=True
    )
    port = _free_port()
    log = tmp_path / "serve.log"
    with (
        log.open("w") as output,
        subprocess.Popen(  # noqa: S603 - our own command, no shell
            [str(EXECUTABLE), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as process,
    ):
        try:
            _wait_until_served(process, f"http://127.0.0.1:{port}/openapi.json", log)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return log.read_text()


def _wait_until_served(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"serve did not answer:\n{log.read_text()}")
        time.sleep(0.1)


def test_serve_runs_the_scheduler_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    logged = _serve(tmp_path)

    assert "scheduler.started" in logged
    assert logged.index("scheduler.stopped") > logged.index("Shutting down")


def test_serve_without_the_scheduler(tmp_path: Path) -> None:
    logged = _serve(tmp_path, LEDGERBRIDGE_SCHEDULER="false")

    assert "scheduler." not in logged
    assert "Application shutdown complete" in logged
