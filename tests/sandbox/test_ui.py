"""The sandbox's web view: divisions, journals with their entries, open
items, and registering a payment through the form."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from tests.sandbox.conftest import BE, NL, Signed, customer, gl_id, sign_in

UI = "/_sandbox/ui"


def _book(exact: Signed, your_ref: str = "F2026-0042", amount: str = "100.00") -> Any:
    account = customer(exact, BE)
    revenue = gl_id(exact, BE, "700000")
    posted = exact.post(
        f"{BE}/salesentry/SalesEntries",
        {
            "Journal": "70",
            "Customer": account,
            "YourRef": your_ref,
            "SalesEntryLines": [
                {"GLAccount": revenue, "AmountFC": amount, "VATCode": "V21"}
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    return posted.json()["d"]


def _book_purchase(exact: Signed) -> Any:
    supplier = exact.post(
        f"{BE}/crm/Accounts", {"Code": "4001", "Name": "Hout & Co", "IsSupplier": True}
    )
    assert supplier.status_code == 201, supplier.text
    posted = exact.post(
        f"{BE}/purchaseentry/PurchaseEntries",
        {
            "Journal": "60",
            "Supplier": supplier.json()["d"]["ID"],
            "YourRef": "INK-7",
            "PurchaseEntryLines": [
                {"GLAccount": gl_id(exact, BE, "600000"), "AmountFC": "50.00"}
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    return posted.json()["d"]


def _section(page: str, title: str) -> str:
    """The HTML of the page's section headed `title`."""
    found = re.search(rf"<section><h2>{re.escape(title)}</h2>.*?</section>", page)
    assert found, f"no section {title!r} in:\n{page}"
    return found.group()


def _rows(part: str) -> list[str]:
    return re.findall(r"<tr>(?:(?!</tr>).)*<td>.*?</tr>", part)


def _today(sandbox: Sandbox) -> str:
    return f"{sandbox.divisions[BE].local_now(sandbox.clock):%Y-%m-%d}"


def _terms(division: Any, entry_id: str) -> list[tuple[Decimal, int]]:
    """The entry's cash-flow terms as (AmountDC, Status), in booking order."""
    return [
        (term["AmountDC"], term["Status"])
        for term in division.find("receivables", TransactionEntryID=entry_id)
    ]


def _pay(exact: Signed, entry_id: str, amount: str, day: str = "2026-12-01") -> Any:
    return exact.http.post(
        f"{UI}/{BE}/pay",
        data={"entry_id": entry_id, "amount": amount, "date": day},
        follow_redirects=False,
    )


def test_ui_index_lists_divisions_with_links(exact: Signed) -> None:
    page = exact.http.get(f"{UI}/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<a href="{UI}/{BE}">Demo BE</a>' in page.text
    assert f'<a href="{UI}/{NL}">Demo NL</a>' in page.text
    assert "<script" not in page.text


def test_ui_index_without_slash_redirects_to_it(exact: Signed) -> None:
    page = exact.http.get(UI)

    assert page.status_code == 200
    assert f'<a href="{UI}/{BE}">' in page.text


def test_ui_index_without_divisions_says_so(http: TestClient) -> None:
    page = http.get(f"{UI}/")

    assert page.status_code == 200
    assert "There are no divisions yet" in page.text


def test_ui_division_shows_booked_entry_and_open_receivable(exact: Signed) -> None:
    entry = _book(exact)

    page = exact.http.get(f"{UI}/{BE}")

    assert page.status_code == 200, page.text
    journals = _section(page.text, "Journals")
    assert "<h3>70 · Verkopen</h3>" in journals
    [row] = _rows(journals)
    assert f"<td>{entry['EntryNumber']}</td>" in row
    assert "<td>F2026-0042</td>" in row
    assert "<td>Customer 1001</td>" in row
    assert '<td class="num">121.00</td>' in row
    assert '<td class="num">21.00</td>' in row
    assert "<td>Sales entry</td>" in row
    assert "<td>Open</td>" in row
    [item] = _rows(_section(page.text, "Open receivables"))
    assert "<td>F2026-0042</td>" in item
    assert "<td>1001 Customer 1001</td>" in item
    assert f'name="entry_id" value="{entry["EntryID"]}"' in item
    assert 'name="amount" required aria-label="Amount" value="121.00"' in item
    today = _today(exact.sandbox)
    assert f'aria-label="Payment date" value="{today}"' in item
    assert f'action="{UI}/{BE}/pay"' in item
    assert "Nothing open." in _section(page.text, "Open payables")


def test_ui_payment_in_full_marks_entry_paid_and_closes_item(exact: Signed) -> None:
    entry = _book(exact)

    paid = _pay(exact, entry["EntryID"], "121.00")

    assert paid.status_code == 303, paid.text
    assert paid.headers["location"].startswith(f"{UI}/{BE}?")
    page = exact.http.get(paid.headers["location"])
    assert page.status_code == 200
    assert (
        f"Registered a payment of 121.00 EUR on entry {entry['EntryNumber']}; "
        "it is paid in full." in page.text
    )
    [row] = _rows(_section(page.text, "Journals"))
    assert '<td class="paid">Paid</td>' in row
    assert "Nothing open." in _section(page.text, "Open receivables")
    term = exact.sandbox.divisions[BE].first(
        "receivables", TransactionEntryID=entry["EntryID"]
    )
    assert term is not None
    assert term["IsFullyPaid"] is True
    assert term["Status"] == 50
    assert term["LastPaymentDate"].isoformat() == "2026-12-01T00:00:00"


@pytest.mark.parametrize("amount", ["1e999999999", "x", "NaN"])
def test_ui_confirmation_ignores_a_strange_amount(exact: Signed, amount: str) -> None:
    entry = _book(exact)

    page = exact.http.get(
        f"{UI}/{BE}", params={"paid": entry["EntryID"], "amount": amount}
    )

    assert page.status_code == 200
    assert f"Registered a payment of on entry {entry['EntryNumber']}" in page.text


def test_ui_partial_payment_leaves_the_rest_open(exact: Signed) -> None:
    entry = _book(exact)

    paid = _pay(exact, entry["EntryID"], "21,50")

    page = exact.http.get(paid.headers["location"]).text
    assert "Registered a payment of 21.50 EUR" in page
    assert "99.50 is still open." in page
    [row] = _rows(_section(page, "Journals"))
    assert "<td>Partly paid (99.50 open)</td>" in row
    [item] = _rows(_section(page, "Open receivables"))
    assert 'value="99.50"' in item


def test_ui_payment_on_a_purchase_entry_closes_the_payable(exact: Signed) -> None:
    entry = _book_purchase(exact)
    before = exact.http.get(f"{UI}/{BE}").text
    [item] = _rows(_section(before, "Open payables"))
    assert "<td>INK-7</td>" in item
    assert "Hout &amp; Co" in item

    paid = _pay(exact, entry["EntryID"], "60.50")

    assert paid.status_code == 303, paid.text
    after = exact.http.get(paid.headers["location"]).text
    assert "Nothing open." in _section(after, "Open payables")
    [row] = _rows(_section(after, "Journals"))
    assert "<td>Purchase entry</td>" in row
    assert '<td class="paid">Paid</td>' in row


@pytest.mark.parametrize(
    "amount",
    [
        "abc",
        "",
        "NaN",
        "Infinity",
        "12.345",
        "0",
        "1e15",
        "1e999999999",
        "0e99",
        "1.2.3",
    ],
)
def test_ui_payment_with_bad_amount_is_a_400_page(exact: Signed, amount: str) -> None:
    entry = _book(exact)

    answer = _pay(exact, entry["EntryID"], amount)

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert 'class="error" role="alert">The amount' in answer.text
    [item] = _rows(_section(answer.text, "Open receivables"))
    assert 'value="121.00"' in item
    assert _terms(exact.sandbox.divisions[BE], entry["EntryID"]) == [
        (Decimal("121.00"), 20)
    ]


def test_ui_payment_on_unknown_entry_is_a_400_page(exact: Signed) -> None:
    _book(exact)

    answer = _pay(exact, "00000000-0000-0000-0000-000000000000", "10")

    assert answer.status_code == 400
    assert "No booked entry 00000000-0000-0000-0000-000000000000" in answer.text


def test_ui_payment_on_entry_of_another_division_is_a_400_page(exact: Signed) -> None:
    entry = _book(exact)

    answer = exact.http.post(
        f"{UI}/{NL}/pay",
        data={"entry_id": entry["EntryID"], "amount": "1", "date": "2026-12-01"},
    )

    assert answer.status_code == 400
    assert "No booked entry" in answer.text


def test_ui_payment_form_answers_any_text_without_failing() -> None:
    sandbox = Sandbox()
    with TestClient(create_app(sandbox), base_url="http://sandbox.test") as http:
        http.post(
            "/_sandbox/divisions", json={"code": BE, "template": "BE", "name": "Demo"}
        )
        entry_id = _book(sign_in(http, sandbox, [BE]))["EntryID"]
        statuses: set[int] = set()

        @settings(max_examples=150, deadline=None)
        # A payment that succeeds, whatever the generated ones do: a negative
        # amount is refused while nothing is paid.
        @example(entry=entry_id, amount="1,00", day="2026-12-01")
        @given(
            entry=st.sampled_from([entry_id, entry_id.upper(), ""]) | st.text(),
            amount=st.from_regex(r"-?[0-9]{0,14}([.,][0-9]{0,3})?", fullmatch=True)
            | st.text(),
            day=st.dates().map(date.isoformat) | st.text(),
        )
        def post(entry: str, amount: str, day: str) -> None:
            answer = http.post(
                f"{UI}/{BE}/pay",
                data={"entry_id": entry, "amount": amount, "date": day},
                follow_redirects=False,
            )
            assert answer.status_code in (303, 400), answer.text
            statuses.add(answer.status_code)
            if answer.status_code == 303:
                page = http.get(answer.headers["location"])
                assert page.status_code == 200

        post()

    assert statuses == {303, 400}


@pytest.mark.parametrize("day", ["", "01-12-2026", "2026-02-30", "tomorrow"])
def test_ui_payment_with_bad_date_is_a_400_page(exact: Signed, day: str) -> None:
    entry = _book(exact)

    answer = _pay(exact, entry["EntryID"], "10", day)

    assert answer.status_code == 400
    assert "is not a date like 2026-12-31." in answer.text


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"amount=1&date=2026-12-01",
        b"entry_id=a&entry_id=b&amount=1&date=2026-12-01",
    ],
)
def test_ui_payment_with_missing_or_repeated_field_is_a_400_page(
    exact: Signed, content: bytes
) -> None:
    answer = exact.http.post(
        f"{UI}/{BE}/pay",
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status_code == 400
    assert 'class="error"' in answer.text


def test_ui_payment_with_a_broken_multipart_body_is_a_400_page(exact: Signed) -> None:
    answer = exact.http.post(
        f"{UI}/{BE}/pay",
        content=b"--x\r\nnonsense",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )

    assert answer.status_code == 400


def test_ui_payment_posted_from_another_site_is_refused(exact: Signed) -> None:
    entry = _book(exact)

    answer = _pay_from(exact, "https://evil.example", entry["EntryID"])

    assert answer.status_code == 403
    assert "Payments come from this page only." in answer.text
    assert _terms(exact.sandbox.divisions[BE], entry["EntryID"]) == [
        (Decimal("121.00"), 20)
    ]
    assert _pay_from(exact, "http://sandbox.test", entry["EntryID"]).status_code == 303


def _pay_from(exact: Signed, origin: str, entry_id: str) -> Any:
    return exact.http.post(
        f"{UI}/{BE}/pay",
        data={"entry_id": entry_id, "amount": "1.00", "date": "2026-12-01"},
        headers={"Origin": origin},
        follow_redirects=False,
    )


@pytest.mark.parametrize("code", ["9999", "abc", "1001x", "99999999999999999999"])
def test_ui_unknown_division_is_a_404_page(exact: Signed, code: str) -> None:
    page = exact.http.get(f"{UI}/{code}")
    pay = exact.http.post(
        f"{UI}/{code}/pay", data={"entry_id": "x", "amount": "1", "date": "2026-12-01"}
    )

    assert page.status_code == pay.status_code == 404
    assert "There is no division" in page.text


def test_ui_escapes_what_it_shows(exact: Signed) -> None:
    _book(exact, your_ref="<script>alert('x')</script>")

    page = exact.http.get(f"{UI}/{BE}").text

    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") == 2  # the entry and the open item


def test_ui_shows_text_without_a_utf8_form(exact: Signed) -> None:
    entry = _book(exact)
    # JSON lets a client send a lone surrogate ("\\ud800") in any string.
    records = exact.sandbox.divisions[BE].records("sales_entries")
    records[entry["EntryID"]]["YourRef"] = "F\ud800-1"

    page = exact.http.get(f"{UI}/{BE}")

    assert page.status_code == 200
    assert "<td>F?-1</td>" in page.text


def test_ui_escapes_an_unknown_division_code(exact: Signed) -> None:
    page = exact.http.get(f"{UI}/%3Cb%3E")

    assert page.status_code == 404
    assert "<b>" not in page.text
    assert "&lt;b&gt;" in page.text


def test_ui_forbids_scripts_and_framing(exact: Signed) -> None:
    page = exact.http.get(f"{UI}/{BE}")

    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_ui_routes_stay_out_of_the_openapi(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith(UI)]
    assert "/_sandbox/divisions" in paths


def test_ui_payment_is_written_to_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    sandbox = Sandbox(state_path=path)
    with TestClient(create_app(sandbox), base_url="http://sandbox.test") as http:
        http.post(
            "/_sandbox/divisions", json={"code": BE, "template": "BE", "name": "Demo"}
        )
        entry = _book(sign_in(http, sandbox, [BE]))
        paid = _pay(sign_in(http, sandbox, [BE]), entry["EntryID"], "21.00")
        assert paid.status_code == 303

    restarted = Sandbox(state_path=path).divisions[BE]

    assert _terms(restarted, entry["EntryID"]) == [
        (Decimal("100.00"), 20),
        (Decimal("21.00"), 50),
    ]
