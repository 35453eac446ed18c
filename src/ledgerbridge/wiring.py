"""The one place that builds concrete adapters from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx2
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge.exact import hosts
from ledgerbridge.exact.client import TIMEOUT, ExactClient
from ledgerbridge.exact.clock import Clock, SystemClock
from ledgerbridge.exact.connect import Division, RedirectSource, sign_in
from ledgerbridge.exact.errors import NeedsSignIn
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.oauth import ExactApp, TokenEndpoint
from ledgerbridge.settings import Settings
from ledgerbridge.storage import migrate
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.storage.tokens import ConnectionInfo, DbTokenStore


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    def is_current(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision(
            self.engine
        )

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)


def open_database(settings: Settings) -> Database:
    engine = make_engine(settings.effective_database_url)
    return Database(engine, make_session_factory(engine))


# Exact Online


class UnknownCompany(LookupError):
    """No company has this reference."""


class NotConnected(LookupError):
    """The company has no usable Exact connection yet."""


class NoExactHost(ValueError):
    """Exact Online has no host for the company's country, and no base URL
    is configured."""


@dataclass(frozen=True)
class Company:
    """What the Exact wiring needs of a company."""

    id: int
    ref: str
    name: str
    country: str


@dataclass(frozen=True)
class CompanyConnection:
    """A company just connected to Exact (no tokens)."""

    company: Company
    division: Division
    user: str | None
    connection: ConnectionInfo


@dataclass(frozen=True)
class ConnectionOverview:
    """A company and its Exact connection, as `connections list` and the UI
    show them (no tokens)."""

    company: Company
    connection: ConnectionInfo | None
    limits: RateLimits | None


def exact_app(settings: Settings) -> ExactApp:
    """The app registered in Exact's App Center; `MissingSetting` names the
    variable to set."""
    client_id, client_secret = settings.exact_credentials()
    return ExactApp(client_id, client_secret, settings.exact_redirect_uri)


def base_url_for(settings: Settings, country: str) -> str:
    """LEDGERBRIDGE_EXACT_BASE_URL if set, else the Exact host of `country`
    (`NoExactHost` for a country Exact has no host for)."""
    if settings.exact_base_url:
        return settings.exact_base_url.rstrip("/")
    try:
        return hosts.host_for(country)
    except ValueError as exc:
        raise NoExactHost(
            f"{exc} (LEDGERBRIDGE_EXACT_BASE_URL sets one for every company.)"
        ) from None


def http_client() -> httpx2.Client:
    """For Exact: every call times out (30 s, 10 s to connect)."""
    return httpx2.Client(timeout=TIMEOUT)


def token_store(settings: Settings, database: Database) -> DbTokenStore:
    """Exact tokens in the database, encrypted with the configured keys."""
    return DbTokenStore(database.engine, load_keys(settings))


def find_company(database: Database, company_ref: str) -> Company:
    with database.sessions() as session:
        row = repo.get_company(session, company_ref)
        if row is None:
            raise UnknownCompany(
                f"No company has the reference {company_ref!r}; "
                "see 'ledgerbridge companies list'."
            )
        return _company(row)


def connect_company(
    settings: Settings,
    database: Database,
    company_ref: str,
    redirect_from: RedirectSource,
    *,
    division: int | None = None,
    http: httpx2.Client | None = None,
    clock: Clock | None = None,
) -> CompanyConnection:
    """Sign the company in to Exact (`exact.connect.sign_in`) and store its
    tokens and division. Nothing is stored unless the sign-in succeeds and
    the division is chosen; then any earlier tokens are replaced and "needs
    sign-in again" is cleared.

    Raises `MissingSetting`, `UnknownCompany`, `NoExactHost`, `SecretKeyError`,
    `StateMismatch` and the other `ExactError`s of the sign-in,
    `DivisionNotChosen`, and `httpx2.HTTPError` when Exact cannot be reached.
    """
    app = exact_app(settings)
    company = find_company(database, company_ref)
    base_url = base_url_for(settings, company.country)
    store = token_store(settings, database)  # a key problem shows before sign-in
    own_http = http is None
    http = http or http_client()
    try:
        signed = sign_in(
            app,
            base_url,
            http,
            clock or SystemClock(),
            redirect_from,
            division=division,
        )
    finally:
        if own_http:
            http.close()
    connection = store.create(company.id, base_url, signed.division.code)
    store.connect(connection, signed.pair)
    if signed.limits is not None:
        store.record_limits(connection, signed.limits)
    return CompanyConnection(
        company=company,
        division=signed.division,
        user=signed.user,
        connection=store.state(connection),
    )


def exact_client(
    settings: Settings,
    database: Database,
    company_ref: str,
    *,
    http: httpx2.Client | None = None,
    clock: Clock | None = None,
) -> ExactClient:
    """A client for the company's division, on the host it was connected on.

    Build one per company and keep it: its rate governor must be the only
    one of the division in this process. It starts from the limits last
    stored, so a new process respects the daily reserve at once, and stores
    every limit Exact reports. Without `http` it gets its own `http_client()`
    (close it with `client.http.close()`).

    Raises `MissingSetting`, `UnknownCompany`, `NotConnected`, `NeedsSignIn`
    (the connection was marked so: someone must connect again) and
    `SecretKeyError`.
    """
    app = exact_app(settings)
    company = find_company(database, company_ref)
    store = token_store(settings, database)
    connection = store.find(company.id)
    if connection is None:
        raise NotConnected(
            f"Company {company.ref!r} is not connected to Exact Online; "
            f"run 'ledgerbridge connect --company {company.ref}'."
        )
    info = store.state(connection)
    if info.division is None or not info.connected:
        raise NotConnected(
            f"Company {company.ref!r} has no Exact division and tokens yet; "
            f"run 'ledgerbridge connect --company {company.ref}'."
        )
    if info.needs_sign_in:
        raise NeedsSignIn.for_connection(info.division, info.reason)
    clock = clock or SystemClock()
    http = http or http_client()
    governor = RateGovernor(
        info.division, clock, daily_reserve=settings.exact_daily_reserve
    )
    governor.observe(store.limits(connection))
    governor.on_limits = LimitsRecorder(store, connection, clock)
    return ExactClient(
        http=http,
        base_url=info.base_url,
        division=info.division,
        connection=connection,
        store=store,
        tokens=TokenEndpoint(app, info.base_url, http, clock),
        governor=governor,
        clock=clock,
    )


class LimitsRecorder:
    """Stores the limits Exact reports, at most every `every` seconds (a
    write per call would double the database work of an export), and at
    once when the day's calls run low, so a new process starts from them."""

    def __init__(
        self, store: DbTokenStore, connection: int, clock: Clock, every: float = 10.0
    ) -> None:
        self.store = store
        self.connection = connection
        self.clock = clock
        self.every = every
        self._last: datetime | None = None

    def __call__(self, limits: RateLimits) -> None:
        now = self.clock.now()
        low = limits.daily_remaining is not None and limits.daily_remaining < 500
        due = self._last is None or (now - self._last).total_seconds() >= self.every
        if due or low:
            self.store.record_limits(self.connection, limits)
            self._last = now


def connection_overview(
    settings: Settings, database: Database
) -> list[ConnectionOverview]:
    """Every company with its Exact connection (or None) and the last limits
    Exact reported for it, by reference."""
    with database.sessions() as session:
        companies = [
            _company(row)
            for row in repo.list_companies(session, None, limit=10_000, offset=0).items
        ]
    store = token_store(settings, database)
    overview = []
    for company in sorted(companies, key=lambda found: found.ref):
        connection = store.find(company.id)
        if connection is None:
            overview.append(ConnectionOverview(company, None, None))
            continue
        overview.append(
            ConnectionOverview(
                company, store.state(connection), store.limits(connection)
            )
        )
    return overview


def _company(row: CompanyRow) -> Company:
    return Company(id=row.id, ref=row.ref, name=row.name, country=row.country)
