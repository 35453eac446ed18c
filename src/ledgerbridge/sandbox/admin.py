"""The sandbox-only admin API under /_sandbox/ (never under /api/): set up
apps and divisions, consent without a browser, look into the books, pay an
invoice, close a period, set limits, inject faults, move the clock.

JSON in and out, described in the sandbox's OpenAPI document.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ledgerbridge.sandbox import ledger
from ledgerbridge.sandbox.core import FAULT_KINDS, Fault, Sandbox
from ledgerbridge.sandbox.errors import ExactError
from ledgerbridge.sandbox.ledger import PURCHASE, SALES, Context
from ledgerbridge.sandbox.oauth import ConsentError, TokenError


def _whole(value: Any) -> Any:
    """JSON's 5.0 is the integer 5 (JSON Schema agrees); strict int refuses
    it, so it becomes 5 first."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# After the bounds, so they stay in the JSON schema.
WHOLE = BeforeValidator(_whole)
DivisionCode = Annotated[int, Field(ge=1, le=2_147_483_647), WHOLE]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Uri = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^https?://\S+$")]


class Input(BaseModel):
    # Strict, so JSON `false` is no 0 and `0` no false: the documented types
    # hold. Fields whose JSON form is text (dates, decimals) opt out.
    model_config = ConfigDict(extra="forbid", strict=True)


class AppIn(Input):
    redirect_uri: Uri


class AppOut(BaseModel):
    client_id: str
    client_secret: str


class DivisionIn(Input):
    code: DivisionCode
    template: Literal["BE", "NL"]
    name: Name


class DivisionOut(BaseModel):
    code: int
    name: str
    template: str


class UserIn(Input):
    username: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
    password: Annotated[str, Field(min_length=1, max_length=100)]
    language: Annotated[str, Field(pattern=r"^[a-z]{2}-[A-Z]{2}$")] = "nl-NL"


class UserOut(BaseModel):
    username: str
    language: str


class CodeIn(Input):
    client_id: Annotated[str, Field(min_length=1, max_length=100)]
    redirect_uri: Uri
    divisions: Annotated[list[DivisionCode], Field(min_length=1, max_length=100)]
    username: Annotated[str, Field(min_length=1, max_length=100)] = "sandbox"


class CodeOut(BaseModel):
    code: str


EntryId = Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$")]


class PaymentIn(Input):
    entry_id: EntryId
    amount: Annotated[
        Decimal,
        Field(ge=Decimal("-1e12"), le=Decimal("1e12"), decimal_places=2, strict=False),
    ]
    date: Annotated[date, Field(strict=False)]


class TermOut(BaseModel):
    """One cash-flow term: a record of cashflow/Receivables or Payments."""

    id: str
    entry_id: str = Field(description="The term's own EntryID.")
    transaction_entry_id: str
    amount_dc: float
    status: int = Field(description="20 open, 50 matched.")
    is_fully_paid: bool
    end_date: date | None


class PaymentOut(BaseModel):
    entry_id: str
    status: int = Field(description="50 when nothing is open, else 20.")
    is_fully_paid: bool
    open_amount: float
    paid_amount: float
    terms: list[TermOut] = Field(description="The entry's terms in booking order.")
    credits: list[TermOut] = Field(
        description="Open credits on the account that over-payments left."
    )


# Module-level: inside the class the field `date` would hide the type.
MatchDay = Annotated[
    date | None, Field(strict=False, description="The sandbox's today if absent.")
]


class MatchIn(Input):
    entry_ids: Annotated[
        list[EntryId],
        Field(
            min_length=2,
            max_length=2,
            description="An invoice and a credit note of one account and side.",
        ),
    ]
    date: MatchDay = None


class MatchOut(BaseModel):
    amount: float = Field(description="What was matched on each entry.")
    entries: list[PaymentOut]


class PeriodIn(Input):
    year: Annotated[int, Field(ge=1900, le=2999), WHOLE]
    period: Annotated[int, Field(ge=1, le=12), WHOLE]


class LimitsIn(Input):
    minutely: Annotated[int, Field(ge=0, le=1_000_000), WHOLE]
    daily: Annotated[int, Field(ge=0, le=100_000_000), WHOLE]


class LimitsOut(BaseModel):
    minutely: int
    daily: int


class SettingsIn(Input):
    error_budget: bool = Field(
        description="Block an endpoint after ten 400/401/403/404 in an hour."
    )


class FaultIn(Input):
    endpoint: Annotated[
        str, Field(min_length=1, max_length=200, examples=["salesentry/SalesEntries"])
    ]
    method: Literal["GET", "POST", "PUT", "DELETE"]
    kind: Literal["error_500", "error_503", "timeout", "drop_after_commit", "slow"]
    count: Annotated[int, Field(ge=1, le=1000), WHOLE] = 1
    delay_seconds: Annotated[float, Field(ge=0, le=300)] | None = Field(
        default=None, description="For timeout (default 30) and slow (default 2)."
    )


class ClockIn(Input):
    advance_seconds: Annotated[float, Field(ge=0, le=366 * 86400)]


class ClockOut(BaseModel):
    now: datetime


class StatsOut(BaseModel):
    divisions: dict[str, dict[str, Any]]
    token_endpoint: dict[str, int] = Field(default_factory=dict)


class Done(BaseModel):
    ok: bool = True


class Problem(BaseModel):
    """A 4xx answer of the admin API (FastAPI's `HTTPException` body)."""

    detail: str


def admin_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(
        prefix="/_sandbox",
        tags=["sandbox admin"],
        responses={
            400: {
                "description": "The body is not JSON, or a value is refused "
                "(e.g. a malformed redirect URI).",
                "model": Problem,
            }
        },
    )
    not_found: dict[int | str, dict[str, Any]] = {
        404: {"description": "No such division or entry.", "model": Problem}
    }
    exists: dict[int | str, dict[str, Any]] = {
        409: {"description": "Exists.", "model": Problem}
    }

    def division_of(code: int) -> Any:
        division = sandbox.divisions.get(code)
        if division is None:
            raise HTTPException(404, f"division {code} does not exist")
        return division

    @router.post("/apps", status_code=201)
    def create_app(body: AppIn) -> AppOut:
        """Register an app (client) with its redirect URI."""
        with sandbox.lock:
            try:
                app = sandbox.oauth.register_app(body.redirect_uri)
            except ValueError as exc:  # e.g. "http://[" or a #fragment
                raise HTTPException(400, str(exc)) from exc
            sandbox.save(oauth=True)
        return AppOut(client_id=app.client_id, client_secret=app.client_secret)

    @router.post("/divisions", status_code=201, responses=exists)
    def create_division(body: DivisionIn) -> DivisionOut:
        """A division with the template's chart, VAT codes, journals, payment
        conditions and open periods for this year and the previous one."""
        with sandbox.lock:
            if body.code in sandbox.divisions:
                raise HTTPException(409, f"division {body.code} exists already")
            division = sandbox.add_division(body.code, body.template, body.name)
        return DivisionOut(
            code=division.code, name=division.name, template=division.template
        )

    @router.get("/divisions")
    def list_divisions() -> list[DivisionOut]:
        with sandbox.lock:
            return [
                DivisionOut(code=d.code, name=d.name, template=d.template)
                for d in sandbox.divisions.values()
            ]

    @router.post("/users", status_code=201, responses=exists)
    def create_user(body: UserIn) -> UserOut:
        """A user to sign in as; Exact writes messages in the user's language."""
        with sandbox.lock:
            if body.username in sandbox.oauth.users:
                raise HTTPException(409, f"user {body.username} exists already")
            user = sandbox.oauth.add_user(
                body.username, body.password, language=body.language
            )
            sandbox.save(oauth=True)
        return UserOut(username=user.username, language=user.language)

    @router.post(
        "/oauth/code",
        responses={
            400: {
                "description": "Unknown app or division, or a body that is not JSON.",
                "model": Problem,
            }
        },
    )
    def consent(body: CodeIn) -> CodeOut:
        """The consent step without a browser: a code for `/api/oauth2/token`."""
        with sandbox.lock:
            unknown = [c for c in body.divisions if c not in sandbox.divisions]
            if unknown:
                raise HTTPException(400, f"unknown divisions: {unknown}")
            try:
                code = sandbox.oauth.issue_code(
                    body.client_id, body.redirect_uri, body.username, body.divisions
                )
            except (ConsentError, TokenError, ValueError, KeyError) as exc:
                raise HTTPException(
                    400, str(exc) or "unknown app or redirect URI"
                ) from exc
            sandbox.save(oauth=True)
        return CodeOut(code=code)

    @router.get("/divisions/{code}/entries", responses=not_found)
    def entries(
        code: DivisionCode,
        kind: Annotated[Literal["sales", "purchase"], Query()] = "sales",
    ) -> list[dict[str, Any]]:
        """Every booked entry with Exact's field names and its lines."""
        side = SALES if kind == "sales" else PURCHASE
        with sandbox.lock:
            division = division_of(code)
            result = []
            for entry in division.records(side.entries).values():
                lines = sorted(
                    division.find(side.line_records, EntryID=entry["EntryID"]),
                    key=lambda line: line["LineNumber"],
                )
                result.append(
                    {**_plain(entry), side.lines: [_plain(line) for line in lines]}
                )
        return sorted(result, key=lambda e: (e["Journal"], e["EntryNumber"]))

    @router.post("/divisions/{code}/payments", responses=not_found)
    def pay(code: DivisionCode, body: PaymentIn) -> PaymentOut:
        """Pay a booked entry, or with a negative amount reopen what was paid.

        A partial payment splits the open term: the paid part becomes a new,
        matched term; an over-payment leaves an open credit on the account."""
        with sandbox.lock:
            division = division_of(code)
            ctx = Context(division, "en-GB", division.local_now(sandbox.clock))
            # Exact's dates are naive local wall-clock values (API.md §6.5).
            paid_on = datetime.combine(body.date, datetime.min.time())
            try:
                flow = ledger.register_payment(
                    ctx, body.entry_id.lower(), body.amount, paid_on
                )
            except ExactError as exc:
                raise HTTPException(404, exc.message) from exc
            except ledger.PaymentRefused as exc:
                raise HTTPException(400, str(exc)) from exc
            sandbox.save(divisions=[code])
            return _payment_out(flow)

    @router.post("/divisions/{code}/match", responses=not_found)
    def match(code: DivisionCode, body: MatchIn) -> MatchOut:
        """Net an invoice against a credit note of the same account: both
        settle by the smaller open amount, with no bank entry."""
        with sandbox.lock:
            division = division_of(code)
            ctx = Context(division, "en-GB", division.local_now(sandbox.clock))
            day = body.date or ctx.now.date()
            matched_on = datetime.combine(day, datetime.min.time())
            first, second = (entry_id.lower() for entry_id in body.entry_ids)
            try:
                amount, *flows = ledger.match_entries(ctx, (first, second), matched_on)
            except ExactError as exc:
                raise HTTPException(404, exc.message) from exc
            except ledger.PaymentRefused as exc:
                raise HTTPException(400, str(exc)) from exc
            sandbox.save(divisions=[code])
            return MatchOut(
                amount=float(amount), entries=[_payment_out(f) for f in flows]
            )

    @router.post("/divisions/{code}/periods/close", responses=not_found)
    def close_period(code: DivisionCode, body: PeriodIn) -> Done:
        with sandbox.lock:
            division_of(code).closed_periods.add((body.year, body.period))
            sandbox.save(divisions=[code])
        return Done()

    @router.put("/divisions/{code}/limits", responses=not_found)
    def set_limits(code: DivisionCode, body: LimitsIn) -> LimitsOut:
        with sandbox.lock:
            division = division_of(code)
            division.minutely_limit, division.daily_limit = body.minutely, body.daily
            sandbox.save(divisions=[code])
        return LimitsOut(minutely=body.minutely, daily=body.daily)

    @router.put("/settings")
    def settings(body: SettingsIn) -> SettingsIn:
        with sandbox.lock:
            sandbox.limits.error_budget = body.error_budget
            sandbox.save(meta=True)
        return body

    @router.get("/stats")
    def stats() -> StatsOut:
        """Calls per division, and the token endpoint's answers by outcome
        (`refresh_token:unauthorized_client` counts "Old refresh token used")."""
        with sandbox.lock:
            return StatsOut(
                divisions={str(code): s.as_dict() for code, s in sandbox.stats.items()},
                token_endpoint=dict(sandbox.oauth.token_outcomes),
            )

    @router.post("/stats/reset")
    def reset_stats() -> Done:
        with sandbox.lock:
            sandbox.stats.clear()
            sandbox.oauth.token_outcomes.clear()
        return Done()

    @router.post("/faults", status_code=201)
    def add_fault(body: FaultIn) -> Done:
        """The next `count` matching calls fail as `kind` says."""
        default_delay = {"timeout": 30.0, "slow": 2.0}.get(body.kind, 0.0)
        sandbox.add_fault(
            Fault(
                body.endpoint.strip("/"),
                body.method,
                body.kind,
                body.count,
                default_delay if body.delay_seconds is None else body.delay_seconds,
            )
        )
        return Done()

    @router.post("/tokens/expire")
    def expire_tokens() -> Done:
        with sandbox.lock:
            sandbox.oauth.expire_access_tokens()
            sandbox.save(oauth=True)
        return Done()

    @router.get("/clock")
    def read_clock() -> ClockOut:
        """The sandbox's time, for clients that follow it."""
        return ClockOut(now=sandbox.clock.now())

    @router.post("/clock")
    def advance_clock(body: ClockIn) -> ClockOut:
        with sandbox.lock:
            now = sandbox.clock.advance(body.advance_seconds)
            sandbox.save(meta=True)
        return ClockOut(now=now)

    @router.post("/reset")
    def reset() -> Done:
        sandbox.reset()
        return Done()

    assert set(FAULT_KINDS) == {
        "error_500",
        "error_503",
        "timeout",
        "drop_after_commit",
        "slow",
    }
    return router


def _payment_out(flow: ledger.CashFlow) -> PaymentOut:
    return PaymentOut(
        entry_id=flow.entry_id,
        status=20 if flow.open_amount else 50,
        is_fully_paid=flow.is_fully_paid,
        open_amount=float(flow.open_amount),
        paid_amount=float(flow.paid_amount),
        terms=[_term_out(term) for term in flow.terms],
        credits=[_term_out(term) for term in flow.credits],
    )


def _term_out(term: dict[str, Any]) -> TermOut:
    end = term["EndDate"]
    return TermOut(
        id=term["ID"],
        entry_id=term["EntryID"],
        transaction_entry_id=term["TransactionEntryID"],
        amount_dc=float(term["AmountDC"]),
        status=term["Status"],
        is_fully_paid=term["IsFullyPaid"],
        end_date=end.date() if end is not None else None,
    )


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        result[key] = value
    return result
