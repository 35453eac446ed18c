"""How fast the sandbox books a sales entry, in process (no network).

Sets up one Belgian division, an app, a token and a customer on
`create_app(Sandbox())` through Starlette's TestClient, then times N POSTs of
`salesentry/SalesEntries`, each with five lines (GL account 700000, VAT code
V21). Prints the median, p90 and p99 latency in milliseconds and the calls
per second; exits 1 if the median is 5 ms or more.

    .venv/bin/python bench/sandbox_post.py [N]      # N defaults to 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from fastapi.testclient import TestClient

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox

DIVISION = 1001
REDIRECT = "http://127.0.0.1:9/callback"
MEDIAN_LIMIT_MS = 5.0


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise SystemExit(f"set-up failed: {response.status_code} {response.text}")
    return response.json()


def _signed_in(http: TestClient) -> dict[str, str]:
    """Headers of a client signed in to one BE division without limits."""
    _ok(
        http.post(
            "/_sandbox/divisions",
            json={"code": DIVISION, "template": "BE", "name": "Bench BE"},
        ),
        201,
    )
    # Exact's 60 calls a minute would turn the run into 429s.
    _ok(
        http.put(
            f"/_sandbox/divisions/{DIVISION}/limits",
            json={"minutely": 1_000_000, "daily": 100_000_000},
        ),
        200,
    )
    app = _ok(http.post("/_sandbox/apps", json={"redirect_uri": REDIRECT}), 201)
    code = _ok(
        http.post(
            "/_sandbox/oauth/code",
            json={
                "client_id": app["client_id"],
                "redirect_uri": REDIRECT,
                "divisions": [DIVISION],
            },
        ),
        200,
    )["code"]
    tokens = _ok(
        http.post(
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        ),
        200,
    )
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "Accept": "application/json",
    }


def _entry(customer: str, revenue: str, n: int) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": customer,
        "EntryDate": "2026-11-14",
        "YourRef": f"BENCH-{n:06d}",
        "PaymentCondition": "30",
        "SalesEntryLines": [
            {
                "GLAccount": revenue,
                "AmountFC": 10.0 * line + 0.25,
                "VATCode": "V21",
                "Description": f"Line {line}",
            }
            for line in range(1, 6)
        ],
    }


def run(n: int) -> list[int]:
    """Nanoseconds per POST, for `n` POSTs."""
    with TestClient(create_app(Sandbox()), base_url="http://sandbox.test") as http:
        headers = _signed_in(http)
        base = f"/api/v1/{DIVISION}"
        customer = _ok(
            http.post(
                f"{base}/crm/Accounts",
                json={"Code": "1001", "Name": "Bench customer", "Status": "C"},
                headers=headers,
            ),
            201,
        )["d"]["ID"]
        revenue = _ok(
            http.get(
                f"{base}/financial/GLAccounts",
                params={"$select": "ID,Code", "$filter": "Code eq '700000'"},
                headers=headers,
            ),
            200,
        )["d"]["results"][0]["ID"]
        url = f"{base}/salesentry/SalesEntries"
        timings = []
        for i in range(n):
            body = _entry(customer, revenue, i)
            start = time.perf_counter_ns()
            response = http.post(url, json=body, headers=headers)
            timings.append(time.perf_counter_ns() - start)
            if response.status_code != 201:
                raise SystemExit(
                    f"POST {i} failed: {response.status_code} {response.text}"
                )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="POSTs to time")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("n must be at least 2")
    timings = run(args.n)
    ms = [t / 1e6 for t in timings]
    median = statistics.median(ms)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"POST salesentry/SalesEntries, 5 lines, in process: {args.n} calls")
    print(f"  median {median:.3f} ms")
    print(f"  p90    {cuts[89]:.3f} ms")
    print(f"  p99    {cuts[98]:.3f} ms")
    print(f"  {args.n / (sum(timings) / 1e9):.0f} calls/s")
    if median >= MEDIAN_LIMIT_MS:
        print(f"FAIL: median {median:.3f} ms >= {MEDIAN_LIMIT_MS} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
