"""`ledgerbridge user create | list | disable | enable`, run in-process on
both databases. A password is read from the option, standard input or a
prompt, and never printed."""

from __future__ import annotations

import importlib
from unittest.mock import patch

import pytest
from argon2 import PasswordHasher
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerbridge import users, wiring
from ledgerbridge.cli import app
from ledgerbridge.settings import Settings
from ledgerbridge.storage.tables import UserRow
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company

cli_module = importlib.import_module("ledgerbridge.cli.app")
users_cli = importlib.import_module("ledgerbridge.cli.users")
runner = CliRunner()

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def companies(database: Database) -> None:
    with database.sessions() as session:
        add_company(session, "acme-a")
        add_company(session, "acme-b")
        session.commit()


def _invoke(url: str, *args: str, input: str | None = None) -> Result:
    """Run the CLI as its own process would, then close what it opened."""
    opened: list[Database] = []

    def open_database(settings: Settings) -> Database:
        opened.append(wiring.open_database(settings))
        return opened[-1]

    try:
        with patch.object(cli_module, "open_database", open_database):
            return runner.invoke(
                app, list(args), input=input, env={"LEDGERBRIDGE_DATABASE_URL": url}
            )
    finally:
        for database in opened:
            database.engine.dispose()


def _said(text: str) -> str:
    return " ".join(text.split())


def _signs_in(database: Database, username: str, password: str) -> bool:
    with database.sessions() as session:
        return users.authenticate(session, username, password) is not None


def test_create_with_password_option_warns_it_is_visible(
    database_url: str, database: Database, companies: None
) -> None:
    result = _invoke(
        database_url,
        "user", "create", "--username", "Bob", "--password", PASSWORD,
        "--role", "bookkeeper", "--company", "acme-a", "--company", "acme-b",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created user 'bob' (bookkeeper); sees acme-a, acme-b." in _said(
        result.stdout
    )
    assert "can be seen by other users" in _said(result.stderr)
    assert PASSWORD not in result.output
    assert _signs_in(database, "bob", PASSWORD)


def test_create_reads_the_password_from_stdin_with_dash(
    database_url: str, database: Database
) -> None:
    result = _invoke(
        database_url,
        "user", "create", "--username", "ada", "--password", "-", "--role", "admin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created user 'ada' (admin); sees every company." in _said(result.stdout)
    assert "can be seen" not in result.stderr
    assert "user.created" in result.stderr  # logged, without the password
    assert PASSWORD not in result.output
    assert _signs_in(database, "ada", PASSWORD)


def test_create_reads_stdin_when_it_is_not_a_terminal(
    database_url: str, database: Database
) -> None:
    result = _invoke(
        database_url,
        "user", "create", "--username", "vera", "--role", "viewer",
        input=f"{PASSWORD}\r\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "sees no company yet" in _said(result.stdout)
    assert _signs_in(database, "vera", PASSWORD)


def test_create_asks_twice_on_a_terminal(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_cli, "_interactive", lambda: True)

    result = _invoke(
        database_url,
        "user", "create", "--username", "vera", "--role", "viewer",
        input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert PASSWORD not in result.output  # typed unseen
    assert _signs_in(database, "vera", PASSWORD)


def test_create_with_empty_stdin_fails(database_url: str, database: Database) -> None:
    result = _invoke(
        database_url, "user", "create", "--username", "vera", "--role", "viewer",
        input="",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "No password on standard input" in _said(result.stderr)
    with database.sessions() as session:
        assert session.scalars(select(UserRow)).all() == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--username", "x", "--role", "viewer"], "username must be 3 to 64"),
        (["--username", "vera", "--role", "viewer", "--company", "nowhere"],
         "No company has the reference 'nowhere'"),
        (["--username", "ada", "--role", "admin", "--company", "acme-a"],
         "An admin sees every company"),
    ],
)  # fmt: skip
def test_create_refuses_with_a_sentence(
    database_url: str, database: Database, companies: None, args: list[str], says: str
) -> None:
    result = _invoke(
        database_url, "user", "create", "--password", "-", *args, input=f"{PASSWORD}\n"
    )

    assert result.exit_code == 1
    assert says in _said(result.stderr)
    with database.sessions() as session:
        assert session.scalars(select(UserRow)).all() == []


def test_create_refuses_a_short_password(database_url: str) -> None:
    result = _invoke(
        database_url,
        "user", "create", "--username", "vera", "--role", "viewer", "--password", "-",
        input="secret\n",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "at least 12 characters long (it has 6)" in _said(result.stderr)
    assert "secret" not in result.output.replace("--password", "")


def test_create_refuses_an_unknown_role(database_url: str) -> None:
    result = _invoke(
        database_url,
        "user", "create", "--username", "vera", "--role", "owner", "--password", "-",
        input=f"{PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 2
    assert "owner" in result.output


def test_create_twice_fails(database_url: str) -> None:
    args = ["user", "create", "--username", "vera", "--role", "viewer"]
    assert _invoke(database_url, *args, input=f"{PASSWORD}\n").exit_code == 0

    again = _invoke(database_url, *args, input=f"{PASSWORD}\n")

    assert again.exit_code == 1
    assert "A user named 'vera' exists already." in _said(again.stderr)


def test_list_shows_roles_and_companies_never_hashes(
    database_url: str, database: Database, companies: None
) -> None:
    _invoke(
        database_url, "user", "create", "--username", "ada", "--role", "admin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    _invoke(
        database_url, "user", "create", "--username", "bob", "--role", "bookkeeper",
        "--company", "acme-b", input=f"{PASSWORD}\n",
    )  # fmt: skip

    result = _invoke(database_url, "user", "list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    ada = next(line for line in lines if " ada " in line)
    bob = next(line for line in lines if " bob " in line)
    assert "admin" in ada and "all" in ada
    assert "bookkeeper" in bob and "acme-b" in bob
    assert "argon2" not in result.output and PASSWORD not in result.output


def test_disable_and_enable(database_url: str, database: Database) -> None:
    _invoke(
        database_url, "user", "create", "--username", "vera", "--role", "viewer",
        input=f"{PASSWORD}\n",
    )  # fmt: skip

    disabled = _invoke(database_url, "user", "disable", "VERA")
    assert disabled.exit_code == 0, disabled.output
    assert "Disabled user 'vera'." in disabled.stdout
    assert not _signs_in(database, "vera", PASSWORD)
    assert "yes" in _invoke(database_url, "user", "list").stdout

    enabled = _invoke(database_url, "user", "enable", "vera")
    assert enabled.exit_code == 0
    assert _signs_in(database, "vera", PASSWORD)

    unknown = _invoke(database_url, "user", "disable", "nobody")
    assert unknown.exit_code == 1
    assert "No user is named 'nobody'." in _said(unknown.stderr)
