"""The client against the sandbox: tokens, limits, faults, errors
(issue #4). Each test states the documented reaction it checks."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import structlog

from ledgerbridge import logging as lb_logging
from ledgerbridge.exact import resources
from ledgerbridge.exact.errors import (
    BadRequest,
    DailyLimitReached,
    ErrorBudgetExhausted,
    NeedsSignIn,
    OutcomeUnknown,
    Unavailable,
    ValidationFailed,
)
from ledgerbridge.exact.governor import RateGovernor
from ledgerbridge.exact.resources import NewAccount
from tests.exact.conftest import DIVISION, Connected

VAT = "vat/VATCodes"
SELECT = {"$select": "Code"}


def entry_body(connected: Connected, your_ref: str = "F1") -> dict[str, Any]:
    client = connected.client
    customer = resources.find_account(client, "1001") or resources.create_account(
        client, NewAccount("1001", "Jan Peeters", customer=True)
    )
    revenue = next(
        row["ID"] for row in resources.gl_accounts(client) if row["Code"] == "700000"
    )
    return {
        "Journal": "70",
        "Customer": customer["ID"],
        "EntryDate": "2026-11-14",
        "YourRef": your_ref,
        "SalesEntryLines": [
            {"GLAccount": revenue, "AmountFC": "100.00", "VATCode": "V21"}
        ],
    }


def posts(connected: Connected) -> int:
    by_endpoint = connected.division_stats()["by_endpoint"]
    return int(by_endpoint.get("POST salesentry/SalesEntries", 0))


def test_reads_follow_next_page_after_page(connected: Connected) -> None:
    connected.limits(1000, 5000)
    for n in range(75):
        resources.create_account(
            connected.client, NewAccount(str(5000 + n), f"C{n}", customer=True)
        )

    rows = list(
        connected.client.rows(
            "crm/Accounts", {"$select": "ID", "$filter": "Status eq 'C'"}
        )
    )

    assert len({row["ID"] for row in rows}) == 75


def test_refresh_happens_late_and_once(connected: Connected) -> None:
    first = connected.store.current(connected.connection)
    connected.sandbox.clock.advance(300)
    connected.client.get(VAT, SELECT)
    unchanged = connected.store.current(connected.connection)
    connected.sandbox.clock.advance(280)  # 580 s: inside the last 30 s
    connected.client.get(VAT, SELECT)
    refreshed = connected.store.current(connected.connection)

    assert first == unchanged
    assert refreshed is not None and first is not None
    assert refreshed.refresh_token != first.refresh_token
    assert connected.stats()["token_endpoint"] == {
        "authorization_code:ok": 1,
        "refresh_token:ok": 1,
    }


def test_expired_tokens_get_one_refresh_and_one_retry(connected: Connected) -> None:
    connected.http.post("/_sandbox/tokens/expire")

    rows = connected.client.get(VAT, SELECT)

    assert rows["d"]["results"]
    assert connected.stats()["token_endpoint"]["refresh_token:ok"] == 1


def test_dead_chain_needs_sign_in_and_stops_calling(connected: Connected) -> None:
    pair = connected.store.current(connected.connection)
    assert pair is not None
    connected.sandbox.clock.advance(580)
    # Someone else uses our refresh token: our chain is dead.
    connected.client.tokens.refresh(pair.refresh_token)

    with pytest.raises(NeedsSignIn) as failed:
        connected.client.get(VAT, SELECT)
    calls_before = connected.stats()["divisions"]
    with pytest.raises(NeedsSignIn):
        connected.client.get(VAT, SELECT)

    assert "connect the company to Exact again" in failed.value.sentence
    assert connected.store.state(connected.connection).needs_sign_in
    assert connected.stats()["divisions"] == calls_before


def test_minutely_limit_is_used_without_a_429(connected: Connected) -> None:
    connected.limits(5, 5000)

    for _ in range(23):
        connected.client.get(VAT, SELECT)

    stats = connected.division_stats()
    assert stats["rate_limited"] == 0
    assert stats["calls"] == 23
    # four waits for a new minute; the first minute was already under way
    assert 3 * 60 <= connected.clock.slept <= 4 * 60 + 1


def test_minutely_429_waits_for_the_reset_and_goes_on(connected: Connected) -> None:
    connected.limits(2, 5000)
    connected.client.get(VAT, SELECT)
    connected.client.get(VAT, SELECT)
    # A new governor (another process, say) knows nothing of those calls.
    connected.client.governor = RateGovernor(DIVISION, connected.clock)

    connected.client.get(VAT, SELECT)

    stats = connected.division_stats()
    assert stats["rate_limited"] == 1
    assert stats["calls"] == 3


def test_daily_limit_stops_at_the_reserve(connected: Connected) -> None:
    connected.limits(100, 110)
    connected.client.governor.daily_reserve = 100

    connected.client.get(VAT, SELECT)
    with pytest.raises(DailyLimitReached) as stopped:
        for _ in range(20):
            connected.client.get(VAT, SELECT)

    assert "resumes after 00:00 UTC" in stopped.value.sentence
    assert connected.client.limits.daily_limit == 110
    assert connected.store.limits(connected.connection).daily_limit == 110


def test_daily_429_is_not_retried(connected: Connected) -> None:
    connected.limits(100, 1)
    connected.client.get(VAT, SELECT)
    # A new governor knows nothing of the day; without a reserve it calls.
    connected.client.governor = RateGovernor(DIVISION, connected.clock, daily_reserve=0)

    with pytest.raises(DailyLimitReached):
        connected.client.get(VAT, SELECT)

    stats = connected.division_stats()
    assert stats["rate_limited"] == 1


@pytest.mark.parametrize("kind", ["error_500", "error_503"])
def test_read_is_retried_after_a_server_error(connected: Connected, kind: str) -> None:
    connected.fault(VAT, "GET", kind)

    rows = connected.client.get(VAT, SELECT)

    assert rows["d"]["results"]


def test_read_that_keeps_failing_is_unavailable(connected: Connected) -> None:
    connected.fault(VAT, "GET", "error_503", count=10)

    with pytest.raises(Unavailable):
        connected.client.get(VAT, SELECT)

    stats = connected.division_stats()
    assert stats["by_endpoint"]["GET vat/VATCodes"] == 4


@pytest.mark.parametrize("kind", ["error_500", "error_503"])
def test_write_with_a_server_error_is_outcome_unknown_and_not_resent(
    connected: Connected, kind: str
) -> None:
    body = entry_body(connected)
    connected.fault("salesentry/SalesEntries", "POST", kind)

    with pytest.raises(OutcomeUnknown):
        resources.create_entry(connected.client, "sales", body)

    assert posts(connected) == 1
    assert connected.booked() == []


def test_business_error_is_validation_failed_with_its_kind(
    connected: Connected,
) -> None:
    body = entry_body(connected) | {"Journal": "60"}

    with pytest.raises(ValidationFailed) as failed:
        resources.create_entry(connected.client, "sales", body)

    assert failed.value.kind == "wrong_type"
    assert failed.value.messages == ["Ongeldig: Dagboek"]
    assert str(failed.value).startswith("POST salesentry/SalesEntries (division 1001)")
    assert posts(connected) == 1


def test_slow_answers_are_waited_for(connected: Connected) -> None:
    connected.fault(VAT, "GET", "slow", delay_seconds=0.05)

    assert connected.client.get(VAT, SELECT)["d"]["results"]


def test_lookup_finds_what_an_unknown_outcome_booked(connected: Connected) -> None:
    body = entry_body(connected, "F-77")
    resources.create_entry(connected.client, "sales", body)

    found = resources.find_entries(connected.client, "sales", "F-77", "70")

    assert [row["YourRef"] for row in found] == ["F-77"]


def test_error_budget_stops_before_exact_blocks(connected: Connected) -> None:
    for _ in range(8):
        with pytest.raises(BadRequest):
            connected.client.get("salesentry/SalesEntries")  # 400: unrestricted

    with pytest.raises(ErrorBudgetExhausted):
        connected.client.get("salesentry/SalesEntries")

    stats = connected.division_stats()
    assert stats["errors"] == 8


def test_no_secret_reaches_the_logs_or_the_database(
    connected: Connected, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    lb_logging.configure("DEBUG", "json")
    try:
        connected.sandbox.clock.advance(580)
        connected.client.get(VAT, SELECT)  # refreshes
        resources.create_entry(connected.client, "sales", entry_body(connected))
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    pair = connected.store.current(connected.connection)
    assert pair is not None

    logged = capsys.readouterr().err
    events = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    secrets = [
        pair.access_token,
        pair.refresh_token,
        connected.app.client_secret,
    ]
    assert any(event["event"] == "exact.call" for event in events)
    assert not any(secret in logged for secret in secrets)
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert not any(secret.encode() in raw for secret in secrets)


def test_a_periods_entries_come_in_bulk(connected: Connected) -> None:
    connected.limits(1000, 5000)
    for n in range(70):
        resources.create_entry(
            connected.client, "sales", entry_body(connected, f"F{n}")
        )
    calls_before = connected.division_stats()["calls"]

    booked = resources.booked_between(
        connected.client, "70", date(2026, 11, 1), date(2026, 11, 30)
    )
    calls = connected.division_stats()["calls"]

    assert sorted(row["YourRef"] for row in booked.values()) == sorted(
        f"F{n}" for n in range(70)
    )
    assert calls - calls_before == 1  # 70 entries, 210 ledger lines, one page
