"""What stops a run before or while it sends: switched-off flows, terms,
one run per company, a dead sign-in, Exact's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import update

from ledgerbridge import intake
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import ExactConnectionRow, RunRow
from ledgerbridge.sync.errors import (
    BadPeriod,
    FlowDisabled,
    RunInProgress,
    TermsNotAccepted,
    UnknownCompany,
)
from ledgerbridge.sync.model import Flow, Outcome, RunRequest, RunStatus, Trigger
from ledgerbridge.sync.terms import Terms
from tests.sync.conftest import BE, NL, Env


def switch(env: Env, company: str, **tabs: bool) -> None:
    """Tick or untick the main box of tabs: sales=, purchases=, payments=."""
    with env.database.sessions.begin() as session:
        row = repo.get_company(session, company)
        assert row is not None
        settings = repo.load_settings(session, row)
        for tab, enabled in tabs.items():
            settings = replace(
                settings, **{tab: replace(getattr(settings, tab), enabled=enabled)}
            )
        intake.save_settings(session, row, settings)


@pytest.mark.parametrize(
    ("flow", "tab", "box"),
    [
        (Flow.CUSTOMER_INVOICES, "sales", "'Accountancy export'"),
        (Flow.SUPPLIER_INVOICES, "purchases", "'Accountancy export'"),
        (Flow.PAYMENTS, "payments", "'Payments Import'"),
    ],
)
def test_a_switched_off_flow_refuses_and_says_where_to_switch_it_on(
    env: Env, flow: Flow, tab: str, box: str
) -> None:
    env.accept_terms()
    switch(env, BE, **{tab: False})

    with pytest.raises(FlowDisabled) as refused:
        env.run(flow)

    assert box in str(refused.value)
    assert "Accounting settings" in str(refused.value)
    assert env.runner.store.runs(BE) == []
    assert env.entries() == []


def test_a_run_queued_before_its_flow_was_switched_off_sends_nothing(env: Env) -> None:
    env.accept_terms()
    first, last = env.period()
    request = RunRequest(BE, Flow.CUSTOMER_INVOICES, first, last, Trigger.DAILY, "t")
    run = env.runner.start(request, status=RunStatus.QUEUED)
    switch(env, BE, sales=False)

    finished = env.runner.execute(run.id)

    assert finished.status is RunStatus.STOPPED
    assert "switched off" in (finished.message or "")
    assert env.entries() == []
    results = env.runner.results(run.id)
    assert results and {r.reason_code for r in results} == {"flow_switched_off"}
    assert {r.outcome for r in results} == {Outcome.SKIPPED}
    assert finished.counts.skipped == len(results)


def test_nothing_is_sent_before_the_terms_are_accepted(env: Env) -> None:
    with pytest.raises(TermsNotAccepted) as refused:
        env.run(Flow.CUSTOMER_INVOICES)
    assert "terms accept --company be-keukens" in str(refused.value)
    with pytest.raises(TermsNotAccepted):
        env.runner.preview(BE, Flow.CUSTOMER_INVOICES, *env.period())
    assert env.entries() == []

    env.accept_terms()
    assert env.run(Flow.CUSTOMER_INVOICES).counts.booked > 0


def test_new_terms_ask_again(env: Env, tmp_path: object) -> None:
    env.accept_terms()
    terms_file = env.settings.data_dir / "terms.txt"
    terms_file.write_text("New terms: we now also send the invoice PDF.\n")
    env.settings.terms_file = terms_file

    with pytest.raises(TermsNotAccepted) as refused:
        env.run(Flow.CUSTOMER_INVOICES)

    assert "new terms" in str(refused.value)
    assert refused.value.version == Terms(terms_file.read_text()).version
    accepted = env.runner.accept_terms(BE, "office@example.com")
    assert accepted.version == refused.value.version
    context = env.runner.store.company(BE)
    assert context.accepted_terms == accepted.version
    assert env.run(Flow.CUSTOMER_INVOICES).counts.booked > 0


def test_terms_are_per_company(env: Env) -> None:
    env.accept_terms(BE)
    with pytest.raises(TermsNotAccepted):
        env.run(Flow.CUSTOMER_INVOICES, NL)


def test_a_company_runs_one_thing_at_a_time_and_says_which(env: Env) -> None:
    env.accept_terms()
    first, last = env.period()
    busy = env.runner.start(
        RunRequest(BE, Flow.SUPPLIER_INVOICES, first, last, Trigger.MANUAL, "a")
    )

    with pytest.raises(RunInProgress) as refused:
        env.run(Flow.CUSTOMER_INVOICES)

    assert refused.value.run_id == busy.id
    assert f"run {busy.id}" in str(refused.value)
    assert "supplier invoice export" in str(refused.value)
    env.accept_terms(NL)
    assert env.run(Flow.CUSTOMER_INVOICES, NL).counts.booked > 0  # others go on


def test_a_run_whose_process_died_does_not_block_the_company(env: Env) -> None:
    env.accept_terms()
    first, last = env.period()
    dead = env.runner.start(
        RunRequest(BE, Flow.CUSTOMER_INVOICES, first, last, Trigger.MANUAL, "a")
    )
    with env.database.sessions.begin() as session:
        # A pid that cannot exist on this machine.
        session.execute(
            update(RunRow)
            .where(RunRow.id == dead.id)
            .values(owner=f"{_host()}:99999999")
        )

    run = env.run(Flow.CUSTOMER_INVOICES)

    assert run.status is RunStatus.PARTIAL
    assert env.runner.store.run(dead.id).status is RunStatus.INTERRUPTED


def test_a_company_that_must_sign_in_again_stops_with_that_message(env: Env) -> None:
    env.accept_terms()
    env.runner.forget_client(BE)
    with env.database.sessions.begin() as session:
        session.execute(
            update(ExactConnectionRow).values(
                needs_sign_in=True, reason="refresh refused"
            )
        )

    run = env.run(Flow.CUSTOMER_INVOICES)

    assert run.status is RunStatus.STOPPED
    assert "connect" in (run.message or "").lower()
    assert env.entries() == []


def test_a_dead_token_chain_mid_run_stops_the_run(env: Env) -> None:
    env.accept_terms()
    client = env.runner.client(BE)
    env.store_tokens_broken(client.connection)

    run = env.run(Flow.CUSTOMER_INVOICES)

    assert run.status is RunStatus.STOPPED
    assert "connect" in (run.message or "").lower()


def test_the_daily_limit_stops_the_run_and_the_next_run_carries_on(env: Env) -> None:
    env.accept_terms()
    env.settings.exact_daily_reserve = 10
    env.set_limits(minutely=1000, daily=100)

    stopped = env.run(Flow.CUSTOMER_INVOICES)

    assert stopped.status is RunStatus.STOPPED
    assert "today" in (stopped.message or "")
    booked_before = len(env.entries())
    assert 0 < booked_before < 130
    env.clock.sleep(24 * 3600)  # the next day: Exact's daily count starts over
    carried_on = env.run(Flow.CUSTOMER_INVOICES)
    assert carried_on.counts.already_done == booked_before
    assert len(env.entries()) == booked_before + carried_on.counts.booked


def test_bad_requests_are_refused_with_a_sentence(env: Env) -> None:
    with pytest.raises(BadPeriod, match="swap the dates"):
        env.run(Flow.CUSTOMER_INVOICES, first=date(2026, 5, 1), last=date(2026, 4, 1))
    with pytest.raises(UnknownCompany, match="no-such"):
        env.run(Flow.CUSTOMER_INVOICES, "no-such")


def _host() -> str:
    import socket

    return socket.gethostname()
