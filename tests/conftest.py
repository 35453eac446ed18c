"""Fixtures shared by the suite: a migrated database on SQLite *and* on
PostgreSQL, the web app on it, an API client with a key.

Every test that asks for `database` (or anything built on it) runs twice,
once per backend. PostgreSQL tests are skipped, with the reason printed, only
when no server answers on LEDGERBRIDGE_TEST_POSTGRES_URL (default: the local
one, user postgres, trust auth); with LEDGERBRIDGE_TEST_REQUIRE_POSTGRES set
(as CI does) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ledgerbridge import apikeys
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.tables import Base
from ledgerbridge.web.app import create_app
from ledgerbridge.wiring import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "LEDGERBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if (
            name.startswith("LEDGERBRIDGE_")
            and name != "LEDGERBRIDGE_TEST_POSTGRES_URL"
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "ledgerbridge.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL cannot be reached at {POSTGRES_ADMIN_URL}: {exc}"
        if os.environ.get("LEDGERBRIDGE_TEST_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"ledgerbridge_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "ledgerbridge.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return

    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    yield Database(engine, make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def api_key(database: Database) -> str:
    with database.sessions() as session:
        _, plaintext = apikeys.create(session, "tests")
        session.commit()
    return plaintext


@pytest.fixture
def client(database: Database, api_key: str) -> Iterator[TestClient]:
    app = create_app(database.sessions)
    with TestClient(app, base_url="http://testserver") as test_client:
        test_client.headers["Authorization"] = f"Bearer {api_key}"
        yield test_client
