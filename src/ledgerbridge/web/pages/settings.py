"""*Financial settings > Accounting settings tab*: a company's connection to
Exact Online (*Connect* through Exact's sign-in) and its *Customer
invoice*, *Supplier invoice* and *Payments* tabs.

Everyone who may see the company reads the page; only admins connect and
save. The sign-in's state waits for Exact's redirect in a signed, HttpOnly
cookie bound to the browser's session and the company (ten minutes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from ledgerbridge import accounting_setup, intake, wiring
from ledgerbridge.accounting_setup import (
    CALLBACK_PATH,
    AdministrationLists,
    Choice,
)
from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.domain.problems import InvalidInput, Problem
from ledgerbridge.domain.vat_catalogue import scenarios_for
from ledgerbridge.exact.connect import DivisionNotChosen
from ledgerbridge.exact.errors import ExactError
from ledgerbridge.exact.oauth import StateMismatch
from ledgerbridge.queries import settings as queries
from ledgerbridge.runner import NoExactClient, Runner, TermsFileError
from ledgerbridge.settings import MissingSetting
from ledgerbridge.storage.secrets import SecretKeyError, UndecryptableSecret
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.users import Role
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.api.runs import get_runner
from ledgerbridge.web.pages.companies import chosen_company, company_choices
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import (
    CurrentUser,
    PageUser,
    is_https,
    session_token,
    signers,
)

router = APIRouter(include_in_schema=False)

PATH = "/financial-settings/accounting-settings"
CONNECT_PATH = "/exact/connect"
TERMS_PATH = "/terms"

STATE_COOKIE = "lb_exact_connect"
STATE_SECONDS = 10 * 60
STATE_SALT = "ledgerbridge.exact-connect"

CODE_MAX = 20
NOTICES = {"saved": "The settings are saved."}

RunnerDep = Annotated[Runner, Depends(get_runner)]


@dataclass(frozen=True, slots=True)
class ExportTab:
    """How the *Customer invoice* and *Supplier invoice* tabs differ."""

    id: str
    label: str
    prefix: str
    journal_label: str
    gl_label: str
    create_label: str
    journal_list: str
    vat_list: str


TABS = (
    ExportTab(
        "customer-invoice",
        "Customer invoice",
        "sales",
        "Sales journal",
        "Default revenue GL account",
        "Create missing customers in Exact",
        "sales-journals",
        "sales-vat-codes",
    ),
    ExportTab(
        "supplier-invoice",
        "Supplier invoice",
        "purchase",
        "Purchase journal",
        "Default cost GL account",
        "Create missing suppliers in Exact",
        "purchase-journals",
        "purchase-vat-codes",
    ),
)


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


# The screen


@router.get(PATH)
def accounting_settings(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    runner: RunnerDep,
    company: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    row = chosen_company(session, page, company)
    settings = queries.accounting_settings(session, row)
    message = NOTICES.get(notice or "", "")
    if notice == "connected":
        health = queries.connection_health(session, row, _now())
        message = (
            f"{row.name} is connected to Exact Online, administration "
            f"{health.division}."
        )
    return _screen(request, session, page, runner, row, _values(settings), message)


@router.post(PATH)
def save_accounting_settings(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    runner: RunnerDep,
    form: FormDep,
    company: str | None = None,
) -> Response:
    row = chosen_company(session, page, company)
    require_role(page, Role.ADMIN)
    values = _values_from(form, row)
    found = _lists(session, runner, row)
    problems = _check(values, found[0])
    settings = None if problems else _settings(values)
    if settings is not None:
        try:
            intake.save_settings(session, row, settings)
        except InvalidInput as exc:
            session.rollback()
            problems = [_sentence(problem) for problem in exc.problems]
    if settings is None or problems:
        return _screen(
            request, session, page, runner, row, values, "", problems, found, 422
        )
    session.commit()

    here = f"{PATH}?{urlencode({'company': row.ref})}"
    if _switched_on(settings) and not _terms_accepted(session, runner, row):
        target = f"{TERMS_PATH}?{urlencode({'company': row.ref, 'next': here})}"
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(f"{here}&notice=saved", status_code=303)


def _screen(
    request: Request,
    session: SessionDep,
    page: PageUser,
    runner: Runner,
    row: CompanyRow,
    values: Mapping[str, Any],
    message: str,
    problems: list[str] | None = None,
    found: tuple[AdministrationLists | None, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    health = queries.connection_health(session, row, _now())
    settings = queries.accounting_settings(session, row)
    lists, lists_problem = found or _lists(session, runner, row)
    return render(
        request,
        "settings.html",
        {
            "title": "Accounting settings",
            "company": row,
            "companies": company_choices(session, page),
            "health": health,
            "now": _now(),
            "can_edit": page.user.role is Role.ADMIN,
            "values": values,
            "lists": lists,
            "lists_problem": lists_problem,
            "names": _names(lists),
            "tabs": TABS,
            "scenarios": scenarios_for(row.country),
            "mapping_problems": queries.mapping_problems(session, row, settings),
            "notice": message,
            "problems": problems or [],
            "connect_url": f"{CONNECT_PATH}?{urlencode({'company': row.ref})}",
        },
        page_user=page,
        status_code=status,
    )


def _lists(
    session: SessionDep, runner: Runner, row: CompanyRow
) -> tuple[AdministrationLists | None, str]:
    """The administration's live lists, or why there are none."""
    health = queries.connection_health(session, row, _now())
    if not health.connected:
        return None, (
            f"{row.name} is not connected to Exact Online yet, so the journals, "
            "GL accounts and VAT codes cannot be listed; codes typed here are "
            "saved as they are. An admin connects it with Connect above."
        )
    if health.needs_sign_in:
        return None, (
            f"{row.name} needs to sign in to Exact Online again, so the lists "
            "of its administration cannot be read. An admin clicks Connect above."
        )
    try:
        return accounting_setup.administration_lists(runner.client(row.ref)), ""
    except NoExactClient as exc:
        return None, f"The administration's lists cannot be read: {exc}"
    except (ExactError, httpx2.HTTPError) as exc:
        return None, (
            f"Exact Online did not give the administration's lists ({exc}); "
            "reload the page to try again."
        )


def _names(lists: AdministrationLists | None) -> dict[str, dict[str, str]]:
    """Per list id, code -> name, to show the name of a chosen code."""
    if lists is None:
        return {}
    return {
        "sales-journals": _by_code(lists.sales_journals),
        "purchase-journals": _by_code(lists.purchase_journals),
        "gl-accounts": _by_code(lists.gl_accounts),
        "sales-vat-codes": _by_code(lists.sales_vat_codes),
        "purchase-vat-codes": _by_code(lists.purchase_vat_codes),
    }


def _by_code(choices: tuple[Choice, ...]) -> dict[str, str]:
    return {choice.code: choice.name for choice in choices}


def _terms_accepted(session: SessionDep, runner: Runner, row: CompanyRow) -> bool:
    try:
        current = runner.terms.version
    except TermsFileError:
        return False  # the terms page says what is wrong
    return queries.accepted_terms(session, row) == current


def _switched_on(settings: AccountingSettings) -> bool:
    return any(
        (
            settings.sales.enabled,
            settings.sales.daily.enabled,
            settings.purchases.enabled,
            settings.purchases.daily.enabled,
            settings.payments.enabled,
            settings.payments.daily.enabled,
        )
    )


# The form: field values, read and checked


def _values(settings: AccountingSettings) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for tab, export in zip(TABS, (settings.sales, settings.purchases), strict=True):
        p = tab.prefix
        values |= {
            f"{p}_enabled": export.enabled,
            f"{p}_daily": export.daily.enabled,
            f"{p}_daily_at": export.daily.at.strftime("%H:%M"),
            f"{p}_journal": export.journal or "",
            f"{p}_credit_note_journal": export.credit_note_journal or "",
            f"{p}_default_gl_account": export.default_gl_account or "",
            f"{p}_create_missing": export.create_missing_parties,
            f"{p}_attach_pdf": export.attach_pdf,
        }
        for scenario, code in export.vat_codes.items():
            values[f"{p}_vat_{scenario}"] = code
    values |= {
        "payments_enabled": settings.payments.enabled,
        "payments_daily": settings.payments.daily.enabled,
        "payments_daily_at": settings.payments.daily.at.strftime("%H:%M"),
    }
    return values


def _values_from(form: FormData, row: CompanyRow) -> dict[str, Any]:
    """The submitted form as the screen's values: boxes ticked or not, text
    trimmed; VAT codes only for the company's own scenarios."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    values: dict[str, Any] = {}
    for tab in TABS:
        p = tab.prefix
        for box in ("enabled", "daily", "create_missing", "attach_pdf"):
            values[f"{p}_{box}"] = form.get(f"{p}_{box}") is not None
        for field in ("daily_at", "journal", "credit_note_journal"):
            values[f"{p}_{field}"] = text(f"{p}_{field}")
        values[f"{p}_default_gl_account"] = text(f"{p}_default_gl_account")
        for scenario in scenarios_for(row.country):
            values[f"{p}_vat_{scenario.code}"] = text(f"{p}_vat_{scenario.code}")
    values["payments_enabled"] = form.get("payments_enabled") is not None
    values["payments_daily"] = form.get("payments_daily") is not None
    values["payments_daily_at"] = text("payments_daily_at")
    return values


def _check(values: Mapping[str, Any], lists: AdministrationLists | None) -> list[str]:
    """Every problem of the form, as sentences naming the tab and field."""
    problems: list[str] = []
    for tab in TABS:
        p = tab.prefix
        where = f"On the {tab.label} tab"
        if _time(values[f"{p}_daily_at"]) is None:
            problems.append(
                f"{where}, the time of Export automatically daily "
                f"({values[f'{p}_daily_at']!r}) is not a time of day: use HH:MM."
            )
        journals = (
            None
            if lists is None
            else lists.sales_journals
            if p == "sales"
            else lists.purchase_journals
        )
        vat_codes = (
            None
            if lists is None
            else lists.sales_vat_codes
            if p == "sales"
            else lists.purchase_vat_codes
        )
        for field, label, choices in (
            ("journal", tab.journal_label, journals),
            ("credit_note_journal", "Credit-note journal", journals),
            (
                "default_gl_account",
                tab.gl_label,
                None if lists is None else lists.gl_accounts,
            ),
        ):
            problem = _code_problem(values[f"{p}_{field}"], choices, CODE_MAX)
            if problem:
                problems.append(f"{where}, {label}: {problem}")
        for key, value in values.items():
            if key.startswith(f"{p}_vat_") and value:
                scenario = key.removeprefix(f"{p}_vat_")
                problem = _code_problem(value, vat_codes, 3)
                if problem:
                    problems.append(
                        f"{where}, VAT code for scenario {scenario}: {problem}"
                    )
    if _time(values["payments_daily_at"]) is None:
        problems.append(
            "On the Payments tab, the time of Export automatically daily "
            f"({values['payments_daily_at']!r}) is not a time of day: use HH:MM."
        )
    return problems


def _code_problem(
    code: str, choices: tuple[Choice, ...] | None, longest: int
) -> str | None:
    if not code:
        return None
    if len(code) > longest:
        return f"{code!r} is longer than {longest} characters."
    if choices is not None and code not in {choice.code for choice in choices}:
        return (
            f"{code!r} is not in the administration's list; pick one of the "
            "codes offered."
        )
    return None


def _settings(values: Mapping[str, Any]) -> AccountingSettings:
    def export(p: str) -> ExportSettings:
        vat_codes = {
            key.removeprefix(f"{p}_vat_"): value
            for key, value in values.items()
            if key.startswith(f"{p}_vat_") and value
        }
        at = _time(values[f"{p}_daily_at"])
        assert at is not None  # checked before
        return ExportSettings(
            enabled=values[f"{p}_enabled"],
            daily=DailyRun(values[f"{p}_daily"], at),
            journal=values[f"{p}_journal"] or None,
            credit_note_journal=values[f"{p}_credit_note_journal"] or None,
            default_gl_account=values[f"{p}_default_gl_account"] or None,
            vat_codes=MappingProxyType(vat_codes),
            create_missing_parties=values[f"{p}_create_missing"],
            attach_pdf=values[f"{p}_attach_pdf"],
        )

    payments_at = _time(values["payments_daily_at"])
    assert payments_at is not None
    return AccountingSettings(
        sales=export("sales"),
        purchases=export("purchase"),
        payments=PaymentImportSettings(
            enabled=values["payments_enabled"],
            daily=DailyRun(values["payments_daily"], payments_at),
        ),
    )


def _time(value: str) -> time | None:
    if len(value) != 5:  # HH:MM, as the time field sends it
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _sentence(problem: Problem) -> str:
    tab, _, rest = problem.field.partition(".")
    label = {"sales": "Customer invoice", "purchases": "Supplier invoice"}.get(tab)
    if label and rest.startswith("vat_codes."):
        scenario = rest.removeprefix("vat_codes.")
        return (
            f"On the {label} tab, VAT code for scenario {scenario}: {problem.message}."
        )
    return f"{problem.field}: {problem.message}."


# Connecting to Exact Online


@router.get(CONNECT_PATH)
def connect(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    runner: RunnerDep,
    company: str | None = None,
) -> Response:
    """To Exact's sign-in, with the state kept in a cookie for the callback."""
    row = chosen_company(session, page, company)
    require_role(page, Role.ADMIN)
    try:
        start = accounting_setup.start_connection(runner, row.ref)
    except (MissingSetting, wiring.NoExactHost, wiring.UnknownCompany) as exc:
        raise PageError(
            409,
            "Cannot connect",
            f"Exact Online is not set up on this server: {exc} Ask the operator "
            "to set it, then click Connect on Accounting settings again.",
        ) from None
    response = RedirectResponse(start.url, status_code=303)
    value = _serializer(request).dumps(
        {"state": start.state, "company": row.ref, "session": _session_hash(request)}
    )
    response.set_cookie(
        STATE_COOKIE,
        value,
        max_age=STATE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/exact",
    )
    return response


@router.get(CALLBACK_PATH)
def callback(
    request: Request,
    session: SessionDep,
    page: CurrentUser,
    runner: RunnerDep,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Exact's redirect: check the state, store the connection, back to
    Accounting settings."""
    require_role(page, Role.ADMIN)
    kept = _kept_state(request)
    if kept is None or not state or kept["state"] != state:
        return _not_connected(
            request,
            page,
            None,
            "This answer from Exact Online does not belong to a Connect started "
            "from this browser in the last ten minutes (it expired, or was "
            "started elsewhere), so it was refused. Nothing was stored. Open "
            "Accounting settings and click Connect again.",
        )
    row = chosen_company(session, page, str(kept["company"]))
    if error:
        return _not_connected(
            request,
            page,
            row,
            f"Exact Online did not give access ({error}). Nothing was stored. "
            "Click Connect again and allow access on Exact's consent screen.",
        )
    try:
        accounting_setup.finish_connection(
            runner, row.ref, str(request.url), str(kept["state"])
        )
    except DivisionNotChosen as exc:
        return _not_connected(
            request, page, row, accounting_setup.division_sentence(exc)
        )
    except StateMismatch:
        return _not_connected(
            request,
            page,
            row,
            "The answer from Exact Online does not belong to this Connect. "
            "Nothing was stored. Click Connect again.",
        )
    except ExactError as exc:
        return _not_connected(
            request,
            page,
            row,
            f"Exact Online did not connect the company: {exc}. Nothing was "
            "stored. Click Connect again.",
        )
    except httpx2.HTTPError as exc:
        return _not_connected(
            request,
            page,
            row,
            f"Exact Online could not be reached ({type(exc).__name__}). Nothing "
            "was stored. Click Connect again in a moment.",
            status=502,
        )
    except (
        MissingSetting,
        wiring.NoExactHost,
        wiring.UnknownCompany,
        SecretKeyError,
        UndecryptableSecret,
    ) as exc:
        return _not_connected(
            request,
            page,
            row,
            f"The connection cannot be stored: {exc} Nothing was stored; ask "
            "the operator.",
            status=500,
        )
    target = f"{PATH}?{urlencode({'company': row.ref, 'notice': 'connected'})}"
    response = RedirectResponse(target, status_code=303)
    _forget_state(request, response)
    return response


def _not_connected(
    request: Request,
    page: PageUser,
    row: CompanyRow | None,
    sentence: str,
    *,
    status: int = 400,
) -> HTMLResponse:
    back = PATH if row is None else f"{PATH}?{urlencode({'company': row.ref})}"
    response = render(
        request,
        "settings_not_connected.html",
        {"title": "Not connected", "message": sentence, "back": back},
        page_user=page,
        status_code=status,
    )
    _forget_state(request, response)
    return response


def _serializer(request: Request) -> URLSafeTimedSerializer:
    # The session key, with a salt of its own: a state cookie is no session.
    keys = signers(request.app).session.secret_keys
    return URLSafeTimedSerializer(keys, salt=STATE_SALT)


def _session_hash(request: Request) -> str:
    token = session_token(request) or ""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _kept_state(request: Request) -> dict[str, Any] | None:
    """The state cookie's content when it is ours, recent and this
    session's."""
    value = request.cookies.get(STATE_COOKIE)
    if not value:
        return None
    try:
        kept = _serializer(request).loads(value, max_age=STATE_SECONDS)
    except (BadSignature, UnicodeError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("session") != _session_hash(request):
        return None
    if not isinstance(kept.get("state"), str) or not isinstance(
        kept.get("company"), str
    ):
        return None
    return kept


def _forget_state(request: Request, response: Response) -> None:
    response.delete_cookie(
        STATE_COOKIE,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/exact",
    )


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["CALLBACK_PATH", "PATH", "router"]
