"""Commands for operators and scripts: the database, API keys, the server,
the demo."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from ledgerbridge import __version__, apikeys, demo, users
from ledgerbridge import logging as lb_logging
from ledgerbridge.cli.connect import connect, connections_app
from ledgerbridge.cli.keys import keys_app
from ledgerbridge.cli.runs import export_app, import_app, runs_app, terms_app
from ledgerbridge.cli.sandbox import sandbox_app
from ledgerbridge.cli.status import status
from ledgerbridge.cli.users import user_app
from ledgerbridge.cli.worker import worker
from ledgerbridge.demo import sandbox as demo_exact
from ledgerbridge.jobs.daily import daily_time
from ledgerbridge.jobs.queue import EmbeddedQueue, QueueUnavailable, open_queue
from ledgerbridge.jobs.scheduler import DailyScheduler
from ledgerbridge.runner import Runner
from ledgerbridge.settings import Settings
from ledgerbridge.storage import migrate
from ledgerbridge.storage import repositories as repo
from ledgerbridge.sync.model import Flow
from ledgerbridge.sync.runs import daily_period
from ledgerbridge.web.app import create_app
from ledgerbridge.wiring import Database, open_database

app = typer.Typer(
    name="ledgerbridge",
    help="Books a business application's invoices in Exact Online.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the REST API.", no_args_is_help=True)
companies_app = typer.Typer(help="Companies.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")
app.add_typer(companies_app, name="companies")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(keys_app, name="keys")
app.add_typer(connections_app, name="connections")
app.command("connect")(connect)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(runs_app, name="runs")
app.add_typer(terms_app, name="terms")
app.add_typer(user_app, name="user")
app.command("worker")(worker)
app.command("status")(status)

out = Console()
err = Console(stderr=True)
logger = structlog.get_logger(__name__)

DEMO_KEY_NAME = "demo"

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


def main() -> None:
    app()


def _version(value: bool) -> None:
    if value:
        out.print(f"ledgerbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show it."),
    ] = False,
) -> None:
    settings = Settings()
    lb_logging.configure(settings.log_level, settings.log_format)


def _database(require_current: bool = True) -> Database:
    settings = Settings()
    try:
        make_url(settings.effective_database_url)
    except ArgumentError as exc:
        # The URL itself is not shown: it may hold a password.
        err.print(
            "[red]LEDGERBRIDGE_DATABASE_URL is not a database URL[/red] "
            "(expected e.g. postgresql+psycopg://user@host:5432/ledgerbridge)."
        )
        raise typer.Exit(1) from exc
    try:
        database = open_database(settings)
        current = database.is_current()
    # DBAPIError: no server, or a file that is not a database; OSError: the
    # SQLite folder cannot be created.
    except (DBAPIError, OSError) as exc:
        url = make_url(settings.effective_database_url)
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        err.print(
            f"[red]Cannot open the database[/red] at "
            f"{url.render_as_string(hide_password=True)}: "
            f"{reason}. Check LEDGERBRIDGE_DATABASE_URL or LEDGERBRIDGE_DATA_DIR."
        )
        raise typer.Exit(1) from exc
    if require_current and not current:
        err.print(
            "[red]The database schema is not up to date.[/red] "
            "Run 'ledgerbridge db upgrade' first."
        )
        raise typer.Exit(1)
    return database


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database does not have yet."""
    database = _database(require_current=False)
    before = migrate.current_revision(database.engine)
    database.upgrade()
    after = migrate.current_revision(database.engine)
    if before == after:
        out.print(f"The database is up to date (revision {after}).")
    else:
        out.print(f"Upgraded the database from {before or 'empty'} to {after}.")


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the web app and the API, and the daily runs (unless
    LEDGERBRIDGE_SCHEDULER=false). On PostgreSQL, runs are queued for
    'ledgerbridge worker' processes, which also run the daily schedule
    (LEDGERBRIDGE_QUEUE=embedded keeps them in this process)."""
    settings = Settings()
    database = _database()
    # One runner for the API and the daily runs: one rate governor per
    # Exact division in this process.
    runner = Runner(settings, database)
    try:
        queue = open_queue(settings, runner)
    except QueueUnavailable as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from exc
    # With Procrastinate the workers tick, once a minute however many.
    in_process = isinstance(queue, EmbeddedQueue)
    jobs = (
        DailyScheduler(runner, database) if settings.scheduler and in_process else None
    )

    def start() -> None:
        if jobs is not None:
            jobs.start()
        if not in_process:
            logger.info("serve.runs_queued", queue="procrastinate")

    def stop() -> None:
        if jobs is not None:
            jobs.stop()
        queue.close()
        runner.close()

    web = create_app(database.sessions, runner)
    web.state.run_queue = queue
    uvicorn.run(_on_lifespan(web, start, stop), host=host, port=port, log_config=None)


def _on_lifespan(
    web: FastAPI, start: Callable[[], None], stop: Callable[[], None]
) -> FastAPI:
    """Call `start` when the server starts `web`, and `stop` when it shuts it
    down: before uvicorn returns, and before it re-raises the signal that
    stopped it (SIGTERM would end the process before a `finally`)."""
    inner = web.router.lifespan_context

    @asynccontextmanager
    async def lifespan(owner: Any) -> AsyncIterator[Any]:
        async with inner(owner) as state:
            await asyncio.to_thread(start)
            try:
                yield state
            finally:
                await asyncio.to_thread(stop)

    web.router.lifespan_context = lifespan
    return web


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    company: Annotated[
        list[str] | None,
        typer.Option(help="Limit the key to this company (repeatable)."),
    ] = None,
) -> None:
    """Create an API key; it is shown once and stored only as a hash."""
    database = _database()
    with database.sessions() as session:
        row, plaintext = apikeys.create(session, name, company or [])
        session.commit()
        reach = ", ".join(c.company_ref for c in row.companies) or "all companies"
    out.print(f"API key {name!r} ({row.prefix}) for {reach}:")
    out.print(plaintext, soft_wrap=True, highlight=False)
    err.print("Keep it now: it cannot be shown again.")


@apikey_app.command("list")
def apikey_list() -> None:
    """API keys, without their secrets."""
    database = _database()
    with database.sessions() as session:
        table = Table("prefix", "name", "companies", "created", "last used", "revoked")
        for row in apikeys.list_keys(session):
            table.add_row(
                row.prefix,
                row.name,
                ", ".join(c.company_ref for c in row.companies) or "all",
                f"{row.created_at:%Y-%m-%d %H:%M}",
                f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "-",
                f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-",
            )
    out.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix, from 'list'.")],
) -> None:
    """Revoke an API key at once."""
    database = _database()
    with database.sessions() as session:
        row = apikeys.revoke(session, prefix)
        session.commit()
    if row is None:
        err.print(f"No API key with prefix {prefix!r}; see 'ledgerbridge apikey list'.")
        raise typer.Exit(1)
    out.print(f"Revoked API key {row.name!r} ({prefix}).")


@companies_app.command("list")
def companies_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The companies ledgerbridge knows."""
    database = _database()
    with database.sessions() as session:
        rows = repo.list_companies(session, None, limit=10_000, offset=0).items
        companies = [
            {
                "ref": row.ref,
                "name": row.name,
                "country": row.country,
                "vat_number": row.vat_number,
                "base_currency": row.base_currency,
                "time_zone": row.time_zone,
            }
            for row in rows
        ]
    if as_json:
        out.print_json(json.dumps(companies))
        return
    table = Table("ref", "name", "country", "VAT number", "currency", "time zone")
    for company in companies:
        table.add_row(*company.values())
    out.print(table)


@app.command("demo")
def run_demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    sandbox_port: Annotated[
        int,
        typer.Option(
            help="Port of the Exact Online sandbox the demo starts.", min=1, max=65535
        ),
    ] = 8700,
    serve_app: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Start the sandbox and the web app (--no-serve: load the data only).",
        ),
    ] = True,
) -> None:
    """Migrate, load the demo companies and invoices, start the Exact Online
    sandbox with both companies connected, and serve the web app with the
    daily runs."""
    settings = Settings()
    if serve_app:
        _check_ports(host, port, sandbox_port)
    database = _database(require_current=False)
    database.upgrade()
    with database.sessions() as session:
        summary = demo.seed(session, date.today())  # noqa: DTZ011 - the user's day
        for key in apikeys.list_keys(session):
            if key.name == DEMO_KEY_NAME:
                apikeys.revoke(session, key.prefix)
        _, plaintext = apikeys.create(session, DEMO_KEY_NAME)
        admin_password = _demo_admin(session)
        session.commit()

    out.print(f"Demo data ready: {summary}.")
    out.print(
        f"Database: {database.engine.url.render_as_string(hide_password=True)}",
        soft_wrap=True,
    )
    out.print("A new API key for the demo (shown once; the previous one is revoked):")
    out.print(f"  {plaintext}", soft_wrap=True, highlight=False)
    base = f"http://{demo_exact.client_host(host)}:{port}"
    if admin_password is not None:
        out.print(
            f"Sign in to the web app at {base}/ as '{DEMO_ADMIN}' with the password "
            f"{admin_password} (shown once).",
            soft_wrap=True,
            highlight=False,
        )
    else:
        out.print(
            f"Sign in to the web app at {base}/ as '{DEMO_ADMIN}' with the password "
            "shown at the demo's first start, or make another user with "
            "'ledgerbridge user create'.",
            soft_wrap=True,
        )
    tries = (
        f"  curl -H 'Authorization: Bearer {plaintext}' {base}/api/v1/companies\n"
        f"  curl -H 'Authorization: Bearer {plaintext}' "
        f"'{base}/api/v1/companies/be-keukens/customer-invoices?limit=5'"
    )
    if not serve_app:
        out.print(f"\nTry:\n{tries}", soft_wrap=True, highlight=False)
        return

    sandbox = _start_demo_sandbox(settings, host, sandbox_port)
    try:
        runner, report = _set_up_demo_sandbox(settings, database, sandbox, base)
    except BaseException as exc:
        sandbox.stop()
        if not isinstance(exc, demo_exact.DemoSetupError):
            raise
        err.print(f"[red]The demo's Exact Online sandbox:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    _print_demo_sandbox(settings, runner, report)
    out.print(f"\nTry:\n{tries}", soft_wrap=True, highlight=False)
    _print_demo_commands(settings, report.base_url)

    jobs = DailyScheduler(runner, database) if settings.scheduler else None
    stopped = threading.Event()

    def start() -> None:
        if jobs is not None:
            jobs.start()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        if jobs is not None:
            jobs.stop()
        runner.close()
        sandbox.stop()

    out.print(f"\nServing on {base}/ (Ctrl+C stops).")
    try:
        web = _on_lifespan(create_app(database.sessions, runner), start, stop)
        uvicorn.run(web, host=host, port=port, log_config=None)
    finally:
        stop()


DEMO_ADMIN = "admin"


def _demo_admin(session: Session) -> str | None:
    """Create the demo's admin user, once; its password, or None when it
    exists already (only a hash of it is stored)."""
    if users.find_user(session, DEMO_ADMIN) is not None:
        return None
    password = secrets.token_urlsafe(12)
    users.create_user(session, DEMO_ADMIN, password, users.Role.ADMIN)
    return password


def _check_ports(host: str, port: int, sandbox_port: int) -> None:
    """Say a taken port before anything starts."""
    if port == sandbox_port:
        err.print("[red]--port and --sandbox-port must differ.[/red]")
        raise typer.Exit(1)
    for taken, option in ((port, "--port"), (sandbox_port, "--sandbox-port")):
        try:
            demo_exact.bind(host, taken).close()
        except OSError as exc:
            err.print(
                f"[red]Port {taken} on {host} is not free[/red] ({exc.strerror}): "
                f"another copy of the demo? Choose another with {option}.",
                soft_wrap=True,
            )
            raise typer.Exit(1) from exc


def _start_demo_sandbox(
    settings: Settings, host: str, sandbox_port: int
) -> demo_exact.ServerThread:
    """The sandbox, served from a thread, its state in the data folder."""
    try:
        return demo_exact.start_sandbox(
            settings.data_dir, demo_exact.bind(host, sandbox_port)
        )
    except (OSError, demo_exact.DemoSetupError) as exc:
        err.print(f"[red]The sandbox did not start:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc


def _set_up_demo_sandbox(
    settings: Settings,
    database: Database,
    sandbox: demo_exact.ServerThread,
    web_url: str,
) -> tuple[Runner, demo_exact.SetUp]:
    host = demo_exact.client_host(str(sandbox.sock.getsockname()[0]))
    sandbox_url = f"http://{host}:{sandbox.port}"
    # Exact's redirect comes back to the web app: Connect works in the browser.
    demo_app, _ = demo_exact.ensure_app(
        sandbox_url,
        demo_exact.app_file(settings.data_dir),
        demo_exact.web_redirect_uri(web_url),
    )
    runner = Runner(demo_exact.demo_settings(settings, demo_app, sandbox_url), database)
    try:
        return runner, demo_exact.set_up(runner, sandbox_url)
    except BaseException:
        runner.close()
        raise


def _print_demo_sandbox(
    settings: Settings, runner: Runner, report: demo_exact.SetUp
) -> None:
    sandbox_url = report.base_url
    state = settings.data_dir / demo_exact.STATE_FILE
    lines = [f"\nExact Online sandbox on {sandbox_url}/ (state: {state})"]
    for ref, division in demo_exact.DIVISIONS.items():
        made = " (created now)" if division.code in report.created else ""
        how = "connected now" if ref in report.connected else "still connected"
        lines.append(
            f"  {ref}: division {division.code}{made}, {division.template} "
            f"template; {how}"
        )
    lines.append(
        f"  Terms and conditions accepted as {demo_exact.TERMS_USER!r} "
        f"(version {runner.terms.version})."
    )
    lines.append(f"  Web view (pay an invoice there): {sandbox_url}/_sandbox/ui/")
    if settings.scheduler:
        times = _daily_times(runner)
        lines.append(
            f"Daily runs: {times}, in each company's time zone; today's start "
            "now if their time has passed, and a company's other runs wait "
            "for its daily run to end (LEDGERBRIDGE_SCHEDULER=false: none)."
        )
    else:
        lines.append("Daily runs: off (LEDGERBRIDGE_SCHEDULER=false).")
    for line in lines:
        out.print(line, soft_wrap=True, highlight=False, markup=False)


def _daily_times(runner: Runner) -> str:
    settings = runner.store.company(demo.BE_REF).settings
    times = [
        f"{flow.label} at {at:%H:%M}"
        for flow in Flow
        if (at := daily_time(settings, flow)) is not None
    ]
    return ", ".join(times) or "none ticked"


def _print_demo_commands(settings: Settings, sandbox_url: str) -> None:
    """Commands to try in another shell, on the same data and sandbox."""
    today = date.today()  # noqa: DTZ011 - the user's day, as the demo data
    # The month before last: the daily run covers last month and this one.
    first_daily, _ = daily_period(today)
    last = first_daily - timedelta(days=1)
    first = last.replace(day=1)
    period = f"--from {first:%Y-%m-%d} --to {last:%Y-%m-%d}"
    command = _command()
    division = demo_exact.DIVISIONS[demo.BE_REF].code
    lines = [
        "In another shell, on the same data and sandbox:",
        f"  export LEDGERBRIDGE_DATA_DIR={settings.data_dir.resolve()} "
        f"LEDGERBRIDGE_EXACT_BASE_URL={sandbox_url}",
    ]
    if settings.database_url or settings.secret_keys is not None:
        lines.append(
            "  (and LEDGERBRIDGE_DATABASE_URL and LEDGERBRIDGE_SECRET_KEYS as set here)"
        )
    if settings.exact_client_id is not None or settings.exact_client_secret:
        lines.append(
            "  unset LEDGERBRIDGE_EXACT_CLIENT_ID LEDGERBRIDGE_EXACT_CLIENT_SECRET"
            "   # the commands then use the demo's sandbox app"
        )
    lines += [
        f"  {command} export customer-invoices --company {demo.BE_REF} {period}",
        f"  then pay one of its invoices in {sandbox_url}/_sandbox/ui/{division}",
        f"  {command} import payments --company {demo.BE_REF} {period}",
        f"  {command} runs list --company {demo.BE_REF}",
        f"  {command} connections list",
    ]
    for line in lines:
        out.print(line, soft_wrap=True, highlight=False, markup=False)


def _command() -> str:
    """How this command was called, to repeat in the lines to try."""
    called = Path(sys.argv[0])
    if called.name != "ledgerbridge":
        return "ledgerbridge"
    try:
        return str(called.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(called)
