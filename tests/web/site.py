"""The whole product on real sockets for the browser tests: the sandbox
(Exact's stand-in, with its web view), the web app with a `Runner`, the demo
data and the three users, on SQLite.

`open_site(folder, connected=True)` yields a `Site`. Connected, both demo
companies are signed in to their sandbox division (as `ledgerbridge connect`
would); not connected, the browser test connects them through the web page's
*Connect* and the sandbox's consent form, whose redirect comes back to the
app's `/exact/callback`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from cryptography.fernet import Fernet
from pydantic import SecretStr

from ledgerbridge import demo, users
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app as create_sandbox
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.web.app import create_app
from ledgerbridge.web.pages.sessions import use_session_key
from ledgerbridge.wiring import Database
from tests.exact.conftest import SandboxClock
from tests.serving import serve
from tests.sync.conftest import sign_in
from tests.web.conftest import SESSION_KEY, add_users

CALLBACK = "/exact/callback"
DIVISIONS = {demo.BE_REF: (1001, "BE"), demo.NL_REF: (2001, "NL")}


@dataclass
class Site:
    url: str
    """The web app's base URL."""
    sandbox_url: str
    """The sandbox's base URL; its web view is at `/_sandbox/ui/`."""
    sandbox: Sandbox
    http: httpx2.Client
    """A client on the sandbox (for its admin API under `/_sandbox/`)."""
    database: Database
    runner: Runner
    settings: Settings

    def entries(self, company: str = demo.BE_REF, kind: str = "sales") -> list[Any]:
        division = DIVISIONS[company][0]
        answer = self.http.get(f"/_sandbox/divisions/{division}/entries?kind={kind}")
        return list(answer.json())

    def division(self, company: str = demo.BE_REF) -> int:
        return DIVISIONS[company][0]


@contextmanager
def open_site(folder: Path, *, connected: bool = True) -> Iterator[Site]:
    sandbox = Sandbox()
    today = sandbox.clock.now().date()
    engine = make_engine(f"sqlite:///{folder / 'ledgerbridge.sqlite3'}")
    upgrade(engine)
    database = Database(engine, make_session_factory(engine))
    with database.sessions() as session:
        demo.seed(session, today)
        session.commit()
    add_users(database)
    app = create_app(database.sessions)
    use_session_key(app, SESSION_KEY)
    with (
        serve(create_sandbox(sandbox)) as sandbox_url,
        httpx2.Client(base_url=sandbox_url, timeout=httpx2.Timeout(10.0)) as http,
        serve(app) as url,
    ):
        for code, template in DIVISIONS.values():
            http.post(
                "/_sandbox/divisions",
                json={"code": code, "template": template, "name": template},
            )
        redirect = url + CALLBACK
        registered = http.post("/_sandbox/apps", json={"redirect_uri": redirect})
        exact = ExactApp(
            registered.json()["client_id"], registered.json()["client_secret"], redirect
        )
        settings = Settings(
            data_dir=folder,
            database_url=str(engine.url),
            secret_keys=SecretStr(Fernet.generate_key().decode()),
            exact_client_id=exact.client_id,
            exact_client_secret=SecretStr(exact.client_secret),
            exact_redirect_uri=redirect,
            exact_base_url=sandbox_url,
        )
        clock = SandboxClock(sandbox)
        if connected:
            _connect(database, settings, exact, http, sandbox_url, clock)
        runner = Runner(settings, database, http=http, clock=clock)
        app.state.runner = runner
        try:
            yield Site(url, sandbox_url, sandbox, http, database, runner, settings)
        finally:
            runner.close()
            engine.dispose()


def _connect(
    database: Database,
    settings: Settings,
    exact: ExactApp,
    http: httpx2.Client,
    base: str,
    clock: SandboxClock,
) -> None:
    with database.sessions() as session:
        ids = {ref: repo.get_company(session, ref).id for ref in DIVISIONS}  # type: ignore[union-attr]
    store = DbTokenStore(database.engine, load_keys(settings))
    tokens = TokenEndpoint(exact, base, http, clock)
    for ref, (division, _) in DIVISIONS.items():
        connection = store.create(ids[ref], base, division)
        code = sign_in(http, base, exact, division)
        store.connect(connection, tokens.exchange_code(code))


__all__ = ["CALLBACK", "Site", "open_site", "users"]
