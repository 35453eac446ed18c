"""Rights on every page route, found at run time, so a route added later is
checked without anyone listing it here:

* a bookkeeper of the Belgian company asking for the Dutch one (by `company`
  or by the id of one of its runs, parties, problems or notices) is refused
  with 403 or 404 and sees none of its names or numbers, while an admin
  opening the same address, and he his own company's, are let in;
* every state change of the Dutch company by that bookkeeper, and by the
  Dutch company's own viewer, is refused and writes nothing;
* every state change without the session's CSRF token is refused, even for
  an admin, and writes nothing.

A page route that takes no company (no `company` field, no path parameter)
must be listed in `COMPANY_FREE` with the reason; a path parameter this file
cannot fill with a real id of the demo data fails the test with what to add.
A signed-out request to any route is checked in test_security.py
(`test_no_route_answers_without_sign_in_or_key`).

Through Starlette's TestClient, on SQLite and PostgreSQL, on the demo data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from ledgerbridge import demo
from ledgerbridge.storage.tables import (
    Base,
    CompanyRow,
    DocumentRow,
    NoticeRow,
    PartyRow,
    RunDocumentRow,
    RunRow,
    UserSessionRow,
)
from ledgerbridge.storage.types import utcnow
from ledgerbridge.sync.model import Flow, Outcome, RunStatus, Trigger
from ledgerbridge.wiring import Database
from tests.web.conftest import (
    ADMIN,
    BE,
    BOOKKEEPER,
    NL,
    VIEWER,
    add_users,
    client_sign_in,
    form_token,
    web_app,
)
from tests.web.test_security import PUBLIC_MOUNTS

Clients = Callable[..., TestClient]

API = "/api/"
REFUSED = {403, 404}

# Page routes that take no company, and why they need no check here.
COMPANY_FREE = {
    ("GET", "/sign-in"): "the sign-in form: nobody is signed in yet",
    ("POST", "/sign-in"): "signs in; its own form token (test_security.py)",
    ("POST", "/sign-out"): "ends the user's own session, of no company",
    ("GET", "/"): "lists only the user's own companies (test_security.py)",
    ("GET", "/exact/callback"): (
        "Exact's redirect after Connect: admins only, the company comes from "
        "the signed state cookie bound to the session (test_settings.py)"
    ),
}

# A value for each form field a state change may read, so that the request
# would change something if it were let through.
FORM_VALUES = {
    "period": "last_month",
    "from": "",
    "to": "",
    "version": "",
    "next": "/",
    "exact_code": "R-9001",
    "gl_account": "8001",
    "vat_scenario": "",
    "cost_centre": "",
}


# The routes


@dataclass(frozen=True, slots=True)
class PageRoute:
    method: str
    path: str
    endpoint: str
    query: frozenset[str]
    form: frozenset[str]
    path_params: tuple[str, ...]

    @property
    def takes_company(self) -> bool:
        return "company" in self.query | self.form or bool(self.path_params)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def page_routes(database: Database) -> list[PageRoute]:
    """Every route of the app but the JSON API's, as a request meets them: a
    path and method an earlier route answers is left out."""
    app = web_app(database)
    documents = {app.openapi_url, app.docs_url, app.redoc_url}
    found: dict[tuple[str, str], PageRoute] = {}
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if path in PUBLIC_MOUNTS or path in documents or path.startswith(API):
            continue  # static files, the JSON API and its description: tests/api
        assert isinstance(route, APIRoute), path
        query, form, path_params = _params(route.dependant)
        for method in sorted(context.methods or ()):
            if method == "HEAD" or (method, path) in found:
                continue
            found[(method, path)] = PageRoute(
                method,
                path,
                f"{route.endpoint.__module__}.{route.endpoint.__name__}",
                frozenset(query),
                frozenset(form),
                tuple(dict.fromkeys(path_params)),
            )
    return list(found.values())


def _params(dependant: Dependant) -> tuple[list[str], list[str], list[str]]:
    """The names of the query, form and path parameters a route reads,
    its dependencies' included."""
    query = [param.alias for param in dependant.query_params]
    form = [param.alias for param in dependant.body_params]
    path = [param.alias for param in dependant.path_params]
    for dependency in dependant.dependencies:
        more = _params(dependency)
        query, form, path = query + more[0], form + more[1], path + more[2]
    return query, form, path


def checked_routes(database: Database) -> list[PageRoute]:
    """The routes that take a company; fails on one that takes none and is
    not listed, with what to do."""
    routes = page_routes(database)
    assert len(routes) > 20, [str(route) for route in routes]
    unlisted = [
        str(route)
        for route in routes
        if not route.takes_company and (route.method, route.path) not in COMPANY_FREE
    ]
    assert not unlisted, (
        f"These page routes take neither `company` nor a path parameter: "
        f"{unlisted}. Let them take the company, or list them in COMPANY_FREE "
        "with the reason they need none."
    )
    listed = {(route.method, route.path) for route in routes}
    gone = [key for key in COMPANY_FREE if key not in listed]
    assert not gone, f"COMPANY_FREE lists routes the app no longer has: {gone}"
    return [route for route in routes if route.takes_company]


# The Dutch company's data, with a run of each flow, a problem and a notice


@dataclass(frozen=True, slots=True)
class Ids:
    company: str
    contact: int
    supplier: int
    runs: dict[Flow, int]
    problem: int
    notice: int


@dataclass(frozen=True, slots=True)
class World:
    database: Database
    nl: Ids
    be: Ids
    secrets: frozenset[str]
    """Names and numbers of the Dutch company that no Belgian page shows."""


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    with database.sessions() as session:
        demo.seed(session, date.today())  # noqa: DTZ011 - as the demo does
        session.commit()
    add_users(database)
    nl, be = _runs_of(database, NL), _runs_of(database, BE)
    yield World(database, nl, be, _secrets(database))


def _runs_of(database: Database, ref: str) -> Ids:
    """A finished run of each flow for company `ref`, the customer invoice
    run with a failed document, and a notice of a failed daily run."""
    with database.sessions() as session:
        company = session.scalars(select(CompanyRow).where(CompanyRow.ref == ref)).one()
        parties = {
            role: session.scalars(
                select(PartyRow.id)
                .where(PartyRow.company_id == company.id, PartyRow.role == role)
                .order_by(PartyRow.id)
            ).first()
            for role in ("customer", "supplier")
        }
        invoice = session.scalars(
            select(DocumentRow)
            .where(DocumentRow.company_id == company.id, DocumentRow.side == "sales")
            .order_by(DocumentRow.id)
        ).first()
        assert invoice is not None and None not in parties.values(), ref
        last = date.today() - timedelta(days=1)  # noqa: DTZ011
        runs = {}
        for flow in Flow:
            run = RunRow(
                company_id=company.id,
                flow=flow.value,
                first_day=last - timedelta(days=30),
                last_day=last,
                trigger=Trigger.DAILY.value,
                started_by="daily",
                status=RunStatus.PARTIAL.value,
                started_at=utcnow(),
                finished_at=utcnow(),
                failed=1 if flow is Flow.CUSTOMER_INVOICES else 0,
            )
            session.add(run)
            session.flush()
            runs[flow] = run.id
        problem = RunDocumentRow(
            run_id=runs[Flow.CUSTOMER_INVOICES],
            document_id=invoice.id,
            number=invoice.number,
            outcome=Outcome.FAILED.value,
            reason_code="missing_customer_code",
            reason=f"The customer of {invoice.number} has no code in Exact.",
        )
        notice = NoticeRow(
            company_id=company.id,
            run_id=runs[Flow.CUSTOMER_INVOICES],
            kind="run_failed",
            message=f"The daily export of {company.name} failed.",
        )
        session.add_all([problem, notice])
        session.commit()
        return Ids(
            ref,
            parties["customer"] or 0,
            parties["supplier"] or 0,
            runs,
            problem.id,
            notice.id,
        )


def _secrets(database: Database) -> frozenset[str]:
    """The Dutch company's name and VAT number, its parties' names and its
    documents' numbers, less any the Belgian company shares."""

    def of(ref: str) -> set[str]:
        with database.sessions() as session:
            company = session.scalars(
                select(CompanyRow).where(CompanyRow.ref == ref)
            ).one()
            names = set(
                session.scalars(
                    select(PartyRow.name).where(PartyRow.company_id == company.id)
                )
            )
            numbers = set(
                session.scalars(
                    select(DocumentRow.number).where(
                        DocumentRow.company_id == company.id
                    )
                )
            )
            return {company.name, company.vat_number, *names, *numbers}

    found = {text for text in of(NL) - of(BE) if len(text) >= 6}
    assert len(found) > 50, found
    return frozenset(found)


# Addresses and forms


FILLERS: dict[str, Callable[[str, Ids], object]] = {
    "ref": lambda path, ids: ids.company,
    "party_id": lambda path, ids: (
        ids.supplier if path.startswith("/purchase/") else ids.contact
    ),
    "run_id": lambda path, ids: ids.runs[
        Flow.PAYMENTS
        if "payments" in path
        else Flow.SUPPLIER_INVOICES
        if "supplier" in path
        else Flow.CUSTOMER_INVOICES
    ],
    "outcome_id": lambda path, ids: ids.problem,
    "notice_id": lambda path, ids: ids.notice,
}


def address(route: PageRoute, ids: Ids, company: str | None = None) -> str:
    """`route`'s path with the ids of `ids`' company, asking for `company`
    (that company by default) in the query when the route reads one."""
    path = route.path
    for name in route.path_params:
        fill = FILLERS.get(name)
        if fill is None:
            pytest.fail(
                f"{route} has the path parameter {name!r}, which test_rights.py "
                f"cannot fill: add it to FILLERS with an id of {ids.company}'s "
                "data (made in the `world` fixture)."
            )
        path = path.replace(f"{{{name}}}", str(fill(route.path, ids)))
    return f"{path}?{urlencode({'company': company or ids.company})}"


def form(route: PageRoute, company: str, token: str | None) -> dict[str, str]:
    values = {name: FORM_VALUES.get(name, "") for name in route.form}
    values["company"] = company
    if token is not None:
        values["csrf_token"] = token
    return values


def signed_in(clients: Clients, username: str) -> tuple[TestClient, str]:
    client = client_sign_in(clients(), username)
    return client, form_token(client.get("/").text)


def state(database: Database) -> str:
    """A digest of every table but the sessions (which note each request)."""
    digest = hashlib.sha256()
    with database.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == UserSessionRow.__tablename__:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            for row in session.execute(select(table).order_by(*order)):
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def leaked(response: Response, secrets: frozenset[str]) -> list[str]:
    return sorted(secret for secret in secrets if secret in response.text)


def told(response: Response) -> str:
    """The status and what the page's <main> says, for a failure message."""
    main = re.search(r"<main.*?</main>", response.text, re.DOTALL)
    words = re.sub(r"<[^>]+>", " ", main.group(0) if main else response.text)
    return f"{response.status_code} {' '.join(words.split())[:240]!r}"


def verdict(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


# The checks


def test_every_page_route_is_checked_or_listed(database: Database) -> None:
    routes = checked_routes(database)

    assert any(route.method == "POST" for route in routes)
    assert any(route.path_params for route in routes)


def test_bookkeeper_sees_nothing_of_another_company(
    world: World, clients: Clients
) -> None:
    bob, _ = signed_in(clients, BOOKKEEPER)
    ada, _ = signed_in(clients, ADMIN)
    problems = []
    shown: set[str] = set()

    for route in checked_routes(world.database):
        if route.method != "GET":
            continue
        here = address(route, world.nl)
        refused = bob.get(here)
        if refused.status_code not in REFUSED:
            problems.append(f"{route}: bob opened {here}: {told(refused)}")
        elif found := leaked(refused, world.secrets):
            problems.append(f"{route}: bob's refusal of {here} shows {found[:5]}")
        # The admin is let in: the address is right.
        allowed = ada.get(here)
        if allowed.status_code in REFUSED or allowed.status_code >= 500:
            problems.append(f"{route}: ada could not open {here}: {told(allowed)}")
        shown |= set(leaked(allowed, world.secrets))

        # Bob is let into his own company: the refusal is about the company.
        own = bob.get(address(route, world.be))
        if own.status_code == 404 or own.status_code >= 500:
            problems.append(f"{route}: bob could not open his own: {told(own)}")

        if route.path_params and "company" in route.query:
            # Another company's ids asked for through one's own company.
            mixed = address(route, world.nl, company=BE)
            refused = bob.get(mixed)
            if refused.status_code not in REFUSED:
                problems.append(f"{route}: bob opened {mixed}: {told(refused)}")
            elif found := leaked(refused, world.secrets):
                problems.append(f"{route}: bob's refusal of {mixed} shows {found[:5]}")

    verdict(problems)
    assert len(shown) > 20, "the admin's pages showed hardly any Dutch data"


def test_bookkeeper_changes_nothing_of_another_company(
    world: World, clients: Clients
) -> None:
    bob, token = signed_in(clients, BOOKKEEPER)
    routes = [r for r in checked_routes(world.database) if r.method != "GET"]
    problems = []

    for route in routes:
        asked = [(address(route, world.nl), NL)]
        if route.path_params and "company" in route.query | route.form:
            asked.append((address(route, world.nl, company=BE), BE))
        for here, company in asked:
            before = state(world.database)
            response = bob.request(route.method, here, data=form(route, company, token))
            if response.status_code not in REFUSED:
                problems.append(f"{route}: bob sent {here}: {told(response)}")
            elif found := leaked(response, world.secrets):
                problems.append(f"{route}: bob's refusal of {here} shows {found[:5]}")
            if state(world.database) != before:
                problems.append(f"{route}: bob's {here} changed the database")
    verdict(problems)

    # The digest does see a change: the admin saves a booking code.
    ada, token = signed_in(clients, ADMIN)
    save = next(route for route in routes if "exact_code" in route.form)
    before = state(world.database)
    saved = ada.post(address(save, world.nl), data=form(save, NL, token))
    assert saved.status_code == 303, told(saved)
    assert state(world.database) != before


def test_viewer_changes_nothing_of_her_own_company(
    world: World, clients: Clients
) -> None:
    vera, token = signed_in(clients, VIEWER)
    problems = []

    for route in checked_routes(world.database):
        if route.method == "GET":
            continue
        here = address(route, world.nl)
        before = state(world.database)
        response = vera.request(route.method, here, data=form(route, NL, token))
        if response.status_code != 403:
            problems.append(f"{route}: vera sent {here}: {told(response)}")
        if state(world.database) != before:
            problems.append(f"{route}: vera's {here} changed the database")

    verdict(problems)


def test_no_change_without_the_csrf_token(world: World, clients: Clients) -> None:
    ada, token = signed_in(clients, ADMIN)
    problems = []
    changes = [
        route
        for route in page_routes(world.database)
        if route.method != "GET" and route.path != "/sign-in"
    ]
    assert any(route.path == "/sign-out" for route in changes)

    for route in changes:
        here = address(route, world.nl)
        for label, sent in [
            ("no token", form(route, NL, None)),
            ("another token", form(route, NL, token[:-2] + "xx")),
        ]:
            before = state(world.database)
            response = ada.request(route.method, here, data=sent)
            if response.status_code != 403:
                problems.append(f"{route} with {label}: {told(response)}")
            if state(world.database) != before:
                problems.append(f"{route} with {label} changed the database")
    assert ada.get("/").status_code == 200  # still signed in

    verdict(problems)
