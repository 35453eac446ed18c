"""How well the rate governor uses a division's minutely budget.

300 calls against a division limited to 60 a minute: the limit allows them in
5 minutes. The run reports how long they took, how many the sandbox refused
with 429, and the time as a share of those 5 minutes (goal: zero 429s and no
more than 10 % over).

By default the client and the sandbox share a simulated clock: waiting moves
it, so the run takes seconds and measures the governor's schedule, not the
machine. `--real` serves the sandbox on a socket and waits in real time
(about five minutes).

    .venv/bin/python bench/governor_pace.py [--calls 300] [--limit 60] [--real]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime
from typing import Any

import httpx2
import uvicorn
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import insert

from ledgerbridge import logging as lb_logging
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.clock import SystemClock
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.storage.database import make_engine
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.storage.tokens import DbTokenStore

DIVISION = 1001
REDIRECT = "http://127.0.0.1:9/callback"


class SandboxClock:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sandbox.clock.advance(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--real", action="store_true", help="real time over a socket")
    args = parser.parse_args()
    lb_logging.configure("WARNING")

    sandbox = Sandbox()
    app = create_app(sandbox)
    server = None
    if args.real:
        server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        http: httpx2.Client = httpx2.Client(base_url=base, timeout=30)
        clock: Any = SystemClock()
    else:
        base = "http://sandbox.test"
        http = TestClient(app, base_url=base)
        clock = SandboxClock(sandbox)

    client = connect(http, base, sandbox, clock, args.limit)
    started = clock.now()
    for _ in range(args.calls):
        client.get("vat/VATCodes", {"$select": "Code"})
    elapsed = (clock.now() - started).total_seconds()
    stats = http.get("/_sandbox/stats").json()["divisions"][str(DIVISION)]
    if server is not None:
        server.should_exit = True

    allowed = args.calls / args.limit * 60
    mode = "real" if args.real else "simulated"
    print(f"calls: {args.calls} at {args.limit}/minute ({mode} time)")
    print(f"elapsed: {elapsed:.1f} s; the limit allows them in {allowed:.0f} s")
    print(f"share of the allowed time: {elapsed / allowed:.1%}")
    print(f"429s: {stats['rate_limited']}; calls the sandbox counted: {stats['calls']}")
    return 0 if stats["rate_limited"] == 0 and elapsed <= allowed * 1.1 else 1


def connect(
    http: httpx2.Client, base: str, sandbox: Sandbox, clock: Any, limit: int
) -> ExactClient:
    http.post(
        "/_sandbox/divisions",
        json={"code": DIVISION, "template": "BE", "name": "Bench"},
    )
    http.put(
        f"/_sandbox/divisions/{DIVISION}/limits",
        json={"minutely": limit, "daily": 100_000},
    )
    registered = http.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}).json()
    exact_app = ExactApp(registered["client_id"], registered["client_secret"], REDIRECT)
    code = http.post(
        "/_sandbox/oauth/code",
        json={
            "client_id": exact_app.client_id,
            "redirect_uri": REDIRECT,
            "divisions": [DIVISION],
        },
    ).json()["code"]

    folder = tempfile.mkdtemp(prefix="governor-bench-")
    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    upgrade(engine)
    with engine.begin() as db:
        company = db.execute(
            insert(CompanyRow).values(
                ref="bench",
                name="Bench",
                country="BE",
                vat_number="BE0403170701",
                base_currency="EUR",
                time_zone="Europe/Brussels",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        ).inserted_primary_key[0]
    store = DbTokenStore(engine, SecretBox([Fernet.generate_key()]))
    connection = store.create(company, base, DIVISION)
    tokens = TokenEndpoint(exact_app, base, http, clock)
    store.connect(connection, tokens.exchange_code(code))
    return ExactClient(
        http=http,
        base_url=base,
        division=DIVISION,
        connection=connection,
        store=store,
        tokens=tokens,
        governor=RateGovernor(DIVISION, clock),
        clock=clock,
    )


if __name__ == "__main__":
    sys.exit(main())
