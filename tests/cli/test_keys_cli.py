"""`ledgerbridge keys rotate`, run in-process on both databases."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from click.testing import Result
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ledgerbridge import wiring
from ledgerbridge.cli import app
from ledgerbridge.exact.tokens import TokenPair
from ledgerbridge.settings import Settings
from ledgerbridge.storage.secrets import (
    KEY_FILE_NAME,
    SecretBox,
    UndecryptableSecret,
    load_keys,
)
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company

cli_module = importlib.import_module("ledgerbridge.cli.app")
runner = CliRunner()

ISSUED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PAIR = TokenPair(
    "access-5c1e0d-PLAINTEXT",
    "refresh-93ab77-PLAINTEXT",
    ISSUED,
    ISSUED + timedelta(seconds=600),
)


def _invoke(url: str, data_dir: Path, *args: str, **env: str) -> Result:
    """Run the CLI as its own process would, then close what it opened."""
    opened: list[Database] = []

    def open_database(settings: Settings) -> Database:
        opened.append(wiring.open_database(settings))
        return opened[-1]

    try:
        with patch.object(cli_module, "open_database", open_database):
            return runner.invoke(
                app,
                list(args),
                env={
                    "LEDGERBRIDGE_DATABASE_URL": url,
                    "LEDGERBRIDGE_DATA_DIR": str(data_dir),
                    **env,
                },
            )
    finally:
        for database in opened:
            database.engine.dispose()


def _said(text_: str) -> str:
    """`text_` with Rich's line wrapping undone."""
    return " ".join(text_.split())


def _keys(data_dir: Path) -> list[str]:
    lines = (data_dir / KEY_FILE_NAME).read_text(encoding="ascii").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def _connect(database: Database, box: SecretBox, ref: str = "acme") -> int:
    with database.sessions() as session:
        company_id = add_company(session, ref).id
        session.commit()
    store = DbTokenStore(database.engine, box)
    connection = store.create(company_id, "https://start.exactonline.nl", 1234)
    store.connect(connection, PAIR)
    return connection


def _ciphertexts(database: Database) -> list[str]:
    with database.engine.connect() as db:
        rows = db.execute(
            text("SELECT access_token, refresh_token FROM exact_connection ORDER BY id")
        ).all()
    return [value for row in rows for value in row if value is not None]


def test_keys_rotate_reencrypts_with_the_same_key(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    connection = _connect(database, load_keys(settings))
    _connect(database, load_keys(settings), "other")
    keys_before, stored_before = _keys(tmp_path), _ciphertexts(database)

    result = _invoke(database_url, tmp_path, "keys", "rotate")

    assert result.exit_code == 0, result.output
    assert "Re-encrypted the tokens of 2 connections with the first key." in _said(
        result.stdout
    )
    assert _keys(tmp_path) == keys_before
    stored = _ciphertexts(database)
    assert len(stored) == 4
    assert set(stored).isdisjoint(stored_before)
    store = DbTokenStore(database.engine, load_keys(settings))
    assert store.current(connection) == PAIR


def test_keys_rotate_new_key_moves_tokens_to_it(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    connection = _connect(database, load_keys(settings))
    [old_key] = _keys(tmp_path)

    result = _invoke(database_url, tmp_path, "keys", "rotate", "--new-key")

    assert result.exit_code == 0, result.output
    said = _said(result.stdout)
    assert f"Added a new first key to {tmp_path / KEY_FILE_NAME}" in said
    assert "Re-encrypted the tokens of 1 connection with the first key." in said
    new_key, kept = _keys(tmp_path)
    assert kept == old_key
    assert new_key != old_key
    assert (tmp_path / KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    only_new = DbTokenStore(database.engine, SecretBox([new_key]))
    assert only_new.current(connection) == PAIR
    for ciphertext in _ciphertexts(database):
        with pytest.raises(UndecryptableSecret):
            SecretBox([old_key]).decrypt(ciphertext)
    assert (
        DbTokenStore(database.engine, load_keys(settings)).current(connection) == PAIR
    )
    assert old_key not in result.output
    assert new_key not in result.output


def test_keys_rotate_with_env_keys(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    old_key, new_key = (Fernet.generate_key().decode() for _ in range(2))
    connection = _connect(database, SecretBox([old_key]))

    result = _invoke(
        database_url,
        tmp_path,
        "keys",
        "rotate",
        LEDGERBRIDGE_SECRET_KEYS=f"{new_key},{old_key}",
    )

    assert result.exit_code == 0, result.output
    assert "of 1 connection" in _said(result.stdout)
    assert DbTokenStore(database.engine, SecretBox([new_key])).current(connection) == (
        PAIR
    )
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_keys_rotate_new_key_refused_with_env_keys(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    _connect(database, SecretBox([key]))
    before = _ciphertexts(database)

    result = _invoke(
        database_url,
        tmp_path,
        "keys",
        "rotate",
        "--new-key",
        LEDGERBRIDGE_SECRET_KEYS=key,
    )

    assert result.exit_code == 1
    assert "The keys come from LEDGERBRIDGE_SECRET_KEYS" in _said(result.stderr)
    assert key not in result.output
    assert _ciphertexts(database) == before


def test_keys_rotate_bad_env_key_refused_without_echoing_it(
    database_url: str, tmp_path: Path
) -> None:
    result = _invoke(
        database_url,
        tmp_path,
        "keys",
        "rotate",
        LEDGERBRIDGE_SECRET_KEYS="hunter2-is-no-fernet-key",
    )

    assert result.exit_code == 1
    assert "LEDGERBRIDGE_SECRET_KEYS: key 1 of 1 is not a Fernet key" in _said(
        result.stderr
    )
    assert "hunter2" not in result.output


def test_keys_rotate_refuses_a_key_file_readable_by_others(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    _connect(database, load_keys(settings))
    (tmp_path / KEY_FILE_NAME).chmod(0o644)

    result = _invoke(database_url, tmp_path, "keys", "rotate", "--new-key")

    assert result.exit_code == 1
    assert f"run 'chmod 600 {tmp_path / KEY_FILE_NAME}'" in _said(result.stderr)
    assert len(_keys(tmp_path)) == 1


def test_keys_rotate_undecryptable_tokens_change_nothing(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    _connect(database, SecretBox([Fernet.generate_key().decode()]))
    before = _ciphertexts(database)

    result = _invoke(database_url, tmp_path, "keys", "rotate")

    assert result.exit_code == 1
    assert "cannot be re-encrypted" in _said(result.stderr)
    assert _ciphertexts(database) == before


def test_keys_rotate_without_connections(database_url: str, tmp_path: Path) -> None:
    result = _invoke(database_url, tmp_path, "keys", "rotate")

    assert result.exit_code == 0, result.output
    assert "Re-encrypted the tokens of 0 connections" in _said(result.stdout)
    assert len(_keys(tmp_path)) == 1  # created on first use


def test_keys_rotate_leaves_no_plaintext_in_the_sqlite_file(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "ledgerbridge.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    database = wiring.open_database(Settings(database_url=url))
    try:
        connection = _connect(database, load_keys(Settings(data_dir=tmp_path)))
        for args in (["keys", "rotate"], ["keys", "rotate", "--new-key"]):
            result = _invoke(url, tmp_path, *args)
            assert result.exit_code == 0, result.output
        stored = _ciphertexts(database)
        store = DbTokenStore(database.engine, load_keys(Settings(data_dir=tmp_path)))
        assert store.current(connection) == PAIR
    finally:
        database.engine.dispose()

    database_file = make_url(url).database
    assert database_file is not None
    files = [Path(database_file), Path(f"{database_file}-wal")]
    content = b"".join(f.read_bytes() for f in files if f.exists())
    assert stored and all(value.encode() in content for value in stored)
    for plaintext in (PAIR.access_token, PAIR.refresh_token, "PLAINTEXT"):
        assert plaintext.encode() not in content
        assert plaintext.encode("utf-16-le") not in content
