"""Importing payments back from the sandbox's cash flow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledgerbridge.domain.documents import PaymentStatus
from ledgerbridge.storage.tables import DocumentRow, PaymentRow
from ledgerbridge.sync.model import Flow, Outcome, RunStatus
from tests.sync.conftest import BE, Env


@pytest.fixture
def booked(env: Env) -> Env:
    env.accept_terms()
    env.run(Flow.CUSTOMER_INVOICES)
    env.run(Flow.SUPPLIER_INVOICES)
    return env


def invoices(env: Env, side: str = "sales", kind: str = "invoice") -> list[DocumentRow]:
    with env.database.sessions() as session:
        return list(
            session.scalars(
                select(DocumentRow)
                .where(
                    DocumentRow.side == side,
                    DocumentRow.type == kind,
                    DocumentRow.booking_status == "booked",
                )
                .order_by(DocumentRow.id)
            )
        )


def payments_of(env: Env, document: DocumentRow) -> list[PaymentRow]:
    with env.database.sessions() as session:
        return list(
            session.scalars(
                select(PaymentRow)
                .where(PaymentRow.document_id == document.id)
                .order_by(PaymentRow.paid_on, PaymentRow.amount)
            )
        )


def state(env: Env, document: DocumentRow) -> tuple[str, Decimal]:
    stored = env.document(document.number)
    return stored.payment_status, stored.paid_amount


def test_a_full_payment_marks_the_invoice_paid(booked: Env) -> None:
    env = booked
    invoice = invoices(env)[0]
    env.pay(invoice.booking_entry_id, str(invoice.total), day=str(env.today))

    run = env.run(Flow.PAYMENTS)

    assert run.status is RunStatus.SUCCEEDED
    assert state(env, invoice) == (PaymentStatus.PAID, invoice.total)
    [payment] = payments_of(env, invoice)
    assert payment.amount == invoice.total
    assert payment.paid_on == env.today
    assert payment.currency == invoice.currency
    [result] = [r for r in env.runner.results(run.id) if r.number == invoice.number]
    assert result.outcome is Outcome.UPDATED
    assert result.reason_code == PaymentStatus.PAID
    assert run.counts.updated == 1 and run.counts.payments == 1


def test_a_partial_payment_shows_the_open_amount(booked: Env) -> None:
    env = booked
    invoice = invoices(env)[1]
    env.pay(invoice.booking_entry_id, "100.00")

    run = env.run(Flow.PAYMENTS)

    assert state(env, invoice) == (PaymentStatus.PARTLY_PAID, Decimal("100.00"))
    [result] = env.runner.results(run.id)
    open_amount = invoice.total - Decimal("100.00")
    assert f"{open_amount} {invoice.currency} open" in (result.reason or "")

    env.pay(invoice.booking_entry_id, str(open_amount))
    env.run(Flow.PAYMENTS)

    assert state(env, invoice) == (PaymentStatus.PAID, invoice.total)
    amounts = sorted(payment.amount for payment in payments_of(env, invoice))
    assert amounts == sorted([Decimal("100.00"), open_amount])


def test_a_reopened_invoice_owes_again_and_loses_its_payment(booked: Env) -> None:
    env = booked
    invoice = invoices(env)[2]
    env.pay(invoice.booking_entry_id, str(invoice.total))
    env.run(Flow.PAYMENTS)
    assert state(env, invoice)[0] == PaymentStatus.PAID

    env.pay(invoice.booking_entry_id, f"-{invoice.total}")
    env.run(Flow.PAYMENTS)

    assert state(env, invoice) == (PaymentStatus.REOPENED, Decimal("0.00"))
    assert payments_of(env, invoice) == []
    env.pay(invoice.booking_entry_id, "10.00")
    env.run(Flow.PAYMENTS)
    assert state(env, invoice) == (PaymentStatus.REOPENED, Decimal("10.00"))
    env.pay(invoice.booking_entry_id, str(invoice.total - Decimal("10.00")))
    env.run(Flow.PAYMENTS)
    assert state(env, invoice) == (PaymentStatus.PAID, invoice.total)


def test_an_over_payment_pays_the_invoice_and_no_more(booked: Env) -> None:
    env = booked
    invoice = invoices(env)[3]
    env.pay(invoice.booking_entry_id, str(invoice.total + Decimal("50.00")))

    env.run(Flow.PAYMENTS)

    assert state(env, invoice) == (PaymentStatus.PAID, invoice.total)
    assert sum(p.amount for p in payments_of(env, invoice)) == invoice.total


def test_a_credit_note_netted_with_its_invoice_settles_both(booked: Env) -> None:
    env = booked
    credit_note = invoices(env, kind="credit_note")[0]
    invoice = next(
        i
        for i in invoices(env)
        if i.party_id == credit_note.party_id and i.total > credit_note.total
    )
    division = 1001
    answer = env.http.post(
        f"/_sandbox/divisions/{division}/match",
        json={"entry_ids": [invoice.booking_entry_id, credit_note.booking_entry_id]},
    )
    assert answer.status_code == 200, answer.text

    env.run(Flow.PAYMENTS)

    assert state(env, credit_note) == (PaymentStatus.PAID, credit_note.total)
    assert state(env, invoice) == (PaymentStatus.PARTLY_PAID, credit_note.total)


def test_supplier_invoices_come_back_paid_too(booked: Env) -> None:
    env = booked
    invoice = invoices(env, side="purchase")[0]
    env.pay(invoice.booking_entry_id, str(invoice.total))

    env.run(Flow.PAYMENTS)

    assert state(env, invoice) == (PaymentStatus.PAID, invoice.total)


def test_importing_twice_gives_the_same_state_and_counts_nothing_twice(
    booked: Env,
) -> None:
    env = booked
    first, second = invoices(env)[4:6]
    env.pay(first.booking_entry_id, str(first.total))
    env.pay(second.booking_entry_id, "1.00")
    once = env.run(Flow.PAYMENTS)
    before = {n.number: state(env, n) for n in (first, second)}

    again = env.run(Flow.PAYMENTS)

    assert {n.number: state(env, n) for n in (first, second)} == before
    assert once.counts.payments == 2
    assert again.counts.payments == 0 and again.counts.updated == 0
    assert len(payments_of(env, first)) == len(payments_of(env, second)) == 1
    assert again.exact_calls == 1  # nothing changed: one call to learn that


def test_the_period_limits_which_documents_are_updated(booked: Env) -> None:
    env = booked
    ordered = sorted(invoices(env), key=lambda d: d.issue_date)
    old, recent = ordered[0], ordered[-1]
    assert old.issue_date < recent.issue_date
    env.pay(old.booking_entry_id, str(old.total))
    env.pay(recent.booking_entry_id, str(recent.total))

    env.run(Flow.PAYMENTS, first=recent.issue_date, last=env.today)

    assert state(env, recent)[0] == PaymentStatus.PAID
    assert state(env, old)[0] == PaymentStatus.OPEN
    # What was read is kept: a later import of the old period needs no call
    # for it.
    env.run(Flow.PAYMENTS, first=old.issue_date, last=old.issue_date + timedelta(1))
    assert state(env, old)[0] == PaymentStatus.PAID


def test_payments_of_another_company_stay_there(booked: Env) -> None:
    env = booked
    invoice = invoices(env)[6]
    env.pay(invoice.booking_entry_id, str(invoice.total))
    env.accept_terms("nl-badkamers")

    run = env.run(Flow.PAYMENTS, "nl-badkamers")

    assert run.counts.updated == 0
    assert state(env, invoice)[0] == PaymentStatus.OPEN
    assert env.run(Flow.PAYMENTS, BE).counts.updated == 1
