"""Users: creating them with sentences for every problem, Argon2id hashes
(rehashed when the parameters change), what each role sees, sign-in
sessions. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError
from sqlalchemy import select, update

from ledgerbridge import users
from ledgerbridge.storage.tables import UserRow, UserSessionRow
from ledgerbridge.storage.types import utcnow
from ledgerbridge.users import Role, UserError, UserExists
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company

PASSWORD = "correct horse battery staple"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
REAL = users.HASHER


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", CHEAP)


@pytest.fixture
def companies(database: Database) -> None:
    with database.sessions() as session:
        add_company(session, "acme-a")
        add_company(session, "acme-b")
        session.commit()


@pytest.mark.parametrize(
    ("username", "password", "role", "refs", "says"),
    [
        ("al", PASSWORD, "viewer", [], "must be 3 to 64 characters long (it has 2)"),
        ("a" * 65, PASSWORD, "viewer", [], "3 to 64 characters"),
        ("jan peeters", PASSWORD, "viewer", [], "only letters, digits"),
        ("-jan", PASSWORD, "viewer", [], "starts with a letter or digit"),
        ("jan", "short", "viewer", [], "at least 12 characters long (it has 5)"),
        ("jan", "x" * 257, "viewer", [], "at most 256 characters"),
        ("janssens1234", "JANSSENS1234", "viewer", [], "must not be the username"),
        ("jan", PASSWORD, "owner", [], "'owner' is not known; choose one of admin"),
        ("jan", PASSWORD, "admin", ["acme-a"], "An admin sees every company"),
        ("jan", PASSWORD, "viewer", ["nowhere"], "No company has the reference"),
    ],
)
def test_create_user_refuses_with_a_sentence(
    database: Database,
    companies: None,
    username: str,
    password: str,
    role: str,
    refs: list[str],
    says: str,
) -> None:
    with database.sessions() as session:
        with pytest.raises(UserError) as refused:
            users.create_user(session, username, password, role, refs)
        assert says in str(refused.value)
        assert password not in str(refused.value)
        assert session.scalars(select(UserRow)).all() == []


def test_create_user_names_every_problem_at_once(database: Database) -> None:
    with database.sessions() as session, pytest.raises(UserError) as refused:
        users.create_user(session, "x", "short", "boss")

    message = str(refused.value)
    assert "username" in message and "password" in message and "role" in message


def test_create_user_refuses_a_taken_name_whatever_its_case(
    database: Database,
) -> None:
    with database.sessions() as session:
        users.create_user(session, "Jan.Peeters", PASSWORD, "viewer")
        with pytest.raises(UserExists, match=r"'jan\.peeters' exists already"):
            users.create_user(session, " JAN.PEETERS ", PASSWORD, "admin")


def test_password_is_kept_as_an_argon2id_hash_only(database: Database) -> None:
    with database.sessions() as session:
        row = users.create_user(session, "jan", PASSWORD, "bookkeeper")
        session.commit()
        stored = row.password_hash

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_default_hasher_is_argon2id_at_current_strength() -> None:
    hasher = REAL  # not the tests' cheap one

    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19 * 1024  # OWASP's floor for Argon2id
    assert hasher.time_cost >= 2
    assert hasher.verify(hasher.hash(PASSWORD), PASSWORD)


def test_authenticate_checks_the_password(database: Database, companies: None) -> None:
    with database.sessions() as session:
        users.create_user(session, "jan", PASSWORD, "bookkeeper", ["acme-a"])
        session.commit()

        user = users.authenticate(session, "JAN", PASSWORD)
        assert user is not None
        assert (user.username, user.role, user.companies) == (
            "jan",
            Role.BOOKKEEPER,
            frozenset({"acme-a"}),
        )
        assert users.authenticate(session, "jan", PASSWORD + "!") is None
        assert users.authenticate(session, "jan", "") is None
        assert users.authenticate(session, "nobody", PASSWORD) is None
        assert users.authenticate(session, "jan", "x" * 10_000) is None


def test_disabled_user_cannot_sign_in(database: Database) -> None:
    with database.sessions() as session:
        users.create_user(session, "jan", PASSWORD, "viewer")
        users.set_disabled(session, "jan", True)
        assert users.authenticate(session, "jan", PASSWORD) is None
        users.set_disabled(session, "jan", False)
        assert users.authenticate(session, "jan", PASSWORD) is not None
        with pytest.raises(users.UnknownUser, match="No user is named 'nobody'"):
            users.set_disabled(session, "nobody", True)


def test_hash_is_renewed_when_the_parameters_change(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.sessions() as session:
        users.create_user(session, "jan", PASSWORD, "viewer")
        session.commit()
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(users, "HASHER", stronger)

    with database.sessions() as session:
        assert users.authenticate(session, "jan", PASSWORD) is not None
        session.commit()
    with database.sessions() as session:
        renewed = session.scalars(select(UserRow)).one().password_hash
        assert not stronger.check_needs_rehash(renewed)
        assert "t=2" in renewed
        assert users.authenticate(session, "jan", PASSWORD) is not None


def test_a_wrong_password_never_renews_the_hash(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.sessions() as session:
        before = users.create_user(session, "jan", PASSWORD, "viewer").password_hash
        session.commit()
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=16))

    with database.sessions() as session:
        assert users.authenticate(session, "jan", "wrong password!") is None
        assert session.scalars(select(UserRow)).one().password_hash == before


def test_a_broken_stored_hash_signs_nobody_in(database: Database) -> None:
    with database.sessions() as session:
        row = users.create_user(session, "jan", PASSWORD, "viewer")
        row.password_hash = "not a hash"
        session.flush()

        assert users.authenticate(session, "jan", PASSWORD) is None
    with pytest.raises(InvalidHashError):
        CHEAP.verify("not a hash", PASSWORD)


def test_admin_sees_every_company_others_their_own(
    database: Database, companies: None
) -> None:
    with database.sessions() as session:
        admin = users.user_of(users.create_user(session, "ada", PASSWORD, "admin"))
        book = users.user_of(
            users.create_user(session, "bob", PASSWORD, "bookkeeper", ["acme-b"])
        )
        none = users.user_of(users.create_user(session, "vera", PASSWORD, "viewer"))

        assert [c.ref for c in users.visible_companies(session, admin)] == [
            "acme-a",
            "acme-b",
        ]
        assert [c.ref for c in users.visible_companies(session, book)] == ["acme-b"]
        assert users.visible_companies(session, none) == []
        assert users.visible_company(session, book, "acme-a") is None
        assert users.visible_company(session, book, "acme-b") is not None
        assert users.visible_company(session, admin, "nowhere") is None
        assert admin.may_see("anything") and not none.may_see("acme-a")


def test_session_lives_until_closed(database: Database) -> None:
    with database.sessions() as session:
        user = users.user_of(users.create_user(session, "jan", PASSWORD, "viewer"))
        opened = users.open_session(session, user)
        session.commit()

        found = users.session_user(session, opened.token)
        assert found == (user, opened.csrf_token)
        stored = session.scalars(select(UserSessionRow)).one()
        assert stored.id != opened.token and opened.token not in stored.id

        users.close_session(session, opened.token)
        assert users.session_user(session, opened.token) is None
        assert users.session_user(session, "made-up") is None


@pytest.mark.parametrize(
    ("idle", "age", "alive"),
    [
        (timedelta(minutes=59), timedelta(hours=2), True),
        (timedelta(minutes=61), timedelta(hours=2), False),
        (timedelta(0), timedelta(hours=12, minutes=1), False),
    ],
)
def test_session_ends_when_idle_or_too_old(
    database: Database, idle: timedelta, age: timedelta, alive: bool
) -> None:
    with database.sessions() as session:
        user = users.user_of(users.create_user(session, "jan", PASSWORD, "viewer"))
        opened = users.open_session(session, user)
        now = utcnow()
        session.execute(
            update(UserSessionRow).values(last_seen_at=now - idle, created_at=now - age)
        )
        session.commit()

        assert (users.session_user(session, opened.token) is not None) is alive
        assert users.count_sessions(session, user.id) == (1 if alive else 0)


def test_signing_in_again_replaces_the_session(database: Database) -> None:
    with database.sessions() as session:
        user = users.user_of(users.create_user(session, "jan", PASSWORD, "viewer"))
        first = users.open_session(session, user)
        second = users.open_session(session, user, replacing=first.token)

        assert second.token != first.token and second.csrf_token != first.csrf_token
        assert users.session_user(session, first.token) is None
        assert users.session_user(session, second.token) is not None
