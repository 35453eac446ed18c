"""A small web view of the sandbox under /_sandbox/ui/: its divisions, each
with its journals and booked entries, its open receivables and payables,
a form to register a payment on an open item and a button to net an invoice
with an open credit note of the same account.

Server-rendered HTML with its own CSS: no scripts, no external assets.
Everything shown is escaped. The routes stay out of the OpenAPI document,
which describes the admin API only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, DecimalException
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ledgerbridge.sandbox import ledger
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.sandbox.errors import ENTRY_TYPE_NAMES, ExactError
from ledgerbridge.sandbox.ledger import PURCHASE, SALES, Context, Side
from ledgerbridge.sandbox.state import Division, Record

PREFIX = "/_sandbox/ui"
MAX_DIGITS = 12  # below 1e12, as the admin API's payments
CENT = Decimal("0.01")

_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
}

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0;
       color: #1d2327; }
header { background: #e2001a; color: #fff; padding: .7rem 1.5rem; }
header a { color: #fff; text-decoration: none; font-weight: bold; }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; }
section { background: #fff; border-radius: 6px; padding: 1rem 1.2rem;
          margin-bottom: 1.2rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e3e6e8;
         vertical-align: middle; }
th { background: #f0f2f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #66707a; }
.overdue { color: #b00020; font-weight: 600; }
.paid { color: #1b7f3b; }
.notice, .error { padding: .6rem .9rem; border-radius: 4px; margin-bottom: 1rem; }
.notice { background: #e6f4ea; border: 1px solid #9fd3ad; }
.error { background: #fdecee; border: 1px solid #f2a7b1; color: #8a0016;
         font-weight: 600; }
form.pay { display: flex; gap: .3rem; margin: 0; }
form.pay input[name=amount] { width: 7rem; }
input, button { font: inherit; padding: .15rem .35rem; }
"""


def ui_router(sandbox: Sandbox) -> APIRouter:
    """GET /_sandbox/ui/, GET /_sandbox/ui/{code}, POST /_sandbox/ui/{code}/pay,
    POST /_sandbox/ui/{code}/match."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        with sandbox.lock:
            body = _index_body(sandbox)
        return _page("Exact Online sandbox", body, 200)

    @router.get("/{code}", response_class=HTMLResponse, include_in_schema=False)
    def division_page(
        code: str,
        paid: str | None = None,
        amount: str | None = None,
        netted: str | None = None,
    ) -> HTMLResponse:
        with sandbox.lock:
            division = _division(sandbox, code)
            if division is None:
                return _not_found(code)
            if netted:
                notice = _netted(division, netted, amount)
            else:
                notice = _confirmation(division, paid, amount)
            body = _division_body(sandbox, division, notice=notice, error=None)
        return _page(f"Division {division.code}", body, 200)

    @router.post("/{code}/pay", include_in_schema=False)
    async def pay(code: str, request: Request) -> Response:
        if not _same_origin(request):
            return _page("Refused", _problem("Payments come from this page only."), 403)
        form = await _read_form(request)
        return await run_in_threadpool(_pay, sandbox, code, form)

    @router.post("/{code}/match", include_in_schema=False)
    async def match(code: str, request: Request) -> Response:
        if not _same_origin(request):
            return _page("Refused", _problem("Matches come from this page only."), 403)
        form = await _read_form(request)
        return await run_in_threadpool(_match, sandbox, code, form)

    return router


# Registering a payment


class BadInput(ValueError):
    """What the user typed cannot be used; the message says why."""


@dataclass(frozen=True)
class Payment:
    entry_id: str
    amount: Decimal
    paid_on: datetime


def _pay(sandbox: Sandbox, code: str, form: dict[str, str] | None) -> Response:
    with sandbox.lock:
        division = _division(sandbox, code)
        if division is None:
            return _not_found(code)
        try:
            payment = _payment(form)
            ctx = Context(division, "en-GB", division.local_now(sandbox.clock))
            try:
                ledger.register_payment(
                    ctx, payment.entry_id, payment.amount, payment.paid_on
                )
            except ExactError as exc:
                raise BadInput(
                    f"No booked entry {_shorten(payment.entry_id)} in this division."
                ) from exc
            except ledger.PaymentRefused as exc:
                raise BadInput(str(exc)) from exc
        except BadInput as exc:
            body = _division_body(sandbox, division, notice=None, error=str(exc))
            return _page(f"Division {division.code}", body, 400)
        sandbox.save(divisions=[division.code])
    query = urlencode({"paid": payment.entry_id, "amount": str(payment.amount)})
    return RedirectResponse(f"{PREFIX}/{division.code}?{query}", status_code=303)


def _match(sandbox: Sandbox, code: str, form: dict[str, str] | None) -> Response:
    """Net the two entries the button names, dated the division's today."""
    with sandbox.lock:
        division = _division(sandbox, code)
        if division is None:
            return _not_found(code)
        try:
            if form is None:
                raise BadInput("The form could not be read; send each field once.")
            ids = (form.get("entry_id", ""), form.get("credit_id", ""))
            first, second = (entry_id.strip().lower() for entry_id in ids)
            if not first or not second:
                raise BadInput("Which entries? The form needs entry_id and credit_id.")
            ctx = Context(division, "en-GB", division.local_now(sandbox.clock))
            today = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)
            try:
                amount, _, _ = ledger.match_entries(ctx, (first, second), today)
            except ExactError as exc:
                raise BadInput("No such booked entries in this division.") from exc
            except ledger.PaymentRefused as exc:
                raise BadInput(str(exc)) from exc
        except BadInput as exc:
            body = _division_body(sandbox, division, notice=None, error=str(exc))
            return _page(f"Division {division.code}", body, 400)
        sandbox.save(divisions=[division.code])
    query = urlencode({"netted": f"{first} {second}", "amount": str(amount)})
    return RedirectResponse(f"{PREFIX}/{division.code}?{query}", status_code=303)


def _payment(form: dict[str, str] | None) -> Payment:
    if form is None:
        raise BadInput("The form could not be read; send each field once.")
    entry_id = form.get("entry_id", "").strip().lower()
    if not entry_id:
        raise BadInput("Which entry? The form has no entry_id.")
    return Payment(entry_id, _amount(form.get("amount", "")), _date(form.get("date")))


def _amount(text: str) -> Decimal:
    """`121.00`, `121`, `-5.5` or, as typed in Belgium and the Netherlands,
    `121,00`; at most two decimals, not zero."""
    cleaned = text.strip()
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except DecimalException:  # InvalidOperation, Overflow
        amount = None
    if amount is None or not amount.is_finite():
        raise BadInput(f"The amount {_shorten(text)!r} is not a number.")
    if amount.is_zero():
        raise BadInput("The amount must not be zero.")
    # adjusted() needs no arithmetic, which could overflow (1e999999999).
    if amount.adjusted() >= MAX_DIGITS or amount != amount.quantize(CENT):
        raise BadInput(
            f"The amount {_shorten(text)!r} needs at most two decimals and "
            f"at most {MAX_DIGITS} digits before them."
        )
    return amount.quantize(CENT)


def _date(text: str | None) -> datetime:
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise BadInput(
            f"The date {_shorten(text or '')!r} is not a date like 2026-12-31."
        ) from None
    return datetime.combine(day, time())  # naive: the division's local time


def _same_origin(request: Request) -> bool:
    """False for a form posted from another site: browsers name the page's
    origin in `Origin`; clients without one (scripts, tests) pass."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    base = request.base_url
    return origin.rstrip("/") == f"{base.scheme}://{base.netloc}"


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _read_form(request: Request) -> dict[str, str] | None:
    """The form's fields; None for a malformed form, a file or a repeated
    field (each would be an error page, never a 500 or a 422)."""
    fields: dict[str, str] = {}
    try:
        async with request.form() as form:
            for key, value in form.multi_items():
                if not isinstance(value, str) or key in fields:
                    return None
                fields[key] = value
    except HTTPException:  # Starlette's answer to an unparsable body
        return None
    return fields


def _confirmation(
    division: Division, entry_id: str | None, amount: str | None
) -> str | None:
    """The line shown after a payment, from the redirect's query."""
    if not entry_id:
        return None
    flow = ledger.cash_flow(division, entry_id.lower())
    if flow is None:
        return None
    paid = f"{money} {division.currency} " if (money := _safe_money(amount)) else ""
    message = f"Registered a payment of {paid}on {flow.name}"
    if flow.is_fully_paid:
        message += "; it is paid in full"
        credit = sum((c["AmountDC"] for c in flow.credits), Decimal(0))
        if credit:
            message += f", {_money(abs(credit))} is left as a credit on the account"
        return message + "."
    return message + f"; {_money(flow.open_amount)} is still open."


def _netted(division: Division, entry_ids: str, amount: str | None) -> str | None:
    """The line shown after netting, from the redirect's query."""
    names = []
    for entry_id in entry_ids.split()[:2]:
        flow = ledger.cash_flow(division, entry_id.lower())
        if flow is None:
            return None
        names.append(flow.name)
    if len(names) != 2:
        return None
    netted = f"{money} {division.currency} " if (money := _safe_money(amount)) else ""
    return f"Netted {netted}between {names[0]} and {names[1]}."


def _safe_money(amount: str | None) -> str:
    """An amount from a query string, shown only when it is a sane number."""
    try:
        value = Decimal(amount or "")
    except DecimalException:  # InvalidOperation, Overflow
        return ""
    if value.is_finite() and value.adjusted() < MAX_DIGITS:
        return _money(value)
    return ""


# Reading the books


def _division(sandbox: Sandbox, code: str) -> Division | None:
    if not code.isascii() or not code.isdigit() or len(code) > 10:
        return None
    return sandbox.divisions.get(int(code))


def _payment_status(division: Division, entry: Record) -> str:
    flow = ledger.cash_flow(division, entry["EntryID"])
    if flow is None:
        return "Booked"
    if flow.is_fully_paid:
        return "Paid"
    if flow.paid_amount:
        return f"Partly paid ({_money(flow.open_amount)} open)"
    return "Open"


# Pages


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _money(value: Any) -> str:
    if isinstance(value, (Decimal, int, float)):
        return f"{Decimal(str(value)):,.2f}"
    return ""


def _day(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else ""


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · Exact Online sandbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<header><a href="{PREFIX}/">Exact Online sandbox</a></header>'
        f"<main>{body}</main></body></html>\n"
    )
    # A lone surrogate (JSON allows "\ud800" in a YourRef) has no UTF-8 form.
    content = document.encode("utf-8", errors="replace")
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


def _problem(message: str) -> str:
    return (
        f'<section><p class="error" role="alert">{_e(message)}</p>'
        f'<p><a href="{PREFIX}/">All divisions</a></p></section>'
    )


def _not_found(code: str) -> HTMLResponse:
    return _page(
        "No such division", _problem(f"There is no division {_shorten(code)}."), 404
    )


def _index_body(sandbox: Sandbox) -> str:
    divisions = sorted(sandbox.divisions.values(), key=lambda d: d.code)
    if not divisions:
        return (
            "<section><h1>Divisions</h1><p>There are no divisions yet. Create "
            "one with <code>POST /_sandbox/divisions</code> or start the "
            "sandbox with <code>--division 1001:BE:Demo</code>.</p></section>"
        )
    rows = "".join(
        "<tr>"
        f'<td><a href="{PREFIX}/{d.code}">{d.code}</a></td>'
        f'<td><a href="{PREFIX}/{d.code}">{_e(d.name)}</a></td>'
        f"<td>{_e(d.template)}</td><td>{_e(d.currency)}</td>"
        f"<td>{_e(d.time_zone)}</td>"
        f'<td class="num">{len(d.records(SALES.entries))}</td>'
        f'<td class="num">{len(d.records(PURCHASE.entries))}</td>'
        f'<td class="num">{len(d.records(SALES.outstanding))}</td>'
        f'<td class="num">{len(d.records(PURCHASE.outstanding))}</td>'
        "</tr>"
        for d in divisions
    )
    return (
        "<section><h1>Divisions</h1><table><thead><tr>"
        "<th>Code</th><th>Name</th><th>Template</th><th>Currency</th>"
        '<th>Time zone</th><th class="num">Sales entries</th>'
        '<th class="num">Purchase entries</th><th class="num">Open receivables</th>'
        '<th class="num">Open payables</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _division_body(
    sandbox: Sandbox, division: Division, *, notice: str | None, error: str | None
) -> str:
    now = division.local_now(sandbox.clock)
    parts = [
        "<section>"
        f"<h1>{division.code} · {_e(division.name)}</h1>"
        f'<p class="muted">Template {_e(division.template)} · currency '
        f"{_e(division.currency)} · local time {now:%Y-%m-%d %H:%M} "
        f"({_e(division.time_zone)}) · "
        f'<a href="{PREFIX}/">all divisions</a></p>'
    ]
    if error:
        parts.append(f'<p class="error" role="alert">{_e(error)}</p>')
    if notice:
        parts.append(f'<p class="notice" role="status">{_e(notice)}</p>')
    parts.append("</section>")
    parts.append(_journals(division))
    for side, title in ((SALES, "Open receivables"), (PURCHASE, "Open payables")):
        parts.append(_outstanding(division, side, title, now))
    return "".join(parts)


def _journals(division: Division) -> str:
    journals = sorted(division.records("journals").values(), key=lambda j: j["Code"])
    sections = []
    for journal in journals:
        side = {SALES.journal_type: SALES, PURCHASE.journal_type: PURCHASE}.get(
            journal["Type"]
        )
        if side is None:
            continue
        heading = f"<h3>{_e(journal['Code'])} · {_e(journal['Description'])}</h3>"
        entries = sorted(
            division.find(side.entries, Journal=journal["Code"]),
            key=lambda e: e["EntryNumber"],
        )
        if not entries:
            sections.append(heading + '<p class="muted">No entries booked.</p>')
            continue
        rows = "".join(_entry_row(division, side, entry) for entry in entries)
        sections.append(
            heading + "<table><thead><tr>"
            "<th>Entry</th><th>Date</th><th>YourRef</th>"
            f"<th>{side.party}</th>"
            f'<th class="num">Amount ({_e(division.currency)})</th>'
            f'<th class="num">VAT</th><th>Type</th><th>Status</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    others = [j for j in journals if j["Type"] not in (20, 22)]
    if others:
        listed = ", ".join(f"{_e(j['Code'])} {_e(j['Description'])}" for j in others)
        sections.append(f'<p class="muted">Other journals: {listed}.</p>')
    return "<section><h2>Journals</h2>" + "".join(sections) + "</section>"


def _entry_row(division: Division, side: Side, entry: Record) -> str:
    type_name = ENTRY_TYPE_NAMES.get(("en", entry["Type"]), entry["TypeDescription"])
    status = _payment_status(division, entry)
    status_class = ' class="paid"' if status == "Paid" else ""
    return (
        "<tr>"
        f"<td>{_e(entry['EntryNumber'])}</td>"
        f"<td>{_day(entry['EntryDate'])}</td>"
        f"<td>{_e(entry['YourRef'])}</td>"
        f"<td>{_e(entry[side.party_name])}</td>"
        f'<td class="num">{_money(entry["AmountDC"])}</td>'
        f'<td class="num">{_money(entry["VATAmountDC"])}</td>'
        f"<td>{_e(type_name)}</td>"
        f"<td{status_class}>{_e(status)}</td>"
        "</tr>"
    )


def _open_credits(
    division: Division, side: Side, items: list[Record]
) -> dict[str, dict[str, str]]:
    """Per account, the entries with an open credit (a credit note or an
    over-payment's credit) and a label naming each, in due-date order."""
    credits: dict[str, dict[str, str]] = {}
    for item in items:
        term = division.records(side.terms).get(item["_term"])
        if term is None or item["Amount"] >= 0:
            continue
        if term["EntryNumber"] is not None:
            label = f"Net with credit note {term['EntryNumber']}"
        else:
            label = f"Net with payment of {_day(term['InvoiceDate'])}"
        entries = credits.setdefault(item["AccountId"], {})
        entries.setdefault(term["TransactionEntryID"], label)
    return credits


def _net_form(division: Division, entry_id: str, credit_id: str, label: str) -> str:
    return (
        f'<form class="pay" method="post" action="{PREFIX}/{division.code}/match">'
        f'<input type="hidden" name="entry_id" value="{_e(entry_id)}">'
        f'<input type="hidden" name="credit_id" value="{_e(credit_id)}">'
        f"<button>{_e(label)}</button></form>"
    )


def _outstanding(division: Division, side: Side, title: str, now: datetime) -> str:
    items = sorted(
        division.records(side.outstanding).values(),
        key=lambda item: (
            item.get("DueDate") is None,
            item.get("DueDate") or now,
            item["HID"],
        ),
    )
    if not items:
        return f'<section><h2>{title}</h2><p class="muted">Nothing open.</p></section>'
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    credits = _open_credits(division, side, items)
    rows = []
    for item in items:
        term = division.records(side.terms).get(item["_term"], {})
        entry_id = term.get("TransactionEntryID")
        due = item.get("DueDate")
        due_class = (
            ' class="overdue"' if isinstance(due, datetime) and due < today else ""
        )
        open_amount = f"{item['Amount']:.2f}"
        form = (
            f'<form class="pay" method="post" action="{PREFIX}/{division.code}/pay">'
            f'<input type="hidden" name="entry_id" value="{_e(entry_id)}">'
            '<input type="text" inputmode="decimal" name="amount" required '
            f'aria-label="Amount" value="{_e(open_amount)}">'
            '<input type="date" name="date" required aria-label="Payment date" '
            f'value="{now:%Y-%m-%d}">'
            "<button>Register payment</button></form>"
            if entry_id
            else '<span class="muted">no term</span>'
        )
        if entry_id and item["Amount"] > 0:
            form += "".join(
                _net_form(division, entry_id, credit_id, label)
                for credit_id, label in credits.get(item["AccountId"], {}).items()
            )
        code = (item.get("AccountCode") or "").strip()
        account = f"{code} {item.get('AccountName') or ''}"
        rows.append(
            "<tr>"
            f"<td>{_e(item['HID'])}</td>"
            f"<td>{_e(account.strip())}</td>"
            f"<td>{_e(item.get('EntryNumber'))}</td>"
            f"<td>{_e(item.get('YourRef'))}</td>"
            f"<td{due_class}>{_day(due)}</td>"
            f'<td class="num">{_money(item["Amount"])}</td>'
            f"<td>{form}</td>"
            "</tr>"
        )
    return (
        f"<section><h2>{title}</h2><table><thead><tr>"
        "<th>HID</th><th>Account</th><th>Entry</th><th>YourRef</th><th>Due</th>"
        f'<th class="num">Open ({_e(division.currency)})</th><th>Payment</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
