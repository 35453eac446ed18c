"""Engines: SQLite set up for the embedded case, foreign keys on both."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from ledgerbridge.storage.database import is_sqlite, make_engine
from ledgerbridge.storage.tables import PartyRow
from ledgerbridge.wiring import Database


def test_make_engine_sqlite_creates_data_folder(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"

    engine = make_engine(f"sqlite:///{folder / 'ledgerbridge.sqlite3'}")
    try:
        assert folder.is_dir()
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert (folder / "ledgerbridge.sqlite3").is_file()
    finally:
        engine.dispose()


def test_make_engine_sqlite_sets_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'ledgerbridge.sqlite3'}")
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("foreign_keys") == 1
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 5000
        assert is_sqlite(engine)
    finally:
        engine.dispose()


def test_party_with_unknown_company_is_refused(database: Database) -> None:
    with database.sessions() as session:
        session.add(PartyRow(company_id=987654, role="customer", ref="c1", name="Jan"))

        with pytest.raises(IntegrityError):
            session.flush()
