"""`ledgerbridge export`, `import`, `runs` and `terms`: the sync engine from
the command line, as the export dialogs of the business application offer it.

Exit codes, for scripts:

* 0: every document went through (the run succeeded), or nothing was to run
  (a preview, a listing);
* 1: some documents failed, or the run stopped (sign-in needed, daily limit,
  Exact down); the summary says which and why;
* 2: refused before anything was sent: a bad option or date, an unknown
  company or run, a flow switched off, terms not accepted, another run of the
  company going. The sentence on stderr says what to do.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
)
from rich.table import Table
from sqlalchemy import select

from ledgerbridge.runner import Runner, manual_request
from ledgerbridge.settings import Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import TermsAcceptanceRow
from ledgerbridge.sync.errors import SyncError, UnknownCompany
from ledgerbridge.sync.model import (
    DocumentResult,
    Flow,
    Outcome,
    Preview,
    RunInfo,
    RunStatus,
)
from ledgerbridge.wiring import Database

export_app = typer.Typer(
    help="Book a period's invoices in Exact Online.", no_args_is_help=True
)
import_app = typer.Typer(
    help="Bring back from Exact Online what was paid.", no_args_is_help=True
)
runs_app = typer.Typer(
    help="Runs: what each export and import did, document by document.",
    no_args_is_help=True,
)
terms_app = typer.Typer(
    help="The terms and conditions a company accepts before anything is sent "
    "to Exact Online.",
    no_args_is_help=True,
)

out = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
MAX_USER_LENGTH = 200
"""What the terms acceptance keeps of who accepted."""

CompanyOption = Annotated[
    str,
    typer.Option(
        "--company",
        metavar="REF",
        help="The company's reference (see 'ledgerbridge companies list').",
    ),
]
FromOption = Annotated[
    datetime,
    typer.Option(
        "--from", formats=["%Y-%m-%d"], metavar="DATE", help="First day, as 2026-06-01."
    ),
]
ToOption = Annotated[
    datetime,
    typer.Option(
        "--to", formats=["%Y-%m-%d"], metavar="DATE", help="Last day (included)."
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout.")
]
PreviewOption = Annotated[
    bool,
    typer.Option(
        "--preview",
        help="Show what the export would do, document by document, without "
        "writing to Exact and without starting a run.",
    ),
]


def make_runner(settings: Settings, database: Database) -> Runner:
    """The runner the commands use (tests swap it for one on the sandbox)."""
    return Runner(settings, database)


@contextmanager
def _runner() -> Iterator[Runner]:
    """The runner on the configured database; a `SyncError` becomes its
    sentence on stderr and exit code 2."""
    # `ledgerbridge.cli.app` imports this module: import it when it is complete.
    from ledgerbridge.cli.app import _database

    runner = make_runner(Settings(), _database())
    try:
        yield runner
    except SyncError as exc:
        err.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        runner.close()


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or passwd
        return "unknown user"


# Export and import


@export_app.command("customer-invoices")
def export_customer_invoices(
    company: CompanyOption,
    first: FromOption,
    last: ToOption,
    preview: PreviewOption = False,
    as_json: JsonOption = False,
) -> None:
    """Book the company's customer invoices and credit notes of the period.

    Each one is booked once: what is in Exact already is linked, not sent
    again, and a document that cannot be booked says why."""
    _export(Flow.CUSTOMER_INVOICES, company, first, last, preview, as_json)


@export_app.command("supplier-invoices")
def export_supplier_invoices(
    company: CompanyOption,
    first: FromOption,
    last: ToOption,
    preview: PreviewOption = False,
    as_json: JsonOption = False,
) -> None:
    """Book the company's supplier invoices and credit notes of the period."""
    _export(Flow.SUPPLIER_INVOICES, company, first, last, preview, as_json)


@import_app.command("payments")
def import_payments(
    company: CompanyOption,
    first: FromOption,
    last: ToOption,
    as_json: JsonOption = False,
) -> None:
    """Read from Exact what was paid on the invoices of the period booked
    there: open, partly paid, paid or reopened, and each payment."""
    _export(Flow.PAYMENTS, company, first, last, False, as_json)


def _export(
    flow: Flow,
    company: str,
    from_day: datetime,
    to_day: datetime,
    preview: bool,
    as_json: bool,
) -> None:
    first, last = from_day.date(), to_day.date()
    with _runner() as runner:
        if preview:
            shown = runner.preview(company, flow, first, last)
            if as_json:
                _print_json(preview_json(shown))
            else:
                _show_preview(shown)
            return

        run = runner.start(manual_request(company, flow, first, last, _user()))
        with _progress(flow, as_json) as progress:
            run = runner.execute(run.id, progress)
        results = runner.results(run.id)

    if as_json:
        _print_json(run_json(run, results))
    else:
        _show_run(run, results, all_documents=False)
    raise typer.Exit(exit_code(run))


def exit_code(run: RunInfo) -> int:
    return EXIT_OK if run.status is RunStatus.SUCCEEDED else EXIT_FAILED


# Runs


@runs_app.command("list")
def runs_list(
    company: Annotated[
        str | None, typer.Option("--company", help="Only this company's runs.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="How many, newest first.")
    ] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array on stdout.")
    ] = False,
) -> None:
    """The latest runs, newest first."""
    with _runner() as runner:
        runs = runner.store.runs(company, limit)
    if as_json:
        _print_json([run_json(run) for run in runs])
        return
    table = Table("run", "company", "flow", "period", "status", "done", "failed")
    table.add_column("started (UTC)")
    for run in runs:
        counts = run.counts
        done = (
            counts.updated
            if run.flow is Flow.PAYMENTS
            else counts.booked + counts.linked
        )
        table.add_row(
            str(run.id),
            escape(run.company_ref),
            run.flow.value.replace("_", " "),
            f"{run.first}..{run.last}",
            _status(run.status),
            str(done),
            str(counts.failed),
            f"{run.created_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)
    if not runs:
        err.print("No runs yet.")


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(help="The run's number, from 'runs list'.")],
    as_json: JsonOption = False,
) -> None:
    """A run, and what it did with each document: the reason, and Exact's own
    message, for those that did not go through."""
    with _runner() as runner:
        run = runner.store.run(run_id)
        results = runner.results(run_id)
    if as_json:
        _print_json(run_json(run, results))
    else:
        _show_run(run, results, all_documents=True)


# Terms


@terms_app.command("show")
def terms_show(
    company: Annotated[
        str | None,
        typer.Option("--company", help="Also say whether this company accepted them."),
    ] = None,
) -> None:
    """The terms and conditions, and their version."""
    with _runner() as runner:
        terms = runner.terms
        latest = _latest_acceptance(runner.database, company) if company else None
    out.print(terms.text, markup=False, highlight=False)
    out.print(f"Version: {terms.version}", highlight=False)
    if company is None:
        return
    if latest is None:
        out.print(f"Company {company} has not accepted them yet.", highlight=False)
    elif latest.version == terms.version:
        out.print(
            f"Company {company} accepted this version on "
            f"{latest.accepted_at:%Y-%m-%d %H:%M} UTC ({latest.accepted_by}).",
            markup=False,
            highlight=False,
        )
    else:
        out.print(
            f"Company {company} has not accepted this version; it accepted version "
            f"{latest.version} on {latest.accepted_at:%Y-%m-%d %H:%M} UTC "
            f"({latest.accepted_by}).",
            markup=False,
            highlight=False,
        )


@terms_app.command("accept")
def terms_accept(
    company: CompanyOption,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who accepts them (default: your user name)."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Accept without asking for confirmation.")
    ] = False,
) -> None:
    """Accept the terms and conditions for the company: shows them, asks to
    confirm, and records the version, who and when."""
    user = by or _user()
    if len(user) > MAX_USER_LENGTH:
        raise typer.BadParameter(
            f"at most {MAX_USER_LENGTH} characters", param_hint="'--by'"
        )
    with _runner() as runner:
        runner.store.company(company)  # an unknown company is refused first
        terms = runner.terms
        out.print(terms.text, markup=False, highlight=False)
        out.print(f"Version: {terms.version}", highlight=False)
        prompt = f"Accept these terms for company {company} as {user}?"
        if not yes and not typer.confirm(prompt, err=True):
            err.print("Not accepted; nothing was recorded.")
            raise typer.Exit(EXIT_FAILED)
        accepted = runner.accept_terms(company, user, terms.version)
    out.print(
        f"Company {company} accepted version {accepted.version} of the terms ({user}).",
        markup=False,
        highlight=False,
    )


def _latest_acceptance(database: Database, company: str) -> TermsAcceptanceRow | None:
    with database.sessions() as session:
        row = repo.get_company(session, company)
        if row is None:
            raise UnknownCompany(company)
        return session.scalar(
            select(TermsAcceptanceRow)
            .where(TermsAcceptanceRow.company_id == row.id)
            .order_by(TermsAcceptanceRow.id.desc())
            .limit(1)
        )


# Progress


class BarProgress:
    """A rich progress bar on stderr: documents done and failed, time left."""

    def __init__(self, flow: Flow) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TextColumn("{task.fields[left]}"),
            console=err,
        )
        self._label = flow.label
        self._task: TaskID | None = None
        self._done = self._failed = 0

    def start(self, total: int) -> None:
        self._task = self._bar.add_task(self._label, total=total, tally="", left="")
        self._bar.start()

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None:
        if self._task is None:
            return
        if result.outcome is Outcome.FAILED:
            self._failed += 1
        else:
            self._done += 1
        self._bar.update(
            self._task,
            advance=1,
            tally=f"{self._done} done, {self._failed} failed",
            left=_time_left(seconds_left),
        )

    def stop(self) -> None:
        self._bar.stop()


class LineProgress:
    """Plain lines on stderr, for logs and pipes: one every `every`
    documents and one at the end."""

    def __init__(self, flow: Flow, every: int = 50) -> None:
        self._label = flow.label
        self._every = every
        self._total = self._seen = self._failed = 0

    def start(self, total: int) -> None:
        self._total = total
        noun = "document" if total == 1 else "documents"
        _line(f"{self._label}: {total} {noun} to look at")

    def advance(self, result: DocumentResult, seconds_left: float | None) -> None:
        self._seen += 1
        if result.outcome is Outcome.FAILED:
            self._failed += 1
        if self._seen % self._every == 0 or self._seen == self._total:
            left = _time_left(seconds_left)
            _line(
                f"{self._label}: {self._seen}/{self._total}, "
                f"{self._seen - self._failed} done, {self._failed} failed"
                + (f", {left}" if left and self._seen < self._total else "")
            )

    def stop(self) -> None:
        pass


@contextmanager
def _progress(flow: Flow, as_json: bool) -> Iterator[BarProgress | LineProgress]:
    shown = (
        BarProgress(flow) if not as_json and sys.stderr.isatty() else LineProgress(flow)
    )
    try:
        yield shown
    finally:
        shown.stop()


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _time_left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes / 60:.1f} h left"


# What the commands print


def run_json(
    run: RunInfo, results: list[DocumentResult] | None = None
) -> dict[str, Any]:
    """A run as `--json` prints it; `documents` only when `results` are given."""
    counts: dict[str, int] = {
        "booked": run.counts.booked,
        "linked": run.counts.linked,
        "skipped": run.counts.skipped,
        "failed": run.counts.failed,
        "already_done": run.counts.already_done,
    }
    if run.flow is Flow.PAYMENTS:
        counts |= {"updated": run.counts.updated, "payments": run.counts.payments}
    shown: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status.value,
        "message": run.message,
        "company": run.company_ref,
        "flow": run.flow.value,
        "from": run.first.isoformat(),
        "to": run.last.isoformat(),
        "trigger": run.trigger.value,
        "started_by": run.started_by,
        "started_at": _iso(run.started_at or run.created_at),
        "finished_at": _iso(run.finished_at),
        "counts": counts,
        "exact_calls": run.exact_calls,
    }
    if results is not None:
        shown["documents"] = [
            {
                "number": result.number,
                "outcome": result.outcome.value,
                "entry_number": result.entry_number,
                "reason_code": result.reason_code,
                "reason": result.reason,
                "exact_message": result.exact_message,
            }
            for result in results
        ]
    return shown


def preview_json(preview: Preview) -> dict[str, Any]:
    return {
        "company": preview.company_ref,
        "flow": preview.flow.value,
        "from": preview.first.isoformat(),
        "to": preview.last.isoformat(),
        "counts": {will: preview.count(will) for will in _WILLS},
        "documents": [
            {
                "number": document.number,
                "date": document.issue_date.isoformat(),
                "party": document.party,
                "party_code": document.party_code,
                "journal": document.journal,
                "total": str(document.total),
                "currency": document.currency,
                "will": document.will,
                "entry_number": document.entry_number,
                "create_party": document.create_party,
                "lines": [
                    {
                        "gl_account": line.gl_account,
                        "vat_code": line.vat_code,
                        "description": line.description,
                        "net": str(line.net),
                        "vat": str(line.vat),
                    }
                    for line in document.lines
                ],
                "problems": [
                    {"code": code, "sentence": sentence, "where": where}
                    for code, sentence, where in document.problems
                ],
            }
            for document in preview.documents
        ],
    }


_WILLS = ("book", "link", "skip", "fail")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _print_json(value: object) -> None:
    # Not through rich: it would wrap and colour what a script parses.
    print(json.dumps(value, indent=2, ensure_ascii=False))


_STATUS_STYLES = {
    RunStatus.SUCCEEDED: "green",
    RunStatus.PARTIAL: "yellow",
    RunStatus.STOPPED: "red",
    RunStatus.INTERRUPTED: "red",
}


def _status(status: RunStatus) -> str:
    style = _STATUS_STYLES.get(status)
    return f"[{style}]{status.value}[/{style}]" if style else status.value


def _show_run(run: RunInfo, results: list[DocumentResult], all_documents: bool) -> None:
    out.print(
        f"Run {run.id}: {run.flow.label} of {escape(run.company_ref)}, "
        f"{run.first} to {run.last}: {_status(run.status)}",
        highlight=False,
    )
    counts = run.counts
    if run.flow is Flow.PAYMENTS:
        summary = Table("documents changed", "new payments", "Exact calls")
        summary.add_row(str(counts.updated), str(counts.payments), str(run.exact_calls))
    else:
        summary = Table(
            "booked", "linked", "skipped", "failed", "already done", "Exact calls"
        )
        summary.add_row(
            str(counts.booked),
            str(counts.linked),
            str(counts.skipped),
            str(counts.failed),
            str(counts.already_done),
            str(run.exact_calls),
        )
    out.print(summary)
    if run.message:
        out.print(run.message, markup=False, highlight=False)

    if all_documents:
        _document_table(results)
        return
    failed = [result for result in results if result.outcome is Outcome.FAILED]
    if failed:
        out.print("\nFailed documents:")
    for result in failed:
        out.print(f"  {result.number}: {result.reason or ''}", markup=False)
        if result.exact_message:
            out.print(f"    Exact said: {result.exact_message}", markup=False)


def _document_table(results: list[DocumentResult]) -> None:
    if not results:
        return
    table = Table("number", "outcome", "entry", "reason", "Exact's message")
    for result in results:
        table.add_row(
            escape(result.number),
            result.outcome.value,
            str(result.entry_number or ""),
            escape(result.reason or ""),
            escape(result.exact_message or ""),
        )
    out.print(table)


def _show_preview(preview: Preview) -> None:
    words = ", ".join(f"{preview.count(will)} {will}" for will in _WILLS)
    out.print(
        f"Preview of the {preview.flow.label} of {escape(preview.company_ref)}, "
        f"{preview.first} to {preview.last}: {words}. Nothing was sent.",
        highlight=False,
    )
    if not preview.documents:
        return
    table = Table("number", "date", "party", "code", "journal", "total", "will")
    for document in preview.documents:
        table.add_row(
            escape(document.number),
            str(document.issue_date),
            escape(document.party),
            escape(document.party_code or ""),
            escape(document.journal or ""),
            f"{document.total} {document.currency}",
            document.will,
        )
    out.print(table)
    stopped = [document for document in preview.documents if document.problems]
    if stopped:
        out.print("\nWhat stops them:")
    for document in stopped:
        for _code, sentence, _where in document.problems:
            out.print(
                f"  {document.number} ({document.will}): {sentence}", markup=False
            )
