"""Issue 5's fault drill: 1,000 invoices booked exactly once through faults
and crashes, on SQLite and on PostgreSQL.

The sandbox is served on a real socket by this process, with its state in
memory, so it outlives the exporting process: `drill_worker.py`, started as
a subprocess that builds everything from `LEDGERBRIDGE_*` variables and runs
the customer invoice export until a run finishes with every document
through. While it runs, this test follows the sandbox's entry count and, at
counts drawn from a seeded random generator:

* injects faults on the entry POST: HTML 500s (nothing booked), timeouts
  (booked, answered after the worker gave up), answers cut after the commit;
  503s on the look-up by `YourRef` after every second restart (once four in
  a row, which stops that run); lost answers to creating a customer, a PDF's
  Document and its attachment (5 % of the invoices carry a PDF);
* expires every access token (`POST /_sandbox/tokens/expire`);
* tightens the division's per-minute limit to one call until a 429 was
  answered, then lifts it (the worker's clock is the sandbox's, so waiting
  for the minute's reset moves that clock instead of taking a real minute);
* kills the worker with SIGKILL at least five times, each time when the
  entry count has grown by a random amount since its start, and starts a new
  one. Every other kill holds a POST's answer after its commit (a `slow`
  fault), so the process dies between Exact booking the entry and our
  recording it; the others land wherever the worker is.

Afterwards the sandbox holds exactly one entry per invoice (`YourRef`
unique, total and VAT equal to the invoice's to the cent), every invoice is
booked in our database with that entry (a PDF attached to it where the
invoice has one), no run ended on an error it should have handled, and the
last run succeeded with no failure. `FAULT_DRILL_SEED` chooses another draw;
`-s` shows what the draw did.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx2
from cryptography.fernet import Fernet
from sqlalchemy import select

from ledgerbridge import loadgen
from ledgerbridge.domain.documents import BookingStatus
from ledgerbridge.exact.clock import SystemClock
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import Settings
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tables import DocumentPdfRow, DocumentRow
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database
from tests.serving import serve
from tests.sync.conftest import sign_in

REPOSITORY = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("FAULT_DRILL_SEED", "20261203"))
COMPANY = "drill-be"
DIVISION = 1001
INVOICES = 1_000
CUSTOMERS = 40
KILLS = 6
LOOKUPS = 3
"""At most this many kills are followed by 503s on the new run's look-ups."""
PDF_SHARE = 0.05
GROWTH = (40, 140)
"""Entries booked between a worker's start and its kill, drawn in this range."""
ENTRIES = "salesentry/SalesEntries"
WORKER_TIMEOUT = 1.0
"""The worker's HTTP client waits this long for an answer."""
LATE = 1.5
"""A `timeout` fault answers this late: after the worker gave up."""
HELD = 5.0
"""A held POST's answer waits this long; the kill comes first."""
HIGH = {"minutely": 100_000, "daily": 10_000_000}
DRILL_SECONDS = 170.0
REDIRECT = "http://127.0.0.1:9/callback"


@dataclass
class Event:
    at: int
    """The entry count at which it happens."""
    name: str
    action: Callable[[Drill], None]


@dataclass
class Drill:
    sandbox: Sandbox
    admin: httpx2.Client
    command: list[str]
    environment: dict[str, str]
    folder: Path
    rng: random.Random
    events: list[Event]
    process: subprocess.Popen[bytes] | None = None
    output: IO[bytes] | None = None
    workers: int = 0
    kills: list[str] = field(default_factory=list)
    done: Counter[str] = field(default_factory=Counter)
    kill_at: int = 0
    hold_next: bool = True
    held_since: float | None = None
    restore_after: int | None = None
    """Lift the tight limit once the sandbox counted more 429s than this."""
    tightened_at: float = 0.0
    """The sandbox clock's offset when the limit was tightened."""
    quiet_until: int = 0
    """No kill at any point before this entry count (a refresh is due)."""
    pending: Callable[[], set[str]] = set
    """The numbers of the invoices our database holds as pending."""
    lookups: int = 0
    """Look-up faults armed so far."""

    @property
    def report(self) -> Path:
        return self.folder / "report.jsonl"

    def entries(self) -> int:
        return len(self.sandbox.divisions[DIVISION].records("sales_entries"))

    def unsettled(self) -> bool:
        """Whether an invoice is pending in our database and not in Exact:
        the next run must look it up by `YourRef` before it sends it."""
        with self.sandbox.lock:
            booked = {
                entry["YourRef"]
                for entry in self.sandbox.divisions[DIVISION]
                .records("sales_entries")
                .values()
            }
        return bool(self.pending() - booked)

    def fault(self, endpoint: str, method: str, kind: str, **extra: Any) -> None:
        body = {"endpoint": endpoint, "method": method, "kind": kind, **extra}
        answer = self.admin.post("/_sandbox/faults", json=body)
        assert answer.status_code == 201, answer.text

    def limits(self, minutely: int, daily: int) -> None:
        answer = self.admin.put(
            f"/_sandbox/divisions/{DIVISION}/limits",
            json={"minutely": minutely, "daily": daily},
        )
        assert answer.status_code == 200, answer.text

    # The worker

    def start(self) -> None:
        self.workers += 1
        self.output = (self.folder / f"worker-{self.workers}.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and module
            self.command,
            cwd=REPOSITORY,
            env=self.environment,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        self.kill_at = self.entries() + self.rng.randint(*GROWTH)
        self.held_since = None

    def kill(self, how: str) -> None:
        assert self.process is not None and self.output is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()  # reaped: the next run sees its owner is gone
        self.output.close()
        self.kills.append(f"{how} at {self.entries()} entries")
        self.hold_next = not self.hold_next
        if self.lookups < LOOKUPS and self.unsettled():
            # The new run looks up by `YourRef` what the dead one left pending
            # and Exact does not hold (what Exact holds is found in bulk and
            # linked without a look-up): a 503 first (retried), the second
            # time four in a row (the run stops, the next goes on). A kill
            # that left nothing to look up arms nothing: the fault would wait
            # for ever.
            count = 4 if self.lookups == 1 else 1
            self.fault(ENTRIES, "GET", "error_503", count=count)
            self.done[f"lookup_503x{count}"] += 1
            self.lookups += 1
        time.sleep(self.rng.uniform(0, 0.2))
        self.start()

    def log(self) -> str:
        return "\n".join(
            f"--- worker {n}\n"
            + (self.folder / f"worker-{n}.log").read_text(errors="replace")[-8000:]
            for n in range(1, self.workers + 1)
        )

    def runs(self) -> list[dict[str, Any]]:
        if not self.report.exists():
            return []
        lines = self.report.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # The loop

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self.process is not None and self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def _run(self) -> None:
        deadline = time.monotonic() + DRILL_SECONDS
        self.start()
        assert self.process is not None
        while self.process.poll() is None:
            if time.monotonic() >= deadline:
                self.process.send_signal(signal.SIGUSR1)  # its stacks, to its log
                time.sleep(1.0)
                raise AssertionError(
                    f"the drill took too long; kills {self.kills}, report "
                    f"{self.runs()[-3:]}\n{self.log()}"
                )
            count = self.entries()
            while self.events and self.events[0].at <= count:
                event = self.events.pop(0)
                event.action(self)
                self.done[event.name] += 1
            self._lift_limit()
            if len(self.kills) < KILLS:
                self._maybe_kill(count)
            time.sleep(0.001)
        assert self.output is not None
        self.output.close()
        assert self.process.returncode == 0, (
            f"the last worker ended with {self.process.returncode}; its report: "
            f"{self.runs()[-5:]}\n{self.log()}"
        )

    def _maybe_kill(self, count: int) -> None:
        if self.hold_next:
            if self.held_since is None and count >= self.kill_at - 1:
                # The next POST books, then holds its answer: kill meanwhile.
                self.fault(ENTRIES, "POST", "slow", delay_seconds=HELD)
                self.held_since = time.monotonic()
            elif self.held_since is not None and not self._fault_waiting("slow"):
                time.sleep(0.05)  # the POST that took it books, then waits
                self.kill("held POST")
        elif count >= max(self.kill_at, self.quiet_until):
            self.kill("anywhere")

    def _fault_waiting(self, kind: str) -> bool:
        with self.sandbox.lock:
            return any(fault.kind == kind for fault in self.sandbox.faults)

    def _lift_limit(self) -> None:
        if self.restore_after is None:
            return
        if self.sandbox.stats_for(DIVISION).rate_limited > self.restore_after:
            self.limits(**HIGH)
            self.restore_after = None
        elif self.sandbox.clock.offset_seconds > self.tightened_at:
            # The minute had just turned: the call went through and told the
            # worker the limit, which it then waited out without a 429. Lift
            # it and tighten again a little later.
            self.limits(**HIGH)
            self.restore_after = None
            again = Event(self.entries() + 20, "rate_limit_again", rate_limit)
            self.events = sorted([*self.events, again], key=lambda e: e.at)


# What the drill does at the counts drawn


def error_500(drill: Drill) -> None:
    drill.fault(ENTRIES, "POST", "error_500", count=drill.rng.randint(1, 3))


def timeout(drill: Drill) -> None:
    drill.fault(ENTRIES, "POST", "timeout", delay_seconds=LATE)


def drop_after_commit(drill: Drill) -> None:
    drill.fault(ENTRIES, "POST", "drop_after_commit", count=drill.rng.randint(1, 2))


def expire_tokens(drill: Drill) -> None:
    answer = drill.admin.post("/_sandbox/tokens/expire")
    assert answer.status_code == 200, answer.text
    # A kill inside the refresh, after Exact rotated the refresh token and
    # before it is stored, loses the connection (a person must sign in
    # again): a hazard of Exact's rotation, not of exactly-once. A few
    # entries after the expiry the new pair is stored.
    drill.quiet_until = drill.entries() + 5


def rate_limit(drill: Drill) -> None:
    if drill.restore_after is not None:
        return
    drill.restore_after = drill.sandbox.stats_for(DIVISION).rate_limited
    drill.tightened_at = drill.sandbox.clock.offset_seconds
    drill.limits(minutely=1, daily=HIGH["daily"])


def attach_timeout(drill: Drill) -> None:
    drill.fault("documents/Documents", "POST", "timeout", delay_seconds=LATE)


def attachment_dropped(drill: Drill) -> None:
    drill.fault("documents/DocumentAttachments", "POST", "drop_after_commit")


def plan(rng: random.Random) -> list[Event]:
    actions = {
        "error_500": error_500,
        "timeout": timeout,
        "drop_after_commit": drop_after_commit,
        "expire_tokens": expire_tokens,
        "rate_limit": rate_limit,
    }
    events = [
        Event(rng.randint(5, 900), name, action)
        for name, action in actions.items()
        for _ in range(2)
    ]
    # On the way of the few PDFs: lost answers while attaching one.
    events += [
        Event(rng.randint(5, 500), "attach_timeout", attach_timeout),
        Event(rng.randint(5, 500), "attachment_dropped", attachment_dropped),
    ]
    # Among the first calls: a lost answer to creating a customer.
    events.append(
        Event(
            0,
            "create_customer_lost",
            lambda drill: drill.fault("crm/Accounts", "POST", "drop_after_commit"),
        )
    )
    return sorted(events, key=lambda event: event.at)


def connect(
    served: str, admin: httpx2.Client, database: Database, key: str, company_id: int
) -> ExactApp:
    registered = admin.post("/_sandbox/apps", json={"redirect_uri": REDIRECT})
    assert registered.status_code == 201, registered.text
    app = ExactApp(
        registered.json()["client_id"], registered.json()["client_secret"], REDIRECT
    )
    store = DbTokenStore(database.engine, SecretBox([key]))
    connection = store.create(company_id, served, DIVISION)
    code = sign_in(admin, served, app, DIVISION)
    tokens = TokenEndpoint(app, served, admin, SystemClock())
    store.connect(connection, tokens.exchange_code(code))
    return app


def test_fault_drill_books_every_invoice_exactly_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    sandbox = Sandbox()
    today = sandbox.clock.now().date()
    loaded = loadgen.load_company(
        database.sessions,
        COMPANY,
        customers=CUSTOMERS,
        invoices=INVOICES,
        last=today,
        days=60,
        pdf_share=PDF_SHARE,
        seed=SEED,
        keep_numbers=True,
    )
    key = Fernet.generate_key().decode("ascii")
    started = time.monotonic()
    with (
        serve(create_app(sandbox)) as base,
        httpx2.Client(base_url=base, timeout=10) as admin,
    ):
        created = admin.post(
            "/_sandbox/divisions",
            json={"code": DIVISION, "template": "BE", "name": "Drill"},
        )
        assert created.status_code == 201, created.text
        answer = admin.put(f"/_sandbox/divisions/{DIVISION}/limits", json=HIGH)
        assert answer.status_code == 200, answer.text
        app = connect(base, admin, database, key, loaded.company_id)
        variables = {
            "LEDGERBRIDGE_DATABASE_URL": database_url,
            "LEDGERBRIDGE_EXACT_BASE_URL": base,
            "LEDGERBRIDGE_EXACT_CLIENT_ID": app.client_id,
            "LEDGERBRIDGE_EXACT_CLIENT_SECRET": app.client_secret,
            "LEDGERBRIDGE_EXACT_REDIRECT_URI": REDIRECT,
            "LEDGERBRIDGE_SECRET_KEYS": key,
            "LEDGERBRIDGE_DATA_DIR": str(tmp_path),
        }
        Runner(Settings(data_dir=tmp_path), database).accept_terms(
            COMPANY, "fault drill"
        )
        first = loaded.first - timedelta(days=1)

        def pending() -> set[str]:
            with database.sessions() as session:
                return set(
                    session.scalars(
                        select(DocumentRow.number).where(
                            DocumentRow.company_id == loaded.company_id,
                            DocumentRow.booking_status == BookingStatus.PENDING,
                        )
                    )
                )

        drill = Drill(
            sandbox=sandbox,
            admin=admin,
            pending=pending,
            command=[
                sys.executable,
                "-m",
                "tests.sync.drill_worker",
                "--company",
                COMPANY,
                "--first",
                first.isoformat(),
                "--last",
                today.isoformat(),
                "--report",
                str(tmp_path / "report.jsonl"),
                "--timeout",
                str(WORKER_TIMEOUT),
            ],
            environment={**os.environ, **variables},
            folder=tmp_path,
            rng=rng,
            events=plan(rng),
        )
        drill.run()
        with sandbox.lock:
            entries = [
                dict(entry)
                for entry in sandbox.divisions[DIVISION]
                .records("sales_entries")
                .values()
            ]
            division = sandbox.divisions[DIVISION]
            documents_in_exact = set(division.records("documents"))
            with_attachment = {
                attachment["Document"]
                for attachment in division.records("attachments").values()
            }
        stats = sandbox.stats_for(DIVISION)
        refreshes = sandbox.oauth.token_outcomes["refresh_token:ok"]
        faults_left = [(f.endpoint, f.method, f.kind) for f in sandbox.faults]

    on_entries = {entry["Document"] for entry in entries if entry["Document"]}
    orphans = documents_in_exact - on_entries
    lines = drill.runs()
    runs = [line for line in lines if line["event"] == "run"]
    errors = [line for line in lines if line["event"] == "error"]
    print(  # shown with -s: what this draw did
        f"\n{database_url.split(':')[0]} seed {SEED}: "
        f"{time.monotonic() - started:.1f} s, {drill.workers} workers, "
        f"kills {drill.kills}, events {dict(drill.done)}, "
        f"calls {stats.calls}, 429s {stats.rate_limited}, refreshes {refreshes}, "
        f"Exact documents not on an entry {len(orphans)}, "
        f"runs {[(r['status'], r['booked'], r['failed'], r['failures']) for r in runs]}"
        f", errors {[e['error'] for e in errors]}"
    )

    # The drill did what it says.
    assert len(drill.kills) >= 5, drill.kills
    assert sum(1 for kill in drill.kills if kill.startswith("held")) >= 2
    assert stats.rate_limited >= 1
    assert refreshes >= 1
    assert drill.lookups >= 2, "fewer than two kills left an invoice to look up"
    assert not faults_left, f"faults never met: {faults_left}"

    # One entry per invoice, no more, each equal to its invoice.
    with database.sessions() as session:
        documents = {
            row.number: row
            for row in session.scalars(
                select(DocumentRow).where(DocumentRow.company_id == loaded.company_id)
            )
        }
        pdfs = set(
            session.scalars(
                select(DocumentRow.number)
                .join(DocumentPdfRow, DocumentPdfRow.document_id == DocumentRow.id)
                .where(DocumentRow.company_id == loaded.company_id)
            )
        )
    refs = Counter(entry["YourRef"] for entry in entries)
    duplicated = {ref: n for ref, n in refs.items() if n > 1}
    assert not duplicated, f"booked more than once: {duplicated}"
    assert set(refs) == set(loaded.numbers) == set(documents)
    assert len(entries) == INVOICES
    for entry in entries:
        document = documents[entry["YourRef"]]
        sign = -1 if document.type == "credit_note" else 1
        assert entry["AmountFC"] == sign * document.total, entry["YourRef"]
        assert entry["VATAmountFC"] == sign * document.vat_total, entry["YourRef"]
        assert document.booking_status == "booked", document.number
        assert document.booking_entry_id == entry["EntryID"].lower()
        assert document.booking_pending_since is None
        if document.number in pdfs:  # its PDF went with it
            assert entry["Document"] in with_attachment, document.number
            # Linked after a crash, our row does not know the Document's id.
            assert document.exact_document_id in {None, entry["Document"]}
    unknown = sorted(n for n in pdfs if documents[n].exact_document_id is None)
    print(f"PDFs whose Exact Document our database does not know: {unknown}")

    # No run died of an error it should have handled; the last went through.
    assert not errors, errors[0]["traceback"]
    last = runs[-1]
    assert last["status"] == "succeeded", last
    assert last["failed"] == 0, last
