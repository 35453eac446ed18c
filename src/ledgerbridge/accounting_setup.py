"""Setting a company up for Exact Online from the web UI: connecting it in
two requests (the authorization URL, then Exact's redirect), and the
administration's live lists its *Accounting settings* pick from.

`ledgerbridge connect` signs in in one call (`wiring.connect_company`); a
web page cannot wait for the redirect, so `start_connection` gives the URL
and its state, which the caller keeps, and `finish_connection` takes the
URL Exact redirected to. Nothing is stored unless the sign-in succeeds and
one administration is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from ledgerbridge import wiring
from ledgerbridge.exact import resources
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.clock import SystemClock
from ledgerbridge.exact.connect import DivisionNotChosen, finish_sign_in
from ledgerbridge.exact.oauth import Authorization, authorization_url
from ledgerbridge.runner import Runner

logger = structlog.get_logger(__name__)

CALLBACK_PATH = "/exact/callback"
"""Where the web app takes Exact's redirect; the app registered in Exact's
App Center has `{the app's address}/exact/callback` as redirect URI."""

SALES_JOURNAL = 20
PURCHASE_JOURNAL = 22
"""Exact's journal types (`financial/Journals.Type`)."""


@dataclass(frozen=True, slots=True)
class Choice:
    """A code in the administration, with its name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class AdministrationLists:
    """What the settings pick from, read once per page view."""

    sales_journals: tuple[Choice, ...]
    purchase_journals: tuple[Choice, ...]
    gl_accounts: tuple[Choice, ...]
    sales_vat_codes: tuple[Choice, ...]
    purchase_vat_codes: tuple[Choice, ...]


def start_connection(runner: Runner, company_ref: str) -> Authorization:
    """Exact's sign-in address for the company's country host, with a fresh
    state to keep until the redirect comes back.

    Raises `MissingSetting`, `UnknownCompany` and `NoExactHost`.
    """
    app = wiring.exact_app(runner.settings)
    company = wiring.find_company(runner.database, company_ref)
    return authorization_url(app, wiring.base_url_for(runner.settings, company.country))


def finish_connection(
    runner: Runner,
    company_ref: str,
    redirect_url: str,
    expected_state: str,
    *,
    division: int | None = None,
) -> wiring.CompanyConnection:
    """Exchange the code of `redirect_url`, choose the administration and
    store the company's tokens and division, replacing an earlier
    connection; the runner's client of the company is made again.

    Raises `MissingSetting`, `UnknownCompany`, `NoExactHost`,
    `SecretKeyError`, `StateMismatch` and the other `ExactError`s of the
    sign-in, `DivisionNotChosen`, and `httpx2.HTTPError`.
    """
    settings, database = runner.settings, runner.database
    app = wiring.exact_app(settings)
    company = wiring.find_company(database, company_ref)
    base_url = wiring.base_url_for(settings, company.country)
    store = wiring.token_store(settings, database)  # a key problem shows first
    http = runner.http or wiring.http_client()
    try:
        signed = finish_sign_in(
            app,
            base_url,
            http,
            runner.clock or SystemClock(),
            redirect_url,
            expected_state,
            division=division,
        )
    finally:
        if runner.http is None:
            http.close()

    connection = store.create(company.id, base_url, signed.division.code)
    store.connect(connection, signed.pair)
    if signed.limits is not None:
        store.record_limits(connection, signed.limits)
    runner.forget_client(company.ref)
    logger.info("company.connected", company=company.ref, division=signed.division.code)
    return wiring.CompanyConnection(
        company=company,
        division=signed.division,
        user=signed.user,
        connection=store.state(connection),
    )


def division_sentence(exc: DivisionNotChosen) -> str:
    """What to do when the sign-in granted no administration or several."""
    if not exc.divisions:
        return (
            "Exact granted no administration at sign-in. Click Connect again and "
            "tick the company's administration on Exact's consent screen."
        )
    listed = ", ".join(
        f"{division.code} {division.name}".strip() for division in exc.divisions
    )
    return (
        f"Exact granted {len(exc.divisions)} administrations ({listed}), so "
        "which one is the company's cannot be told. Click Connect again and tick "
        "only the company's administration on Exact's consent screen."
    )


def administration_lists(client: ExactClient) -> AdministrationLists:
    """Journals, GL accounts and VAT codes of the client's administration
    that are not blocked; three calls.

    Raises the `ExactError`s of the calls and `httpx2.HTTPError`.
    """
    journals = _open(resources.journals(client))
    accounts = _open(resources.gl_accounts(client))
    vat_codes = _open(resources.vat_codes(client))

    def journals_of(kind: int) -> tuple[Choice, ...]:
        return tuple(_choice(row) for row in journals if row.get("Type") == kind)

    def vat_for(side: str) -> tuple[Choice, ...]:
        # B: both sides; S: sales; P: purchase (VATTransactionType).
        return tuple(
            _choice(row)
            for row in vat_codes
            if row.get("VATTransactionType") in {side, "B", None}
        )

    return AdministrationLists(
        sales_journals=journals_of(SALES_JOURNAL),
        purchase_journals=journals_of(PURCHASE_JOURNAL),
        gl_accounts=tuple(_choice(row) for row in accounts),
        sales_vat_codes=vat_for("S"),
        purchase_vat_codes=vat_for("P"),
    )


def _open(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if not row.get("IsBlocked")]


def _choice(row: dict[str, Any]) -> Choice:
    # Exact pads codes with spaces ("0  "); the settings keep them trimmed.
    return Choice(
        str(row.get("Code") or "").strip(), str(row.get("Description") or "").strip()
    )
