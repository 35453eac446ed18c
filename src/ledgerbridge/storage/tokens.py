"""The token store of `ledgerbridge.exact.tokens`, in the database.

One `exact_connection` row per company holds its tokens as Fernet ciphertext
(`storage/secrets.py`; the keys are never in the database), whether it needs
a new sign-in, and the last rate limits Exact reported.

`DbTokenStore.locked` is the single-flight lock every thread and process
respects:

* PostgreSQL: a transaction that reads the row with `SELECT ... FOR UPDATE`
  (waiting at most `lock_timeout` seconds, `SET LOCAL lock_timeout`);
* SQLite: a transaction opened with `BEGIN IMMEDIATE`, which takes the
  database's write lock at once (waiting at most `lock_timeout` seconds,
  `PRAGMA busy_timeout`). pysqlite would otherwise open transactions itself,
  and only before the first write, so the lock's connection runs in
  autocommit mode and the store issues `BEGIN IMMEDIATE`, `COMMIT` and
  `ROLLBACK` itself.

The block's writes commit when it exits normally and roll back when it
raises. Every write of the store goes through such a transaction; a thread
that holds a lock writes (and reads) through it, so calling the store from
inside `locked` cannot wait on itself. Holding the lock twice in one thread
is refused: it would deadlock.

Neither tokens nor their ciphertext appear in a repr, a log line or an error
message of the store (SQL errors are raised with their parameters hidden).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, text, update
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    StatementError,
)

from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.tokens import TokenPair
from ledgerbridge.storage.secrets import SecretBox
from ledgerbridge.storage.tables import ExactConnectionRow

DEFAULT_LOCK_TIMEOUT = 60.0
"""Seconds to wait for another holder; a refresh call takes at most 30 s."""

_LIMIT_FIELDS = (
    "daily_limit",
    "daily_remaining",
    "daily_reset",
    "minutely_limit",
    "minutely_remaining",
    "minutely_reset",
)
_CLEARED_TOKENS: dict[str, Any] = {
    "access_token": None,
    "refresh_token": None,
    "issued_at": None,
    "expires_at": None,
}

Row = ExactConnectionRow


class UnknownConnection(LookupError):
    """No Exact connection has this id."""


class TokenLockTimeout(TimeoutError):
    """Another thread or process held the token lock for too long."""


@dataclass(frozen=True)
class ConnectionInfo:
    """A connection as the UI and the runs see it: no tokens."""

    id: int
    company_id: int
    base_url: str
    division: int | None
    connected: bool
    """Tokens are stored."""
    needs_sign_in: bool
    reason: str | None


class HeldTokens:
    """What `DbTokenStore.locked` yields: the pair as stored when the lock
    was taken, and writes that commit with the lock (`LockedTokens`)."""

    def __init__(
        self,
        store: DbTokenStore,
        connection: int,
        db: Connection,
        pair: TokenPair | None,
        needs_sign_in: bool,
        reason: str | None,
    ) -> None:
        self.connection = connection
        self.pair = pair
        self.needs_sign_in = needs_sign_in
        self.reason = reason
        self._store = store
        self._db: Connection | None = db

    def __repr__(self) -> str:
        return (
            f"HeldTokens(connection={self.connection}, pair={self.pair!r}, "
            f"needs_sign_in={self.needs_sign_in})"
        )

    def save(self, pair: TokenPair) -> None:
        """Store the new pair, encrypted; it commits when the lock is released.
        Whether the connection needs a sign-in is left as it is."""
        self._store._update(self._open(), self.connection, self._store._encrypted(pair))
        self.pair = pair

    def mark_needs_sign_in(self, reason: str) -> None:
        """The chain is dead (see `DbTokenStore.mark_needs_sign_in`)."""
        self._store._update(
            self._open(), self.connection, {"needs_sign_in": True, "reason": reason}
        )
        self.needs_sign_in = True
        self.reason = reason

    def _connect(self, pair: TokenPair) -> None:
        values = {
            **self._store._encrypted(pair),
            "needs_sign_in": False,
            "reason": None,
        }
        self._store._update(self._open(), self.connection, values)
        self.pair = pair
        self.needs_sign_in = False
        self.reason = None

    def _open(self) -> Connection:
        if self._db is None:
            raise RuntimeError(
                f"the lock of Exact connection {self.connection} was released; "
                "write inside the 'with store.locked(...)' block"
            )
        return self._db

    def _release(self) -> None:
        self._db = None


class DbTokenStore:
    """`TokenStore` on a database: see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self._engine = engine
        self._box = box
        self._lock_timeout_ms = max(1, round(lock_timeout * 1000))
        self._local = threading.local()

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"DbTokenStore({url})"

    # Connections

    def create(self, company_id: int, base_url: str, division: int | None) -> int:
        """The id of the company's connection, created or updated to this host
        and division. Moving to another host drops the tokens (they belong to
        the old one); `connect` stores new ones."""
        try:
            return self._create(company_id, base_url, division)
        except IntegrityError:
            if self._held():
                raise
            # Another process created it since we looked (or the company
            # does not exist, and this fails again).
            return self._create(company_id, base_url, division)

    def _create(self, company_id: int, base_url: str, division: int | None) -> int:
        with self._writing() as db:
            with self._lock_wait():
                existing = db.execute(
                    select(Row.id, Row.base_url)
                    .where(Row.company_id == company_id)
                    .with_for_update()
                ).first()
            if existing is None:
                inserted = db.execute(
                    insert(Row).values(
                        company_id=company_id,
                        base_url=base_url,
                        division=division,
                        needs_sign_in=False,
                    )
                )
                key = inserted.inserted_primary_key
                if key is None:  # pragma: no cover - every dialect here returns it
                    raise RuntimeError("the database returned no id for the row")
                return int(key[0])
            values: dict[str, Any] = {"base_url": base_url, "division": division}
            if existing.base_url != base_url:
                values.update(_CLEARED_TOKENS)
            self._update(db, existing.id, values)
            return int(existing.id)

    def find(self, company_id: int) -> int | None:
        """The id of the company's connection, if it has one."""
        with self._reading() as db:
            found = db.scalar(select(Row.id).where(Row.company_id == company_id))
        return None if found is None else int(found)

    def state(self, connection: int) -> ConnectionInfo:
        with self._reading() as db:
            row = db.execute(
                select(
                    Row.id,
                    Row.company_id,
                    Row.base_url,
                    Row.division,
                    Row.refresh_token.is_not(None).label("connected"),
                    Row.needs_sign_in,
                    Row.reason,
                ).where(Row.id == connection)
            ).first()
        if row is None:
            raise UnknownConnection(f"no Exact connection with id {connection}")
        return ConnectionInfo(
            id=row.id,
            company_id=row.company_id,
            base_url=row.base_url,
            division=row.division,
            connected=bool(row.connected),
            needs_sign_in=row.needs_sign_in,
            reason=row.reason,
        )

    # Tokens (the TokenStore protocol)

    def current(self, connection: int) -> TokenPair | None:
        """The stored pair, read without a lock."""
        with self._reading() as db:
            row = db.execute(self._token_query(connection)).first()
        if row is None:
            raise UnknownConnection(f"no Exact connection with id {connection}")
        return self._pair(row)

    @contextmanager
    def locked(self, connection: int) -> Iterator[HeldTokens]:
        """Hold the connection's lock and yield its pair as stored now."""
        held = self._held()
        if connection in held:
            raise RuntimeError(
                f"this thread already holds the lock of Exact connection {connection}"
            )
        with self._locking() as db:
            with self._lock_wait():
                query = self._token_query(connection).with_for_update()
                row = db.execute(query).first()
            if row is None:
                raise UnknownConnection(f"no Exact connection with id {connection}")
            tokens = HeldTokens(
                self, connection, db, self._pair(row), row.needs_sign_in, row.reason
            )
            held[connection] = tokens
            try:
                yield tokens
            finally:
                del held[connection]
                tokens._release()

    def connect(self, connection: int, pair: TokenPair) -> None:
        """Store the first pair of a sign-in and clear "needs sign-in"."""
        current = self._held().get(connection)
        if current is not None:
            current._connect(pair)
            return
        with self.locked(connection) as tokens:
            tokens._connect(pair)

    def mark_needs_sign_in(self, connection: int, reason: str) -> None:
        """The chain is dead: stop using it until someone signs in again."""
        current = self._held().get(connection)
        if current is not None:
            current.mark_needs_sign_in(reason)
            return
        with self.locked(connection) as tokens:
            tokens.mark_needs_sign_in(reason)

    def reencrypt_all(self) -> int:
        """Encrypt every stored token again with the first key, in one
        transaction; the number of connections re-encrypted."""
        with self._writing() as db:
            stored = or_(Row.access_token.is_not(None), Row.refresh_token.is_not(None))
            with self._lock_wait():
                rows = db.execute(
                    select(Row.id, Row.access_token, Row.refresh_token)
                    .where(stored)
                    .order_by(Row.id)
                    .with_for_update()
                ).all()
            for row in rows:
                self._update(
                    db,
                    row.id,
                    {
                        "access_token": self._rotate(row.access_token),
                        "refresh_token": self._rotate(row.refresh_token),
                    },
                )
        return len(rows)

    # Rate limits

    def record_limits(self, connection: int, limits: RateLimits) -> None:
        """Keep what Exact reported; a header it left out keeps its last value."""
        values = {
            name: getattr(limits, name)
            for name in _LIMIT_FIELDS
            if getattr(limits, name) is not None
        }
        if not values:
            return
        with self._writing() as db:
            if not self._update(db, connection, values):
                raise UnknownConnection(f"no Exact connection with id {connection}")

    def limits(self, connection: int) -> RateLimits:
        """The last limits Exact reported (None where it never did)."""
        columns = [getattr(Row, name) for name in _LIMIT_FIELDS]
        with self._reading() as db:
            row = db.execute(select(*columns).where(Row.id == connection)).first()
        if row is None:
            raise UnknownConnection(f"no Exact connection with id {connection}")
        return RateLimits(**dict(zip(_LIMIT_FIELDS, row, strict=True)))

    # Inside

    def _held(self) -> dict[int, HeldTokens]:
        held: dict[int, HeldTokens] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    @staticmethod
    def _token_query(connection: int) -> Any:
        return select(
            Row.access_token,
            Row.refresh_token,
            Row.issued_at,
            Row.expires_at,
            Row.needs_sign_in,
            Row.reason,
        ).where(Row.id == connection)

    def _pair(self, row: Any) -> TokenPair | None:
        if (
            row.access_token is None
            or row.refresh_token is None
            or row.issued_at is None
            or row.expires_at is None
        ):
            return None
        return TokenPair(
            access_token=self._box.decrypt(row.access_token),
            refresh_token=self._box.decrypt(row.refresh_token),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
        )

    def _encrypted(self, pair: TokenPair) -> dict[str, Any]:
        return {
            "access_token": self._box.encrypt(pair.access_token),
            "refresh_token": self._box.encrypt(pair.refresh_token),
            "issued_at": pair.issued_at,
            "expires_at": pair.expires_at,
        }

    def _rotate(self, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self._box.rotate(ciphertext)

    @staticmethod
    def _update(db: Connection, connection: int, values: dict[str, Any]) -> bool:
        """Update the row; False if there is none. Parameters (ciphertext)
        stay out of the error if it fails."""
        try:
            result = db.execute(update(Row).where(Row.id == connection).values(values))
        except StatementError as exc:
            exc.hide_parameters = True
            raise
        return result.rowcount > 0

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """The held lock's connection, else a fresh one."""
        held = self._held()
        if held:
            yield next(iter(held.values()))._open()
            return
        with self._engine.connect() as db:
            yield db

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """The held lock's transaction, else a locking one of its own."""
        held = self._held()
        if held:
            yield next(iter(held.values()))._open()
            return
        with self._locking() as db:
            yield db

    @contextmanager
    def _locking(self) -> Iterator[Connection]:
        """A transaction that holds the lock: see the module docstring."""
        if self._engine.dialect.name == "sqlite":
            with self._sqlite_immediate() as db:
                yield db
            return
        with self._engine.connect() as db, db.begin():
            if self._engine.dialect.name == "postgresql":
                db.execute(
                    text("SELECT set_config('lock_timeout', :timeout, true)"),
                    {"timeout": f"{self._lock_timeout_ms}ms"},
                )
            yield db

    @contextmanager
    def _sqlite_immediate(self) -> Iterator[Connection]:
        with self._engine.connect() as db:
            db.execution_options(isolation_level="AUTOCOMMIT")
            previous = db.exec_driver_sql("PRAGMA busy_timeout").scalar()
            db.exec_driver_sql(f"PRAGMA busy_timeout = {self._lock_timeout_ms}")
            try:
                with self._lock_wait():
                    db.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    self._sqlite_rollback(db)
                    raise
                try:
                    db.exec_driver_sql("COMMIT")
                except BaseException:
                    self._sqlite_rollback(db)
                    raise
            finally:
                # A broken connection is discarded by the pool anyway.
                with contextlib.suppress(DBAPIError):
                    db.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous or 0)}")

    @contextmanager
    def _lock_wait(self) -> Iterator[None]:
        """Waiting for the lock timed out: say so."""
        try:
            yield
        except OperationalError as exc:
            busy = getattr(exc.orig, "sqlite_errorname", None) == "SQLITE_BUSY"
            # PostgreSQL's lock_not_available
            if busy or getattr(exc.orig, "sqlstate", None) == "55P03":
                raise TokenLockTimeout(
                    f"waited {self._lock_timeout_ms / 1000:g} s for the Exact token "
                    "lock (another thread or process held it)"
                ) from exc
            raise

    @staticmethod
    def _sqlite_rollback(db: Connection) -> None:
        # SQLite ends the transaction itself after some errors.
        raw = db.connection.dbapi_connection
        if raw is not None and getattr(raw, "in_transaction", True):
            try:
                db.exec_driver_sql("ROLLBACK")
            except DBAPIError:
                if getattr(raw, "in_transaction", True):
                    raise
