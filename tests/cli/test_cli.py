"""The `ledgerbridge` command line, run in-process on both databases."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import uvicorn
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledgerbridge import __version__, apikeys, intake, wiring
from ledgerbridge.cli import app
from ledgerbridge.domain.parties import Company
from ledgerbridge.settings import Settings
from ledgerbridge.storage.database import make_engine
from ledgerbridge.storage.migrate import current_revision, head_revision
from ledgerbridge.storage.tables import ApiKeyRow, CompanyRow, DocumentRow, PartyRow
from ledgerbridge.wiring import Database

# `ledgerbridge.cli.app` the module, not the Typer app `ledgerbridge.cli` exports.
cli_module = importlib.import_module("ledgerbridge.cli.app")

KEY = re.compile(r"\blb_([0-9a-f]{12})_([A-Za-z0-9_-]+)")
DEMO_REFS = ["be-keukens", "nl-badkamers"]

runner = CliRunner()


def _invoke(url: str, *args: str) -> Result:
    """Run the CLI as its own process would, then close what it opened.

    A process exits after one command, so the CLI leaves its engine to the
    end of the process; in the test process that is done here, or the pooled
    connections would be dropped unclosed later (a ResourceWarning).
    """
    opened: list[Database] = []

    def open_database(settings: Settings) -> Database:
        opened.append(wiring.open_database(settings))
        return opened[-1]

    try:
        with patch.object(cli_module, "open_database", open_database):
            return runner.invoke(
                app, list(args), env={"LEDGERBRIDGE_DATABASE_URL": url}
            )
    finally:
        for database in opened:
            database.engine.dispose()


def _said(text: str) -> str:
    """`text` with Rich's line wrapping undone."""
    return " ".join(text.split())


def _key(result: Result) -> tuple[str, str, str]:
    """The key a command printed: (key, prefix, secret)."""
    found = KEY.findall(result.stdout)
    assert len(set(found)) == 1, result.output
    prefix, secret = found[0]
    return f"lb_{prefix}_{secret}", prefix, secret


def _no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the command started a server")

    monkeypatch.setattr(uvicorn, "run", refuse)


def _count(database: Database, model: type[Any]) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """An SQLite database that does not exist yet, in a folder that does not."""
    return f"sqlite:///{tmp_path / 'data' / 'ledgerbridge.sqlite3'}"


# Version and schema


def test_version_prints_version() -> None:
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ledgerbridge {__version__}"


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])

    assert "Usage" in result.output
    assert "apikey" in result.output


def test_db_upgrade_when_current_says_up_to_date(database_url: str) -> None:
    result = _invoke(database_url, "db", "upgrade")

    assert result.exit_code == 0, result.output
    head = head_revision(make_engine(database_url))
    assert _said(result.stdout) == f"The database is up to date (revision {head})."


def test_serve_on_empty_database_asks_for_upgrade(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_server(monkeypatch)

    result = _invoke(fresh_url, "serve", "--port", "8123")

    assert result.exit_code == 1
    assert "Run 'ledgerbridge db upgrade' first." in _said(result.stderr)
    assert result.stdout == ""


def test_db_upgrade_on_empty_database_upgrades(fresh_url: str) -> None:
    result = _invoke(fresh_url, "db", "upgrade")

    assert result.exit_code == 0, result.output
    engine = make_engine(fresh_url)
    try:
        head = head_revision(engine)
        assert current_revision(engine) == head
    finally:
        engine.dispose()
    assert _said(result.stdout) == f"Upgraded the database from empty to {head}."
    again = _invoke(fresh_url, "db", "upgrade")
    assert "is up to date" in again.stdout


def test_commands_on_empty_database_ask_for_upgrade(fresh_url: str) -> None:
    for args in (["companies", "list"], ["apikey", "list"]):
        result = _invoke(fresh_url, *args)

        assert result.exit_code == 1, args
        assert "Run 'ledgerbridge db upgrade' first." in _said(result.stderr)


# API keys


def test_apikey_create_prints_a_key_for_its_companies(
    database_url: str, database: Database
) -> None:
    result = _invoke(
        database_url, "apikey", "create", "--name", "x", "--company", "acme"
    )

    assert result.exit_code == 0, result.output
    key, prefix, _ = _key(result)
    assert f"API key 'x' ({prefix}) for acme:" in result.stdout
    assert "cannot be shown again" in result.stderr
    with database.sessions() as session:
        principal = apikeys.authenticate(session, key)
    assert principal == apikeys.Principal("x", frozenset({"acme"}))


def test_apikey_create_without_company_reaches_all(
    database_url: str, database: Database
) -> None:
    result = _invoke(database_url, "apikey", "create", "--name", "all")

    assert result.exit_code == 0, result.output
    assert "for all companies" in result.stdout
    with database.sessions() as session:
        principal = apikeys.authenticate(session, _key(result)[0])
    assert principal == apikeys.Principal("all", None)


def test_apikey_create_without_name_fails(database_url: str) -> None:
    result = _invoke(database_url, "apikey", "create")

    assert result.exit_code == 2
    assert "--name" in result.output


def test_apikey_list_shows_prefix_never_secret(database_url: str) -> None:
    created = [
        _key(_invoke(database_url, "apikey", "create", "--name", name))
        for name in ("billing", "shop")
    ]

    result = _invoke(database_url, "apikey", "list")

    assert result.exit_code == 0, result.output
    for key, prefix, secret in created:
        assert prefix in result.stdout
        assert secret not in result.output
        assert key not in result.output
        assert hashlib.sha256(secret.encode()).hexdigest() not in result.output
    assert "billing" in result.stdout
    assert "shop" in result.stdout


def test_apikey_revoke_stops_the_key(database_url: str, database: Database) -> None:
    key, prefix, _ = _key(_invoke(database_url, "apikey", "create", "--name", "x"))

    result = _invoke(database_url, "apikey", "revoke", prefix)

    assert result.exit_code == 0, result.output
    assert _said(result.stdout) == f"Revoked API key 'x' ({prefix})."
    with database.sessions() as session:
        assert apikeys.authenticate(session, key) is None
    listed = _invoke(database_url, "apikey", "list")
    assert prefix in listed.stdout


def test_apikey_revoke_leaves_other_keys(database_url: str, database: Database) -> None:
    kept = _key(_invoke(database_url, "apikey", "create", "--name", "kept"))[0]
    prefix = _key(_invoke(database_url, "apikey", "create", "--name", "gone"))[1]

    assert _invoke(database_url, "apikey", "revoke", prefix).exit_code == 0

    with database.sessions() as session:
        assert apikeys.authenticate(session, kept) is not None


def test_apikey_revoke_unknown_prefix_fails(database_url: str) -> None:
    result = _invoke(database_url, "apikey", "revoke", "0123456789ab")

    assert result.exit_code == 1
    assert _said(result.stderr).endswith(
        "No API key with prefix '0123456789ab'; see 'ledgerbridge apikey list'."
    )
    assert result.stdout == ""


# Companies


COMPANIES = [
    Company("zeta", "Bäder & Keukens Dupré", "NL", "NL004495445B01", "EUR", "UTC"),
    Company("acme", "Acme Keukens", "BE", "BE0403170701"),
]


@pytest.fixture
def companies(database: Database) -> None:
    with database.sessions() as session:
        for company in COMPANIES:
            intake.upsert_company(session, company)
        session.commit()


@pytest.mark.usefixtures("companies")
def test_companies_list_json(database_url: str) -> None:
    result = _invoke(database_url, "companies", "list", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "ref": "acme",
            "name": "Acme Keukens",
            "country": "BE",
            "vat_number": "BE0403170701",
            "base_currency": "EUR",
            "time_zone": "Europe/Brussels",
        },
        {
            "ref": "zeta",
            "name": "Bäder & Keukens Dupré",
            "country": "NL",
            "vat_number": "NL004495445B01",
            "base_currency": "EUR",
            "time_zone": "UTC",
        },
    ]


def test_companies_list_json_when_none(database_url: str) -> None:
    result = _invoke(database_url, "companies", "list", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


@pytest.mark.usefixtures("companies")
def test_companies_list_table(database_url: str) -> None:
    result = _invoke(database_url, "companies", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout.index("acme") < result.stdout.index("zeta")
    assert "BE0403170701" in result.stdout


# The demo


def test_demo_no_serve_seeds_and_prints_a_key(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_server(monkeypatch)

    result = _invoke(database_url, "demo", "--no-serve", "--port", "8123")

    assert result.exit_code == 0, result.output
    key = _key(result)[0]
    said = _said(result.stdout)
    assert said.startswith("Demo data ready: be-keukens: 20 contacts")
    assert (
        f"curl -H 'Authorization: Bearer {key}' "
        "http://127.0.0.1:8123/api/v1/companies" in said
    )
    assert "be-keukens/customer-invoices?limit=5" in said
    assert "Serving" not in said
    with database.sessions() as session:
        assert apikeys.authenticate(session, key) == apikeys.Principal("demo", None)
    listed = _invoke(database_url, "companies", "list", "--json")
    assert [c["ref"] for c in json.loads(listed.stdout)] == DEMO_REFS
    assert _count(database, DocumentRow) > 400


def test_demo_twice_adds_nothing_and_replaces_the_key(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_server(monkeypatch)
    first = _invoke(database_url, "demo", "--no-serve")
    counts = [_count(database, m) for m in (CompanyRow, PartyRow, DocumentRow)]

    second = _invoke(database_url, "demo", "--no-serve")

    assert second.exit_code == 0, second.output
    assert [_count(database, m) for m in (CompanyRow, PartyRow, DocumentRow)] == (
        counts
    )
    assert counts[0] == 2
    assert _count(database, ApiKeyRow) == 2
    with database.sessions() as session:
        assert apikeys.authenticate(session, _key(first)[0]) is None
        assert apikeys.authenticate(session, _key(second)[0]) is not None


def test_demo_on_empty_database_migrates_first(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_server(monkeypatch)

    result = _invoke(fresh_url, "demo", "--no-serve")

    assert result.exit_code == 0, result.output
    listed = _invoke(fresh_url, "companies", "list", "--json")
    assert [c["ref"] for c in json.loads(listed.stdout)] == DEMO_REFS


# A database that cannot be opened


def _unreachable_postgres(_tmp_path: Path) -> str:
    return "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/x"


def _folder_under_a_file(tmp_path: Path) -> str:
    (tmp_path / "taken").write_text("a file where the data folder should be")
    return f"sqlite:///{tmp_path / 'taken' / 'ledgerbridge.sqlite3'}"


def _not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "notes.sqlite3"
    path.write_text("These are notes, not an SQLite database.\n" * 20)
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "make_url", [_unreachable_postgres, _folder_under_a_file, _not_a_database]
)
@pytest.mark.parametrize(
    "args", [["companies", "list"], ["db", "upgrade"], ["apikey", "list"]]
)
def test_unopenable_database_fails_without_traceback(
    tmp_path: Path, make_url: Any, args: list[str]
) -> None:
    result = _invoke(make_url(tmp_path), *args)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    said = _said(result.stderr)
    assert said.startswith("Cannot open the database at ")
    assert "Check LEDGERBRIDGE_DATABASE_URL or LEDGERBRIDGE_DATA_DIR." in said
    assert "Traceback" not in result.output
    assert "s3cret" not in result.output


def test_unparseable_database_url_is_explained_without_echoing_it(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app,
        ["companies", "list"],
        env={"LEDGERBRIDGE_DATABASE_URL": "not a url with s3cret"},
    )

    assert result.exit_code == 1
    assert "not a database URL" in result.output
    assert "s3cret" not in result.output


def test_demo_creates_an_admin_once_and_says_how_to_sign_in(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from ledgerbridge import users

    _no_server(monkeypatch)
    first = _invoke(database_url, "demo", "--no-serve")
    said = _said(first.stdout)
    found = re.search(r"as 'admin' with the password (\S+) \(shown once\)", said)
    assert found, said
    with database.sessions() as session:
        assert users.authenticate(session, "admin", found.group(1)) is not None

    second = _said(_invoke(database_url, "demo", "--no-serve").stdout)

    assert found.group(1) not in second
    assert "password shown at the demo's first start" in second
