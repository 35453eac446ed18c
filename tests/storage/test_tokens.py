"""The database token store, on SQLite and PostgreSQL: encryption at rest,
sign-in state, rate limits, and a lock that serializes threads and processes.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.tokens import LockedTokens, TokenPair, TokenStore
from ledgerbridge.storage.database import make_engine
from ledgerbridge.storage.secrets import SecretBox, UndecryptableSecret
from ledgerbridge.storage.tables import CompanyRow, ExactConnectionRow
from ledgerbridge.storage.tokens import (
    DbTokenStore,
    TokenLockTimeout,
    UnknownConnection,
)
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company

KEY = Fernet.generate_key().decode("ascii")
BASE_URL = "https://start.exactonline.nl"
ISSUED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOLD_SECONDS = 0.3


def _pair(access: str = "access-AAA", refresh: str = "refresh-RRR") -> TokenPair:
    return TokenPair(access, refresh, ISSUED, ISSUED + timedelta(seconds=600))


def _company(database: Database, ref: str = "acme") -> int:
    with database.sessions() as session:
        company_id = add_company(session, ref).id
        session.commit()
    return company_id


@pytest.fixture
def store(database: Database) -> DbTokenStore:
    return DbTokenStore(database.engine, SecretBox([KEY]))


@pytest.fixture
def connection(database: Database, store: DbTokenStore) -> int:
    return store.create(_company(database), BASE_URL, 1234)


def store_of(database: Database, keys: list[str]) -> DbTokenStore:
    return DbTokenStore(database.engine, SecretBox(keys))


def _raw_tokens(database: Database, connection: int) -> tuple[str, str]:
    with database.engine.connect() as db:
        row = db.execute(
            text(
                "SELECT access_token, refresh_token FROM exact_connection WHERE id = :i"
            ),
            {"i": connection},
        ).one()
    return row[0], row[1]


def test_store_satisfies_the_protocols(store: DbTokenStore, connection: int) -> None:
    typed: TokenStore = store
    with typed.locked(connection) as tokens:
        held: LockedTokens = tokens
        assert held.pair is None


def test_store_round_trip(store: DbTokenStore, connection: int) -> None:
    assert store.current(connection) is None

    store.connect(connection, _pair())
    with store.locked(connection) as tokens:
        assert tokens.pair == _pair()
        tokens.save(_pair("access-2", "refresh-2"))

    assert store.current(connection) == _pair("access-2", "refresh-2")
    loaded = store.current(connection)
    assert loaded is not None
    assert loaded.issued_at.tzinfo is not None


def test_store_row_holds_only_ciphertext(
    database: Database, store: DbTokenStore, connection: int
) -> None:
    access, refresh = "access-7f3a9c-plain", "refresh-0b1d2e-plain"
    store.connect(connection, _pair(access, refresh))

    stored = _raw_tokens(database, connection)

    for value in stored:
        assert access not in value
        assert refresh not in value
        assert "plain" not in value
    assert SecretBox([KEY]).decrypt(stored[0]) == access
    assert SecretBox([KEY]).decrypt(stored[1]) == refresh


def test_store_reprs_show_no_token(
    database: Database, store: DbTokenStore, connection: int
) -> None:
    store.connect(connection, _pair("access-visible?", "refresh-visible?"))
    ciphertexts = _raw_tokens(database, connection)
    with database.sessions() as session:
        row = session.get(ExactConnectionRow, connection)
        shown = [repr(store), repr(row), repr(store.current(connection))]
    with store.locked(connection) as tokens:
        shown.append(repr(tokens))

    for text_ in shown:
        assert "visible" not in text_
        assert all(ciphertext not in text_ for ciphertext in ciphertexts)


REFUSE_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE UPDATE ON exact_connection "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE UPDATE ON exact_connection "
        "FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
ALLOW_UPDATES = {
    "sqlite": ["DROP TRIGGER refuse"],
    "postgresql": [
        "DROP TRIGGER refuse ON exact_connection",
        "DROP FUNCTION refuse()",
    ],
}


def test_store_sql_error_hides_its_parameters(
    database: Database, store: DbTokenStore, connection: int
) -> None:
    dialect = database.engine.dialect.name
    with database.engine.begin() as db:
        for statement in REFUSE_UPDATES[dialect]:
            db.exec_driver_sql(statement)
    try:
        with pytest.raises(DBAPIError) as caught:
            store.connect(connection, _pair("access-in-error", "refresh-in-error"))
    finally:
        with database.engine.begin() as db:
            for statement in ALLOW_UPDATES[dialect]:
                db.exec_driver_sql(statement)

    message = str(caught.value)
    assert "refused" in message
    assert "[SQL parameters hidden" in message
    assert "in-error" not in message
    assert "gAAAA" not in message  # how every Fernet token starts
    assert store.current(connection) is None


def test_store_needs_sign_in_marked_and_cleared_by_connect(
    store: DbTokenStore, connection: int
) -> None:
    store.connect(connection, _pair())

    store.mark_needs_sign_in(connection, "Exact refused the refresh token.")

    state = store.state(connection)
    assert (state.needs_sign_in, state.reason) == (
        True,
        "Exact refused the refresh token.",
    )
    with store.locked(connection) as tokens:
        assert tokens.needs_sign_in
        assert tokens.reason == "Exact refused the refresh token."

    store.connect(connection, _pair("access-new", "refresh-new"))

    state = store.state(connection)
    assert (state.needs_sign_in, state.reason, state.connected) == (False, None, True)
    assert store.current(connection) == _pair("access-new", "refresh-new")


def test_store_mark_needs_sign_in_inside_the_lock_does_not_wait_on_itself(
    database: Database, connection: int
) -> None:
    store = DbTokenStore(database.engine, SecretBox([KEY]), lock_timeout=0.5)
    store.connect(connection, _pair())

    with store.locked(connection) as tokens:
        store.mark_needs_sign_in(connection, "Old refresh token used.")
        store.record_limits(connection, RateLimits(minutely_remaining=3))
        assert store.state(connection).needs_sign_in  # read through the lock
        assert tokens.needs_sign_in

    assert store.state(connection).reason == "Old refresh token used."
    assert store.limits(connection).minutely_remaining == 3


def test_store_locked_rolls_back_when_the_block_raises(
    store: DbTokenStore, connection: int
) -> None:
    store.connect(connection, _pair())

    with (
        pytest.raises(RuntimeError, match="refresh failed"),
        store.locked(connection) as tokens,
    ):
        tokens.save(_pair("access-lost", "refresh-lost"))
        raise RuntimeError("refresh failed")

    assert store.current(connection) == _pair()
    with store.locked(connection) as tokens:  # the lock was released
        assert tokens.pair == _pair()


def test_store_save_after_the_lock_refused(
    store: DbTokenStore, connection: int
) -> None:
    with store.locked(connection) as tokens:
        pass

    with pytest.raises(RuntimeError, match="was released"):
        tokens.save(_pair())


def test_store_locked_twice_in_one_thread_refused(
    store: DbTokenStore, connection: int
) -> None:
    with store.locked(connection), pytest.raises(RuntimeError, match="already holds"):
        store.locked(connection).__enter__()


def test_store_lock_wait_times_out(database: Database, connection: int) -> None:
    holder = DbTokenStore(database.engine, SecretBox([KEY]))
    waiter = DbTokenStore(database.engine, SecretBox([KEY]), lock_timeout=0.3)
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.locked(connection):
            taken.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(10)
        started = time.monotonic()
        with (
            pytest.raises(TokenLockTimeout, match=r"waited 0\.3 s"),
            waiter.locked(connection),
        ):
            pass
        assert 0.25 <= time.monotonic() - started < 5
    finally:
        done.set()
        thread.join()

    with waiter.locked(connection) as tokens:
        assert tokens.pair is None


def test_store_unknown_connection_refused(store: DbTokenStore) -> None:
    with pytest.raises(UnknownConnection):
        store.current(999)
    with pytest.raises(UnknownConnection), store.locked(999):
        pass
    with pytest.raises(UnknownConnection):
        store.record_limits(999, RateLimits(daily_limit=5000))
    with pytest.raises(UnknownConnection):
        store.limits(999)
    with pytest.raises(UnknownConnection):
        store.state(999)


def test_store_create_is_an_upsert_per_company(
    database: Database, store: DbTokenStore, connection: int
) -> None:
    company_id = store.state(connection).company_id
    store.connect(connection, _pair())

    same = store.create(company_id, BASE_URL, 5678)

    assert same == connection
    assert store.state(connection).division == 5678
    assert store.current(connection) == _pair()
    assert store.find(company_id) == connection
    assert store.find(company_id + 1) is None

    moved = store.create(company_id, "https://start.exactonline.be", 5678)

    assert moved == connection
    assert store.current(connection) is None  # tokens of the old host
    assert store.state(connection).base_url == "https://start.exactonline.be"
    other = store.create(_company(database, "other"), BASE_URL, None)
    assert other != connection


def test_store_connection_deleted_with_its_company(
    database: Database, store: DbTokenStore, connection: int
) -> None:
    with database.sessions() as session:
        session.execute(delete(CompanyRow))
        session.commit()
        assert session.scalars(select(ExactConnectionRow)).all() == []


def test_store_limits_empty_before_any_call(
    store: DbTokenStore, connection: int
) -> None:
    assert store.limits(connection) == RateLimits()


def test_store_record_limits_keeps_the_last_values(
    store: DbTokenStore, connection: int
) -> None:
    reset = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
    minute = datetime(2026, 12, 3, 9, 1, tzinfo=UTC)
    store.record_limits(
        connection,
        RateLimits(
            daily_limit=5000,
            daily_remaining=4999,
            daily_reset=reset,
            minutely_limit=60,
            minutely_remaining=59,
            minutely_reset=minute,
        ),
    )
    # A minutely 429 carries only the minutely headers.
    store.record_limits(connection, RateLimits(minutely_limit=60, minutely_remaining=0))
    store.record_limits(connection, RateLimits())

    assert store.limits(connection) == RateLimits(
        daily_limit=5000,
        daily_remaining=4999,
        daily_reset=reset,
        minutely_limit=60,
        minutely_remaining=0,
        minutely_reset=minute,
    )


def test_store_reencrypt_all_moves_tokens_to_the_first_key(
    database: Database, connection: int
) -> None:
    old_key, new_key = KEY, Fernet.generate_key().decode("ascii")
    DbTokenStore(database.engine, SecretBox([old_key])).connect(connection, _pair())
    bare = store_of(database, [new_key, old_key]).create(
        _company(database, "bare"), BASE_URL, None
    )

    count = store_of(database, [new_key, old_key]).reencrypt_all()

    assert count == 1
    assert store_of(database, [new_key]).current(connection) == _pair()
    assert store_of(database, [new_key]).current(bare) is None
    with pytest.raises(UndecryptableSecret):
        store_of(database, [old_key]).current(connection)


# The lock across threads and processes. Each holder records when it asked
# for the lock, when it got it and when it let go; it also counts, in the
# stored access token, how many holders came before it (a lost update would
# show as a short count).


def _take_turns(
    store: DbTokenStore, connection: int, rounds: int, hold: float
) -> list[dict[str, float]]:
    turns = []
    for _ in range(rounds):
        asked = time.time()
        with store.locked(connection) as tokens:
            entered = time.time()
            count = 0 if tokens.pair is None else int(tokens.pair.access_token)
            time.sleep(hold)
            tokens.save(_pair(str(count + 1), f"refresh-{count + 1}"))
            left = time.time()
        turns.append({"asked": asked, "entered": entered, "left": left})
    return turns


def _assert_one_at_a_time(turns: list[dict[str, float]], hold: float) -> None:
    ordered = sorted(turns, key=lambda turn: turn["entered"])
    for before, after in itertools.pairwise(ordered):
        assert before["left"] <= after["entered"], (before, after)
    # Not vacuous: somebody did wait for somebody else.
    assert max(turn["entered"] - turn["asked"] for turn in turns) >= hold * 0.8


def test_store_lock_serializes_threads(database: Database, connection: int) -> None:
    store = DbTokenStore(database.engine, SecretBox([KEY]))
    threads_count, hold = 8, 0.1
    barrier = threading.Barrier(threads_count)
    results: list[list[dict[str, float]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(10)
            results.append(_take_turns(store, connection, 1, hold))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    turns = [turn for result in results for turn in result]
    assert len(turns) == threads_count
    _assert_one_at_a_time(turns, hold)
    assert store.current(connection) == _pair("8", "refresh-8")


def _process_worker(
    url: str,
    key: str,
    connection: int,
    barrier: Any,
    out: str,
    rounds: int,
    hold: float,
) -> None:
    """Runs in a spawned process: take turns, then write them to `out`."""
    engine = make_engine(url)
    try:
        store = DbTokenStore(engine, SecretBox([key]))
        barrier.wait(60)
        turns = _take_turns(store, connection, rounds, hold)
    finally:
        engine.dispose()
    Path(out).write_text(json.dumps(turns), encoding="utf-8")


def test_store_lock_serializes_processes(
    database_url: str, store: DbTokenStore, connection: int, tmp_path: Path
) -> None:
    spawn = multiprocessing.get_context("spawn")
    processes_count, rounds = 2, 2
    barrier = spawn.Barrier(processes_count)
    outs = [tmp_path / f"turns-{n}.json" for n in range(processes_count)]
    processes = [
        spawn.Process(
            target=_process_worker,
            args=(
                database_url,
                KEY,
                connection,
                barrier,
                str(out),
                rounds,
                HOLD_SECONDS,
            ),
        )
        for out in outs
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)

    assert [process.exitcode for process in processes] == [0] * processes_count
    turns = [
        turn for out in outs for turn in json.loads(out.read_text(encoding="utf-8"))
    ]
    assert len(turns) == processes_count * rounds
    _assert_one_at_a_time(turns, HOLD_SECONDS)
    total = processes_count * rounds
    assert store.current(connection) == _pair(str(total), f"refresh-{total}")
