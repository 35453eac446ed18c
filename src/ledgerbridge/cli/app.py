"""Commands for operators and scripts: the database, API keys, the server,
the demo."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ledgerbridge import __version__, apikeys, demo
from ledgerbridge import logging as lb_logging
from ledgerbridge.cli.connect import connect, connections_app
from ledgerbridge.cli.keys import keys_app
from ledgerbridge.cli.sandbox import sandbox_app
from ledgerbridge.settings import Settings
from ledgerbridge.storage import migrate
from ledgerbridge.storage import repositories as repo
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

out = Console()
err = Console(stderr=True)

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
    """Run the web app and the API."""
    database = _database()
    uvicorn.run(create_app(database.sessions), host=host, port=port, log_config=None)


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
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web app.")
    ] = True,
) -> None:
    """Migrate, load the demo companies and invoices, and serve them."""
    database = _database(require_current=False)
    database.upgrade()
    with database.sessions() as session:
        summary = demo.seed(session, date.today())  # noqa: DTZ011 - the user's day
        for key in apikeys.list_keys(session):
            if key.name == DEMO_KEY_NAME:
                apikeys.revoke(session, key.prefix)
        _, plaintext = apikeys.create(session, DEMO_KEY_NAME)
        session.commit()

    out.print(f"Demo data ready: {summary}.")
    out.print(
        f"Database: {database.engine.url.render_as_string(hide_password=True)}",
        soft_wrap=True,
    )
    out.print("A new API key for the demo (shown once; the previous one is revoked):")
    out.print(f"  {plaintext}", soft_wrap=True, highlight=False)
    base = f"http://{host}:{port}"
    out.print(
        f"\nTry:\n  curl -H 'Authorization: Bearer {plaintext}' "
        f"{base}/api/v1/companies\n"
        f"  curl -H 'Authorization: Bearer {plaintext}' "
        f"'{base}/api/v1/companies/be-keukens/customer-invoices?limit=5'",
        soft_wrap=True,
        highlight=False,
    )
    if serve_app:
        out.print(f"\nServing on {base}/ (Ctrl+C stops).")
        uvicorn.run(
            create_app(database.sessions), host=host, port=port, log_config=None
        )
