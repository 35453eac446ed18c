"""What the sync benchmarks share: the sandbox in a process of its own, a
migrated database, and a synthetic company connected to a division.

The sandbox runs as `ledgerbridge sandbox serve` (uvicorn) in a separate
process, so the CPU time and memory of the process running the export are
ours alone. The database is a SQLite file in a temporary folder unless
`--database-url` names another (PostgreSQL: an empty, throwaway database).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from ledgerbridge import logging as lb_logging
from ledgerbridge.exact.clock import SystemClock
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tables import Base
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.sync.model import Flow, RunInfo, RunRequest, Trigger
from ledgerbridge.wiring import Database

REDIRECT = "http://127.0.0.1:9/callback"
NO_LIMITS = {"minutely": 1_000_000, "daily": 100_000_000}
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SandboxServer:
    """`ledgerbridge sandbox serve` in its own process, and an admin client."""

    url: str
    process: subprocess.Popen[bytes]
    admin: httpx2.Client

    def division(self, code: int, name: str = "Bench") -> None:
        answer = self.admin.post(
            "/_sandbox/divisions", json={"code": code, "template": "BE", "name": name}
        )
        answer.raise_for_status()
        self.limits(code, **NO_LIMITS)

    def limits(self, division: int, minutely: int, daily: int) -> None:
        answer = self.admin.put(
            f"/_sandbox/divisions/{division}/limits",
            json={"minutely": minutely, "daily": daily},
        )
        answer.raise_for_status()

    def stats(self, division: int) -> dict[str, Any]:
        divisions = self.admin.get("/_sandbox/stats").json()["divisions"]
        return dict(divisions.get(str(division), {"calls": 0, "rate_limited": 0}))

    def now(self) -> float:
        """The sandbox's clock, in epoch seconds."""
        from datetime import datetime

        answer = self.admin.get("/_sandbox/clock")
        return datetime.fromisoformat(answer.json()["now"]).timestamp()


@contextmanager
def sandbox_server() -> Iterator[SandboxServer]:
    port = free_port()
    executable = Path(sys.executable).with_name("ledgerbridge")
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(executable), "sandbox", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=url, timeout=60) as admin:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    if admin.get("/_sandbox/divisions").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.1)
            yield SandboxServer(url, process, admin)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def database(url: str | None) -> Iterator[tuple[Database, str, Path]]:
    """A migrated, empty database (emptied again after), and a folder."""
    folder = Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-"))
    url = url or f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    if not url.startswith("sqlite"):
        _empty(engine)
    try:
        yield Database(engine, make_session_factory(engine)), url, folder
    finally:
        if not url.startswith("sqlite"):
            _empty(engine)
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _empty(engine: Any) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def settings_for(
    server: SandboxServer, database_url: str, folder: Path, key: str | None = None
) -> Settings:
    """Settings of an app registered in the sandbox (one per call)."""
    answer = server.admin.post("/_sandbox/apps", json={"redirect_uri": REDIRECT})
    answer.raise_for_status()
    registered = answer.json()
    return Settings(
        data_dir=folder,
        database_url=database_url,
        secret_keys=SecretStr(key or Fernet.generate_key().decode()),
        exact_client_id=registered["client_id"],
        exact_client_secret=SecretStr(registered["client_secret"]),
        exact_redirect_uri=REDIRECT,
        exact_base_url=server.url,
        log_level="WARNING",
    )


def connect(
    server: SandboxServer,
    settings: Settings,
    db: Database,
    company_id: int,
    company_ref: str,
    division: int,
) -> int:
    """The company connected to `division` (consent without a browser) and
    its terms accepted; the connection's id."""
    app = ExactApp(
        settings.exact_client_id or "",
        settings.exact_client_secret.get_secret_value()
        if settings.exact_client_secret
        else "",
        REDIRECT,
    )
    answer = server.admin.post(
        "/_sandbox/oauth/code",
        json={
            "client_id": app.client_id,
            "redirect_uri": REDIRECT,
            "divisions": [division],
        },
    )
    answer.raise_for_status()
    store = DbTokenStore(db.engine, load_keys(settings))
    connection = store.create(company_id, server.url, division)
    tokens = TokenEndpoint(app, server.url, server.admin, SystemClock())
    store.connect(connection, tokens.exchange_code(answer.json()["code"]))
    Runner(settings, db).accept_terms(company_ref, "bench")
    return connection


def export(
    runner: Runner, company_ref: str, first: date, last: date, flow: Flow | None = None
) -> RunInfo:
    request = RunRequest(
        company_ref,
        flow or Flow.CUSTOMER_INVOICES,
        first,
        last,
        Trigger.MANUAL,
        "bench",
    )
    return runner.run(request)


def quiet() -> None:
    lb_logging.configure("WARNING")


def peak_rss_mb() -> float:
    """This process's RSS high-water mark (Linux reports kilobytes)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def goal(met: bool) -> str:
    return "goal met" if met else "GOAL MISSED"
