"""Import payments: what was paid on booked invoices comes back from Exact.

Exact's sync feed `sync/Cashflow/PaymentTerms` gives every cash-flow term
changed since the company's cursor, 1,000 a call (API.md §7.11, §8). A
payment splits a term: the paid part becomes a term of its own, matched
(Status 50), the rest stays open. So the import keeps every term it sees
(`Store.save_terms`, upserted by the term's ID, the cursor moved in the same
transaction) and then works out each booked document of the chosen period
from the terms of its entry (`settle`): one payment per paid term, and the
state open, partly paid, paid or reopened. Importing twice gives the same
state, and a payment is never counted twice. Terms of documents outside the
period are kept for the import that covers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ledgerbridge.domain.documents import PaymentStatus
from ledgerbridge.domain.payments import payment_status
from ledgerbridge.sync.errors import StopRun
from ledgerbridge.sync.model import Counts, Flow, RunInfo, RunStatus, Term
from ledgerbridge.sync.ports import (
    ExactGateway,
    PaymentInput,
    PaymentUpdate,
    Store,
)
from ledgerbridge.sync.runs import flow_enabled

WAS_PAID = frozenset({PaymentStatus.PAID, PaymentStatus.REOPENED})


def settle(document: PaymentInput) -> PaymentUpdate:
    """The payment state of a document from the terms of its entry."""
    paid_terms = tuple(term for term in document.terms if term.paid)
    paid = abs(sum((term.amount for term in paid_terms), Decimal("0.00")))
    if not document.terms:
        status = PaymentStatus(document.status)
        paid = document.paid
    else:
        status = payment_status(
            document.total, paid, PaymentStatus(document.status) in WAS_PAID
        )
    return PaymentUpdate(
        document_id=document.document_id,
        number=document.number,
        status=status,
        paid=paid,
        payments=paid_terms,
        changed=status != document.status or paid != document.paid,
    )


def execute_payments(store: Store, exact: ExactGateway, run_id: int) -> RunInfo:
    """Run the payments import `run_id`."""
    run = store.claim_run(run_id)
    context = store.company(run.company_ref)
    if not flow_enabled(context, Flow.PAYMENTS):
        return store.finish_run(
            run_id,
            RunStatus.STOPPED,
            "The payments import was switched off before the run started; "
            "nothing was read.",
            0,
        )
    calls_before = exact.calls
    try:
        changes = read_changes(store, exact, run.company_ref)
        counts = Counts()
        for batch in store.payment_inputs(run.company_ref, run.first, run.last):
            updates = [settle(document) for document in batch]
            counts = _add(counts, store.save_payments(run_id, run.company_ref, updates))
    except StopRun as stop:
        return store.finish_run(
            run_id, RunStatus.STOPPED, stop.sentence, exact.calls - calls_before
        )
    except BaseException as exc:
        store.finish_run(
            run_id,
            RunStatus.STOPPED,
            f"The import stopped on an unexpected error ({type(exc).__name__}); "
            "what was read is kept and the next import carries on.",
            exact.calls - calls_before,
        )
        raise
    message = (
        f"{changes} payment term changes read from Exact; "
        f"{counts.updated} documents changed, {counts.payments} new payments."
    )
    return store.finish_run(
        run_id, RunStatus.SUCCEEDED, message, exact.calls - calls_before
    )


def read_changes(store: Store, exact: ExactGateway, company_ref: str) -> int:
    """Read the sync feed from the stored cursor and keep what it gives."""
    cursor = store.payment_cursor(company_ref, exact.division)
    changes = exact.payment_terms_since(cursor)
    terms: Sequence[Term] = changes.terms
    store.save_terms(company_ref, exact.division, terms, changes.cursor)
    return len(terms)


def _add(one: Counts, other: Counts) -> Counts:
    return Counts(
        updated=one.updated + other.updated, payments=one.payments + other.payments
    )
