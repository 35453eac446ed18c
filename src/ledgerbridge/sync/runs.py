"""Starting a run: the guards every flow passes, manual or automatic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledgerbridge.sync.errors import BadPeriod, FlowDisabled, TermsNotAccepted
from ledgerbridge.sync.model import Flow, RunInfo, RunRequest, RunStatus
from ledgerbridge.sync.ports import CompanyContext, Store
from ledgerbridge.sync.terms import Terms

MAX_PERIOD_DAYS = 366 * 5


def flow_enabled(context: CompanyContext, flow: Flow) -> bool:
    settings = context.settings
    if flow is Flow.CUSTOMER_INVOICES:
        return settings.sales.enabled
    if flow is Flow.SUPPLIER_INVOICES:
        return settings.purchases.enabled
    return settings.payments.enabled


def check_may_run(context: CompanyContext, flow: Flow, terms: Terms) -> None:
    """Raise `FlowDisabled` or `TermsNotAccepted` when the flow may not send."""
    ref = context.company.ref
    if not flow_enabled(context, flow):
        raise FlowDisabled(ref, flow)
    if context.accepted_terms != terms.version:
        raise TermsNotAccepted(ref, terms.version, renewed=context.ever_accepted)


def check_period(first: date, last: date) -> None:
    if first > last:
        raise BadPeriod(
            f"The period starts on {first} after it ends on {last}: swap the dates."
        )
    if (last - first).days > MAX_PERIOD_DAYS:
        raise BadPeriod(
            f"The period {first} to {last} is longer than five years: choose a "
            "shorter one."
        )


def start_run(
    store: Store,
    request: RunRequest,
    terms: Terms,
    *,
    status: RunStatus = RunStatus.RUNNING,
    then: Callable[[Any, RunInfo], None] | None = None,
) -> RunInfo:
    """Create a run after its guards; `status` QUEUED when a worker takes it.

    Raises `UnknownCompany`, `BadPeriod`, `FlowDisabled`, `TermsNotAccepted`
    and `RunInProgress` (with the active run's id).
    """
    check_period(request.first, request.last)
    context = store.company(request.company_ref)
    check_may_run(context, request.flow, terms)
    return store.create_run(request, status, then)


def daily_period(today: date) -> tuple[date, date]:
    """What a daily run covers: from the first day of last month to today,
    so late-validated invoices of last month still go."""
    first_of_month = today.replace(day=1)
    first = (first_of_month - timedelta(days=1)).replace(day=1)
    return first, today


def this_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return first, next_month - timedelta(days=1)


def last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def named_period(period: str, first: str, last: str, today: date) -> tuple[date, date]:
    """The period a dialog names: `this_month`, `last_month`, or `custom`
    with `first` and `last` as ISO dates; `BadPeriod` with a sentence
    saying what to fill in otherwise."""
    if period == "this_month":
        return this_month(today)
    if period == "last_month":
        return last_month(today)
    if period != "custom":
        raise BadPeriod("Choose a period: This month, Last month or Custom.")
    if not first or not last:
        raise BadPeriod("For a Custom period, fill in both the From and To dates.")
    try:
        chosen = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise BadPeriod(
            "The From and To dates must be dates, like 2026-11-30."
        ) from None
    check_period(*chosen)
    return chosen
