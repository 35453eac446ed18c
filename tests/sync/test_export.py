"""Exporting the demo's invoices to the sandbox."""

from __future__ import annotations

from ledgerbridge.sync.model import Flow, RunStatus
from tests.sync.conftest import Env


def test_export_books_the_demo_customer_invoices(env: Env) -> None:
    env.accept_terms()
    run = env.run(Flow.CUSTOMER_INVOICES)
    assert run.status is RunStatus.PARTIAL
    assert run.counts.booked > 100
    assert len(env.entries()) == run.counts.booked
