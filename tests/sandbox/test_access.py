"""Who may call, how often, and what happens when things go wrong:
tokens (401), grants (403), rate limits (429), the error budget, statistics
and injected faults (API.md §3.3, §4, §5)."""

from __future__ import annotations

import pytest

from ledgerbridge.sandbox.api import ConnectionDropped
from tests.sandbox.conftest import BE, NL, Signed, error_of, sales_entry, sign_in

VAT = f"{BE}/vat/VATCodes"
SELECT = {"$select": "Code"}


def limits(exact: Signed, minutely: int, daily: int) -> None:
    response = exact.http.put(
        f"/_sandbox/divisions/{BE}/limits", json={"minutely": minutely, "daily": daily}
    )
    assert response.status_code == 200


def test_missing_or_expired_token_is_401_with_a_reason(exact: Signed) -> None:
    missing = exact.http.get(f"/api/v1/{VAT}", headers={"Accept": "application/json"})
    exact.sandbox.clock.advance(601)
    expired = exact.get(VAT, **SELECT)

    assert missing.status_code == 401
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]


def test_expiring_every_token_forces_a_refresh(exact: Signed) -> None:
    exact.http.post("/_sandbox/tokens/expire")

    refused = exact.get(VAT, **SELECT)
    refreshed = exact.refresh()
    exact.tokens = refreshed.json()

    assert refused.status_code == 401
    assert refreshed.status_code == 200
    assert exact.get(VAT, **SELECT).status_code == 200


def test_division_not_granted_is_403_no_division_access(exact: Signed) -> None:
    exact.http.post(
        "/_sandbox/divisions", json={"code": 1003, "template": "NL", "name": "Other"}
    )
    only_nl = sign_in(exact.http, exact.sandbox, [NL])

    other = exact.get("1003/vat/VATCodes", **SELECT)
    ungranted = only_nl.get(VAT, **SELECT)

    assert (other.status_code, other.headers["Reason"]) == (403, "NoDivisionAccess")
    assert ungranted.status_code == 403


def test_every_division_call_carries_six_rate_headers(exact: Signed) -> None:
    first = exact.get(VAT, **SELECT)
    second = exact.get(VAT, **SELECT)
    now_ms = exact.sandbox.clock.now().timestamp() * 1000

    headers = second.headers
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Minutely-Limit"] == "60"
    assert int(first.headers["X-RateLimit-Remaining"]) == 4999
    assert int(headers["X-RateLimit-Minutely-Remaining"]) == 58
    minute_reset = int(headers["X-RateLimit-Minutely-Reset"])
    assert minute_reset % 60_000 == 0 and 0 < minute_reset - now_ms <= 60_000
    assert int(headers["X-RateLimit-Reset"]) % 86_400_000 == 0  # 00:00 UTC


def test_me_is_not_counted(exact: Signed) -> None:
    exact.get(VAT, **SELECT)
    for _ in range(5):
        exact.get("current/Me")

    after = exact.get(VAT, **SELECT)

    assert after.headers["X-RateLimit-Minutely-Remaining"] == "58"


def test_minutely_limit_answers_429_until_the_next_minute(exact: Signed) -> None:
    limits(exact, minutely=3, daily=100)
    for _ in range(3):
        assert exact.get(VAT, **SELECT).status_code == 200

    limited = exact.get(VAT, **SELECT)
    exact.sandbox.clock.advance(60)
    later = exact.get(VAT, **SELECT)

    assert (limited.status_code, limited.content) == (429, b"")
    assert limited.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in limited.headers
    assert later.status_code == 200


def test_daily_limit_answers_429_with_only_daily_headers(exact: Signed) -> None:
    limits(exact, minutely=100, daily=2)
    exact.get(VAT, **SELECT)
    exact.get(VAT, **SELECT)

    limited = exact.get(VAT, **SELECT)

    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Limit" not in limited.headers


def test_each_app_has_its_own_budget(exact: Signed) -> None:
    limits(exact, minutely=1, daily=100)
    other_app = sign_in(exact.http, exact.sandbox, [BE])

    assert exact.get(VAT, **SELECT).status_code == 200
    assert exact.get(VAT, **SELECT).status_code == 429
    assert other_app.get(VAT, **SELECT).status_code == 200


def test_stats_count_calls_limits_and_errors(exact: Signed) -> None:
    limits(exact, minutely=3, daily=100)
    exact.get(VAT, **SELECT)
    exact.get(f"{BE}/salesentry/SalesEntries")  # 400: unrestricted
    exact.get(VAT, **SELECT)
    exact.get(VAT, **SELECT)  # 429

    stats = exact.http.get("/_sandbox/stats").json()["divisions"][str(BE)]
    exact.http.post("/_sandbox/stats/reset")

    assert stats == {
        "calls": 3,
        "rate_limited": 1,
        "errors": 1,
        "by_endpoint": {"GET vat/VATCodes": 2, "GET salesentry/SalesEntries": 1},
    }
    assert exact.http.get("/_sandbox/stats").json() == {
        "divisions": {},
        "token_endpoint": {},
    }


def test_error_budget_blocks_an_endpoint_after_ten_errors(exact: Signed) -> None:
    exact.http.put("/_sandbox/settings", json={"error_budget": True})
    for _ in range(10):
        assert exact.get(f"{BE}/salesentry/SalesEntries").status_code == 400

    blocked = exact.get(f"{BE}/salesentry/SalesEntries", **{"$top": "1"})
    other = exact.get(VAT, **SELECT)

    assert blocked.status_code == 403
    assert blocked.headers["Reason"].startswith("TooManyErrors")
    assert other.status_code == 200


def fault(exact: Signed, kind: str, **extra: object) -> None:
    response = exact.http.post(
        "/_sandbox/faults",
        json={
            "endpoint": "salesentry/SalesEntries",
            "method": "POST",
            "kind": kind,
            **extra,
        },
    )
    assert response.status_code == 201


def booked(exact: Signed) -> int:
    rows = exact.http.get(f"/_sandbox/divisions/{BE}/entries?kind=sales").json()
    return len(rows)


@pytest.mark.parametrize(("kind", "status"), [("error_500", 500), ("error_503", 503)])
def test_server_errors_book_nothing_and_carry_no_exact_json(
    exact: Signed, kind: str, status: int
) -> None:
    fault(exact, kind)
    body = sales_entry(exact, BE)

    failed = exact.post(f"{BE}/salesentry/SalesEntries", body)
    retried = exact.post(f"{BE}/salesentry/SalesEntries", body)

    assert failed.status_code == status
    assert failed.headers["content-type"].startswith("text/html")
    assert retried.status_code == 201
    assert booked(exact) == 1


def test_drop_after_commit_books_then_cuts_the_connection(exact: Signed) -> None:
    fault(exact, "drop_after_commit")

    with pytest.raises(ConnectionDropped):
        exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE))

    assert booked(exact) == 1


def test_slow_answers_late_but_answers(exact: Signed) -> None:
    fault(exact, "slow", delay_seconds=0.05)

    response = exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE))

    assert response.status_code == 201
    assert booked(exact) == 1


def test_unknown_endpoint_is_404_and_wrong_method_405(exact: Signed) -> None:
    unknown = exact.get(f"{BE}/crm/Nope")
    wrong = exact.call(
        "DELETE", f"{BE}/vat/VATCodes(guid'{'0' * 8}-0000-0000-0000-{'0' * 12}')"
    )

    assert unknown.status_code == 404
    assert error_of(unknown) == "De gevraagde gegevens zijn niet gevonden"
    assert wrong.status_code == 405
