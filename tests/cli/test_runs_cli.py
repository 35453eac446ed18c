"""`ledgerbridge export`, `import`, `runs` and `terms`, in-process, on both
databases.

Runs that talk to Exact use the sandbox with the demo companies connected
(`env`, from tests/sync): the sandbox's clock and HTTP client are the
environment's, so the commands get its `Runner` through `make_runner`. The
guards and the terms need no Exact and run on company `acme`, not connected,
with the runner the commands build themselves.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import structlog
from click.testing import Result
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledgerbridge import intake, wiring
from ledgerbridge.cli import app
from ledgerbridge.domain.accounting import (
    AccountingSettings,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import RunRow, TermsAcceptanceRow
from ledgerbridge.sync.model import DocumentResult, Flow, Outcome, RunRequest, Trigger
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company
from tests.sync import conftest as sync
from tests.sync.conftest import BE, Env

env = sync.env
"""The sandbox, and the demo companies connected to it (`tests/sync`)."""

cli_module = importlib.import_module("ledgerbridge.cli.app")
runs_module = importlib.import_module("ledgerbridge.cli.runs")
runner = CliRunner()

Invoke = Callable[..., Result]
TODAY = "2026-12-03"
RUN_KEYS = {
    "run_id",
    "status",
    "message",
    "company",
    "flow",
    "from",
    "to",
    "counts",
    "exact_calls",
    "documents",
}
DOCUMENT_KEYS = {
    "number",
    "outcome",
    "entry_number",
    "reason_code",
    "reason",
    "exact_message",
}


def _said(text: str) -> str:
    """`text` with Rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def invoke(database: Database, database_url: str, tmp_path: Path) -> Iterator[Invoke]:
    """Run the CLI as its own process would, on the test's database, then
    close the engines it opened."""
    opened: list[Database] = []

    def open_database(settings: Settings) -> Database:
        opened.append(wiring.open_database(settings))
        return opened[-1]

    def run(*args: str, input: str | None = None) -> Result:
        try:
            with patch.object(cli_module, "open_database", open_database):
                return runner.invoke(
                    app,
                    list(args),
                    input=input,
                    env={
                        "LEDGERBRIDGE_DATABASE_URL": database_url,
                        "LEDGERBRIDGE_DATA_DIR": str(tmp_path),
                        "COLUMNS": "200",
                    },
                )
        finally:
            _unhook_logging()

    yield run
    for opened_database in opened:
        opened_database.engine.dispose()


def _unhook_logging() -> None:
    """Drop the log handler the command left on its stderr, which is closed
    now: the sandbox's server thread still logs (tests/cli/conftest.py
    restores the rest after the test)."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)


def _count(database: Database, model: type[Any]) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# Without Exact: company acme, switched on, not connected


@pytest.fixture
def acme(database: Database) -> str:
    with database.sessions() as session:
        row = add_company(session)
        intake.save_settings(
            session,
            row,
            AccountingSettings(
                sales=ExportSettings(enabled=True),
                purchases=ExportSettings(enabled=False),
                payments=PaymentImportSettings(enabled=True),
            ),
        )
        session.commit()
    return "acme"


def _accept(database: Database, tmp_path: Path) -> None:
    Runner(Settings(data_dir=tmp_path), database).accept_terms("acme", "tests")


def test_terms_accept_asks_and_records_who(
    invoke: Invoke, acme: str, database: Database
) -> None:
    result = invoke("terms", "accept", "--company", acme, "--by", "Ann", input="y\n")

    assert result.exit_code == 0, result.output
    assert "Exact Online" in result.stdout
    assert "Accept these terms for company acme as Ann?" in result.stderr
    with database.sessions() as session:
        row = session.scalars(select(TermsAcceptanceRow)).one()
    assert row.accepted_by == "Ann"
    assert f"accepted version {row.version}" in _said(result.stdout)

    shown = invoke("terms", "show", "--company", acme)
    assert shown.exit_code == 0, shown.output
    assert f"Version: {row.version}" in shown.stdout
    assert "Company acme accepted this version on" in _said(shown.stdout)
    assert "(Ann)" in shown.stdout


def test_terms_accept_declined_records_nothing(
    invoke: Invoke, acme: str, database: Database
) -> None:
    result = invoke("terms", "accept", "--company", acme, input="n\n")

    assert result.exit_code == 1
    assert "nothing was recorded" in result.stderr
    assert _count(database, TermsAcceptanceRow) == 0
    shown = invoke("terms", "show", "--company", acme)
    assert "Company acme has not accepted them yet." in _said(shown.stdout)


def test_terms_accept_yes_takes_the_user_name(
    invoke: Invoke, acme: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_module.getpass, "getuser", lambda: "finance-ann")

    result = invoke("terms", "accept", "--company", acme, "--yes")

    assert result.exit_code == 0, result.output
    with database.sessions() as session:
        assert session.scalars(select(TermsAcceptanceRow)).one().accepted_by == (
            "finance-ann"
        )


def test_terms_accept_of_an_unknown_company_exits_2_before_asking(
    invoke: Invoke, acme: str
) -> None:
    result = invoke("terms", "accept", "--company", "nope")

    assert result.exit_code == 2
    assert "No company has the reference 'nope'." in result.stderr
    assert "Accept these terms" not in result.output


def test_terms_show_without_company_shows_text_and_version(invoke: Invoke) -> None:
    result = invoke("terms", "show")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Terms for sending your bookkeeping")
    assert "Version: " in result.stdout


@pytest.mark.parametrize(
    "args, said",
    [
        (
            ["export", "customer-invoices", "--company", "nope"],
            "No company has the reference 'nope'.",
        ),
        (
            ["export", "supplier-invoices", "--company", "acme"],
            "The supplier invoice export is switched off for company acme",
        ),
        (
            ["export", "customer-invoices", "--company", "acme", "--preview"],
            "has not accepted the terms and conditions",
        ),
    ],
)
def test_refused_command_exits_2_with_the_sentence(
    invoke: Invoke, acme: str, database: Database, args: list[str], said: str
) -> None:
    result = invoke(*args, "--from", "2026-11-01", "--to", TODAY)

    assert result.exit_code == 2
    assert said in _said(result.stderr)
    assert result.stdout == ""
    assert _count(database, RunRow) == 0


def test_export_without_terms_exits_2_and_creates_no_run(
    invoke: Invoke, acme: str, database: Database
) -> None:
    result = invoke(
        "export",
        "customer-invoices",
        "--company",
        acme,
        "--from",
        TODAY,
        "--to",
        TODAY,
        "--json",
    )

    assert result.exit_code == 2
    assert "ledgerbridge terms accept --company acme" in _said(result.stderr)
    assert result.stdout == ""
    assert _count(database, RunRow) == 0


@pytest.mark.parametrize(
    "first, last, said",
    [
        ("2026-13-01", TODAY, "Invalid value for '--from'"),
        (TODAY, "2026-11-01", "swap the dates"),
    ],
)
def test_export_with_a_bad_period_exits_2(
    invoke: Invoke,
    acme: str,
    database: Database,
    tmp_path: Path,
    first: str,
    last: str,
    said: str,
) -> None:
    _accept(database, tmp_path)

    result = invoke(
        "export", "customer-invoices", "--company", acme, "--from", first, "--to", last
    )

    assert result.exit_code == 2
    assert said in _said(result.stderr)
    assert _count(database, RunRow) == 0


def test_export_while_a_run_goes_exits_2_naming_it(
    invoke: Invoke, acme: str, database: Database, tmp_path: Path
) -> None:
    _accept(database, tmp_path)
    day = date.fromisoformat(TODAY)
    going = Runner(Settings(data_dir=tmp_path), database).start(
        RunRequest(acme, Flow.PAYMENTS, day, day, Trigger.DAILY, "scheduler")
    )

    result = invoke(
        "import", "payments", "--company", acme, "--from", TODAY, "--to", TODAY
    )

    assert result.exit_code == 2
    assert f"already has a run running: run {going.id}" in _said(result.stderr)
    assert f"ledgerbridge runs show {going.id}" in _said(result.stderr)
    assert _count(database, RunRow) == 1


def test_export_of_a_company_not_connected_stops_and_exits_1(
    invoke: Invoke, acme: str, database: Database, tmp_path: Path
) -> None:
    _accept(database, tmp_path)

    result = invoke(
        "export",
        "customer-invoices",
        "--company",
        acme,
        "--from",
        TODAY,
        "--to",
        TODAY,
        "--json",
    )

    assert result.exit_code == 1
    shown = json.loads(result.stdout)
    assert shown["status"] == "stopped"
    assert "LEDGERBRIDGE_EXACT_CLIENT_ID" in shown["message"]

    listed = invoke("runs", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [run["run_id"] for run in json.loads(listed.stdout)] == [shown["run_id"]]
    human = invoke("runs", "list", "--company", acme)
    assert "stopped" in human.stdout


def test_runs_show_of_an_unknown_run_exits_2(invoke: Invoke) -> None:
    result = invoke("runs", "show", "41")

    assert result.exit_code == 2
    assert "There is no run 41." in result.stderr


def test_runs_list_of_an_unknown_company_exits_2(invoke: Invoke) -> None:
    result = invoke("runs", "list", "--company", "nope")

    assert result.exit_code == 2
    assert "No company has the reference 'nope'." in result.stderr


# With Exact: the sandbox and the demo companies


@pytest.fixture
def connected(env: Env, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """`invoke` with the environment's runner; the terms accepted for
    be-keukens."""
    monkeypatch.setattr(runs_module, "make_runner", lambda *_: env.runner)
    env.accept_terms()
    return invoke


def days(env: Env) -> tuple[str, str]:
    """A day whose customer invoices all book, and one where some fail."""
    preview = env.runner.preview(
        BE, Flow.CUSTOMER_INVOICES, env.today - timedelta(days=200), env.today
    )
    wills: dict[date, set[str]] = {}
    for document in preview.documents:
        wills.setdefault(document.issue_date, set()).add(document.will)
    good = min(day for day, found in wills.items() if found == {"book"})
    bad = min(day for day, found in wills.items() if "fail" in found)
    return str(good), str(bad)


def _export(invoke: Invoke, day: str, *options: str) -> Result:
    return invoke(
        "export",
        "customer-invoices",
        "--company",
        BE,
        "--from",
        day,
        "--to",
        day,
        *options,
    )


def test_export_that_books_everything_exits_0(env: Env, connected: Invoke) -> None:
    good, _ = days(env)

    result = _export(connected, good)

    assert result.exit_code == 0, result.output
    said = _said(result.stdout)
    assert f"customer invoice export of {BE}, {good} to {good}: succeeded" in said
    assert "Failed documents" not in said
    booked = len(env.entries())
    assert booked > 0
    assert f"customer invoice export: {booked} documents to look at" in result.stderr
    assert f"{booked}/{booked}, {booked} done, 0 failed" in result.stderr


def test_export_with_failures_exits_1_and_says_why(env: Env, connected: Invoke) -> None:
    _, bad = days(env)

    result = _export(connected, bad)

    assert result.exit_code == 1, result.output
    said = _said(result.stdout)
    assert ": partial" in said
    assert "Failed documents" in said
    failed = env.runner.results(env.runner.store.runs(BE)[0].id)
    reasons = [r for r in failed if r.outcome is Outcome.FAILED]
    assert reasons and reasons[0].reason
    assert _said(reasons[0].reason)[:40] in said

    again = _export(connected, bad, "--json")

    assert again.exit_code == 1, again.output
    shown = json.loads(again.stdout)
    assert set(shown) >= RUN_KEYS
    assert (shown["status"], shown["company"], shown["flow"]) == (
        "partial",
        BE,
        "customer_invoices",
    )
    assert (shown["from"], shown["to"]) == (bad, bad)
    assert set(shown["counts"]) == {
        "booked",
        "linked",
        "skipped",
        "failed",
        "already_done",
    }
    assert shown["counts"]["already_done"] == len(env.entries()) > 0
    assert shown["counts"]["booked"] == 0
    assert shown["documents"]
    assert all(set(d) == DOCUMENT_KEYS for d in shown["documents"])
    assert all(d["reason"] for d in shown["documents"] if d["outcome"] == "failed")

    show = connected("runs", "show", str(shown["run_id"]), "--json")
    assert show.exit_code == 0, show.output
    assert json.loads(show.stdout)["documents"] == shown["documents"]
    human = connected("runs", "show", str(shown["run_id"]))
    assert reasons[0].number in human.stdout
    listed = json.loads(connected("runs", "list", "--company", BE, "--json").stdout)
    assert [run["status"] for run in listed] == ["partial", "partial"]
    assert listed[0]["run_id"] == shown["run_id"]


def test_preview_json_shows_documents_and_sends_nothing(
    env: Env, connected: Invoke, database: Database
) -> None:
    result = connected(
        "export",
        "customer-invoices",
        "--company",
        BE,
        "--from",
        "2026-06-01",
        "--to",
        TODAY,
        "--preview",
        "--json",
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["company"], shown["from"], shown["to"]) == (BE, "2026-06-01", TODAY)
    documents = shown["documents"]
    assert shown["counts"]["book"] == sum(d["will"] == "book" for d in documents) > 0
    booking = next(d for d in documents if d["will"] == "book")
    assert {
        "number",
        "date",
        "party",
        "party_code",
        "journal",
        "total",
        "currency",
        "will",
        "lines",
        "problems",
    } <= set(booking)
    assert set(booking["lines"][0]) == {
        "gl_account",
        "vat_code",
        "description",
        "net",
        "vat",
    }
    failing = next(d for d in documents if d["will"] == "fail")
    assert set(failing["problems"][0]) == {"code", "sentence", "where"}
    assert _count(database, RunRow) == 0
    assert env.entries() == []
    divisions = env.http.get("/_sandbox/stats").json()["divisions"]
    calls = divisions.get(str(sync.DIVISIONS[BE][0]), {}).get("by_endpoint", {})
    assert not [name for name in calls if name.startswith("POST")]


def test_preview_human_lists_documents_and_problems(
    env: Env, connected: Invoke
) -> None:
    _, bad = days(env)

    result = _export(connected, bad, "--preview")

    assert result.exit_code == 0, result.output
    said = _said(result.stdout)
    assert "Nothing was sent." in said
    assert "What stops them" in said
    assert env.entries() == []


def test_import_payments_json_exits_0_with_its_counts(
    env: Env, connected: Invoke
) -> None:
    result = connected(
        "import",
        "payments",
        "--company",
        BE,
        "--from",
        "2026-06-01",
        "--to",
        TODAY,
        "--json",
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["flow"], shown["status"]) == ("payments", "succeeded")
    assert {"updated", "payments"} <= set(shown["counts"])
    assert shown["documents"] == []


# Progress


def test_bar_progress_counts_done_and_failed_and_time_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(
        runs_module, "err", Console(file=screen, force_terminal=True, width=120)
    )
    bar = runs_module.BarProgress(Flow.CUSTOMER_INVOICES)

    bar.start(3)
    bar.advance(DocumentResult(1, "F-1", Outcome.BOOKED), 150.0)
    bar.advance(DocumentResult(2, "F-2", Outcome.FAILED), 20.0)
    bar.stop()

    shown = screen.getvalue()
    assert "customer invoice export" in shown
    assert "2/3" in shown
    assert "1 done, 1 failed" in shown
    assert "less than a minute left" in shown
