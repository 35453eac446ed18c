"""The sync engine against an in-process sandbox and the real database
(SQLite and PostgreSQL): the demo's two companies, each connected to a
sandbox division of its country, through the same `Runner` the CLI uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from ledgerbridge import demo
from ledgerbridge.exact import resources
from ledgerbridge.exact.oauth import (
    ExactApp,
    TokenEndpoint,
    authorization_url,
    code_from_redirect,
)
from ledgerbridge.exact.tokens import TokenPair
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.sync.model import Flow, PreviewDocument, RunInfo, RunRequest, Trigger
from ledgerbridge.wiring import Database
from tests.exact.conftest import REDIRECT, SandboxClock
from tests.serving import serve

BE, NL = "be-keukens", "nl-badkamers"
DIVISIONS = {BE: (1001, "BE"), NL: (2001, "NL")}


@dataclass
class Env:
    sandbox: Sandbox
    http: httpx2.Client
    base: str
    settings: Settings
    database: Database
    runner: Runner
    clock: SandboxClock
    today: date

    def run(
        self,
        flow: Flow,
        company: str = BE,
        first: date | None = None,
        last: date | None = None,
    ) -> RunInfo:
        first = first or self.today - timedelta(days=200)
        last = last or self.today
        request = RunRequest(company, flow, first, last, Trigger.MANUAL, "tests")
        return self.runner.run(request)

    def entries(self, company: str = BE, kind: str = "sales") -> list[dict[str, Any]]:
        division = DIVISIONS[company][0]
        url = f"/_sandbox/divisions/{division}/entries?kind={kind}"
        return list(self.http.get(url).json())

    def stats(self, company: str = BE) -> dict[str, Any]:
        divisions = self.http.get("/_sandbox/stats").json()["divisions"]
        return dict(divisions.get(str(DIVISIONS[company][0]), {}))

    def fault(self, endpoint: str, method: str, kind: str, **extra: object) -> None:
        body = {"endpoint": endpoint, "method": method, "kind": kind, **extra}
        answer = self.http.post("/_sandbox/faults", json=body)
        assert answer.status_code == 201, answer.text

    def pay(
        self, entry_id: str, amount: str, company: str = BE, day: str | None = None
    ) -> None:
        division = DIVISIONS[company][0]
        body = {"entry_id": entry_id, "amount": amount, "date": day or str(self.today)}
        answer = self.http.post(f"/_sandbox/divisions/{division}/payments", json=body)
        assert answer.status_code in (200, 201), answer.text

    def period(self) -> tuple[date, date]:
        return self.today - timedelta(days=200), self.today

    def accounts(self, company: str = BE) -> dict[str, dict[str, Any]]:
        client = self.runner.client(company)
        rows = client.rows(
            "crm/Accounts",
            {
                "$select": "ID,Code,Name,Status,IsSupplier,VATNumber,Country",
                "$filter": "Blocked eq false",
            },
        )
        return {str(row["Code"]).strip(): row for row in rows}

    def close_period(self, year: int, period: int, company: str = BE) -> None:
        division = DIVISIONS[company][0]
        answer = self.http.post(
            f"/_sandbox/divisions/{division}/periods/close",
            json={"year": year, "period": period},
        )
        assert answer.status_code == 200, answer.text

    def post_entry_by_hand(self, planned: PreviewDocument, company: str = BE) -> str:
        """Key a sales invoice in Exact as an accountant would, with its
        number in YourRef; its EntryID."""
        client = self.runner.client(company)
        code = planned.party_code or ""
        account = resources.find_account(client, code) or resources.create_account(
            client, resources.NewAccount(code, planned.party, customer=True)
        )
        gl = {
            str(row["Code"]).strip(): row["ID"] for row in resources.gl_accounts(client)
        }
        body = {
            "Journal": planned.journal,
            "Customer": account["ID"],
            "EntryDate": planned.issue_date.isoformat(),
            "YourRef": planned.number,
            "SalesEntryLines": [
                {
                    "GLAccount": gl[line.gl_account],
                    "AmountFC": str(line.net),
                    "VATAmountFC": str(line.vat),
                    "VATCode": line.vat_code,
                    "Description": line.description,
                }
                for line in planned.lines
            ],
        }
        return str(client.post("salesentry/SalesEntries", body)["EntryID"])

    def set_limits(self, minutely: int, daily: int, company: str = BE) -> None:
        division = DIVISIONS[company][0]
        answer = self.http.put(
            f"/_sandbox/divisions/{division}/limits",
            json={"minutely": minutely, "daily": daily},
        )
        assert answer.status_code == 200, answer.text

    def store_tokens_broken(self, connection: int) -> None:
        """Replace the stored tokens by ones Exact never issued: the next
        call gets a 401, its refresh is refused, the chain is dead."""
        store = DbTokenStore(self.database.engine, load_keys(self.settings))
        now = self.clock.now()
        store.connect(
            connection,
            TokenPair(
                "not-a-token", "not-a-refresh-token", now, now + timedelta(minutes=10)
            ),
        )

    def accept_terms(self, company: str = BE) -> None:
        self.runner.accept_terms(company, "tests")

    def document(self, number: str, company: str = BE) -> Any:
        from sqlalchemy import select

        from ledgerbridge.storage.tables import CompanyRow, DocumentRow

        with self.database.sessions() as session:
            return session.scalar(
                select(DocumentRow)
                .join(CompanyRow)
                .where(CompanyRow.ref == company, DocumentRow.number == number)
            )


def sign_in(http: httpx2.Client, base: str, app: ExactApp, division: int) -> str:
    """Through the sandbox's consent form, as a person would; the code."""
    start = authorization_url(app, base)
    assert http.get(start.url).status_code == 200
    form = {
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "state": start.state,
        "username": "sandbox",
        "password": "sandbox",
        "division": str(division),
    }
    answer = http.post(f"{base}/api/oauth2/auth", data=form, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return code_from_redirect(answer.headers["location"], start.state)


@pytest.fixture
def env(database: Database, database_url: str, tmp_path: Path) -> Iterator[Env]:
    """The sandbox on a real socket (so dropped connections are real)."""
    sandbox = Sandbox()
    today = sandbox.clock.now().date()
    with (
        serve(create_app(sandbox)) as base,
        httpx2.Client(base_url=base, timeout=httpx2.Timeout(5.0)) as http,
    ):
        for code, template in DIVISIONS.values():
            http.post(
                "/_sandbox/divisions",
                json={"code": code, "template": template, "name": template},
            )
        registered = http.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}).json()
        app = ExactApp(registered["client_id"], registered["client_secret"], REDIRECT)
        settings = Settings(
            data_dir=tmp_path,
            database_url=database_url,
            secret_keys=SecretStr(Fernet.generate_key().decode()),
            exact_client_id=app.client_id,
            exact_client_secret=SecretStr(app.client_secret),
            exact_redirect_uri=REDIRECT,
            exact_base_url=base,
        )
        clock = SandboxClock(sandbox)
        with database.sessions() as session:
            demo.seed(session, today)
            session.commit()
            ids = {ref: repo.get_company(session, ref).id for ref in DIVISIONS}  # type: ignore[union-attr]
        store = DbTokenStore(database.engine, load_keys(settings))
        tokens = TokenEndpoint(app, base, http, clock)
        for ref, (division, _) in DIVISIONS.items():
            connection = store.create(ids[ref], base, division)
            code = sign_in(http, base, app, division)
            store.connect(connection, tokens.exchange_code(code))
        runner = Runner(settings, database, http=http, clock=clock)
        yield Env(sandbox, http, base, settings, database, runner, clock, today)
        runner.close()
