"""Payments and matching split cash-flow terms as Exact does (API.md §7.11,
§8): a partial payment splits the matched part off into a new term, an
over-payment leaves an open credit of the bank entry, reopening un-matches
the newest first, and netting settles an invoice against a credit note."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import BE, Signed, customer, gl_id, supplier

TERM_FIELDS = (
    "ID,Timestamp,TransactionEntryID,LineType,AmountDC,Status,IsFullyPaid,"
    "LastPaymentDate,YourRef,EntryNumber"
)


def book(
    exact: Signed, amount: str, account: str, your_ref: str = "F-1"
) -> dict[str, Any]:
    """A sales entry of one line at 21% VAT: 100.00 books 121.00, -100.00 a
    credit note of -121.00."""
    posted = exact.post(
        f"{BE}/salesentry/SalesEntries",
        {
            "Journal": "70",
            "Customer": account,
            "EntryDate": "2026-11-14",
            "YourRef": your_ref,
            "SalesEntryLines": [
                {
                    "GLAccount": gl_id(exact, BE, "700000"),
                    "AmountFC": amount,
                    "VATCode": "V21",
                }
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    return dict(posted.json()["d"])


def pay(exact: Signed, entry_id: str, amount: str, day: str = "2026-11-20") -> Any:
    return exact.http.post(
        f"/_sandbox/divisions/{BE}/payments",
        json={"entry_id": entry_id, "amount": amount, "date": day},
    )


def match(exact: Signed, *entry_ids: str, **extra: Any) -> Any:
    return exact.http.post(
        f"/_sandbox/divisions/{BE}/match", json={"entry_ids": list(entry_ids), **extra}
    )


def exact_date(day: str) -> str:
    moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)})/"


class Feed:
    """A client of sync/Cashflow/PaymentTerms keeping its Timestamp cursor."""

    def __init__(self, exact: Signed) -> None:
        self.exact = exact
        self.cursor = 0
        self.changes()

    def changes(self) -> dict[str, dict[str, Any]]:
        """The rows changed since the last call, by ID; moves the cursor."""
        rows = self.exact.get(
            f"{BE}/sync/Cashflow/PaymentTerms",
            **{"$select": TERM_FIELDS, "$filter": f"Timestamp gt {self.cursor}L"},
        ).json()["d"]["results"]
        self.cursor = max([self.cursor, *(row["Timestamp"] for row in rows)])
        return {row["ID"]: row for row in rows}


def receivables(exact: Signed, entry_id: str) -> dict[str, dict[str, Any]]:
    rows = exact.get(
        f"{BE}/cashflow/Receivables",
        **{
            "$select": "ID,AmountDC,Status,IsFullyPaid,EndDate,EndYear,EndPeriod",
            "$filter": f"TransactionEntryID eq guid'{entry_id}'",
        },
    ).json()["d"]["results"]
    return {row["ID"]: row for row in rows}


def outstanding(exact: Signed, your_ref: str) -> list[float]:
    rows = exact.get(
        f"{BE}/read/financial/ReceivablesList",
        **{"$select": "HID,Amount", "$filter": f"YourRef eq '{your_ref}'"},
    ).json()["d"]["results"]
    return sorted(row["Amount"] for row in rows)


def bank_lines(exact: Signed) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = exact.get(
        f"{BE}/sync/Financial/TransactionLines",
        **{
            "$select": "Timestamp,EntryID,AmountDC,GLAccountCode",
            "$filter": "JournalCode eq '20'",
        },
    ).json()["d"]["results"]
    return sorted(rows, key=lambda row: row["Timestamp"])


def total(rows: dict[str, dict[str, Any]], status: int | None = None) -> Decimal:
    return sum(
        (
            Decimal(str(row["AmountDC"]))
            for row in rows.values()
            if status is None or row["Status"] == status
        ),
        Decimal(0),
    )


# 1. A partial payment


def test_partial_payment_splits_the_paid_part_into_a_new_term(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    feed = Feed(exact)
    [original] = receivables(exact, entry["EntryID"])

    paid = pay(exact, entry["EntryID"], "21.50")

    assert paid.status_code == 200, paid.text
    changed = feed.changes()
    assert set(changed) == set(receivables(exact, entry["EntryID"]))
    [split] = set(changed) - {original}
    assert changed[original] == {
        **changed[original],
        "AmountDC": 99.5,
        "Status": 20,
        "IsFullyPaid": False,
        "LastPaymentDate": None,
    }
    assert changed[split] == {
        **changed[split],
        "TransactionEntryID": entry["EntryID"],
        "LineType": 20,
        "AmountDC": 21.5,
        "Status": 50,
        "IsFullyPaid": True,
        "LastPaymentDate": exact_date("2026-11-20"),
        "YourRef": "F-1",
        "EntryNumber": entry["EntryNumber"],
    }
    rows = receivables(exact, entry["EntryID"])
    assert total(rows) == Decimal("121.00")
    assert total(rows, status=50) == Decimal("21.50")
    assert rows[split]["EndDate"] == exact_date("2026-11-20")
    assert (rows[split]["EndYear"], rows[split]["EndPeriod"]) == (2026, 11)
    assert rows[original]["EndDate"] is None
    assert outstanding(exact, "F-1") == [99.5]
    assert feed.changes() == {}


def test_partial_payment_gives_the_new_term_its_own_entry_id(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))

    answer = pay(exact, entry["EntryID"], "21.00").json()

    assert answer == {
        **answer,
        "status": 20,
        "is_fully_paid": False,
        "open_amount": 100.0,
        "paid_amount": 21.0,
        "credits": [],
    }
    first, second = answer["terms"]
    assert (first["amount_dc"], first["status"], first["end_date"]) == (100, 20, None)
    assert (second["amount_dc"], second["status"]) == (21, 50)
    assert second["end_date"] == "2026-11-20"
    assert second["id"] != first["id"]
    assert len({first["entry_id"], second["entry_id"], entry["EntryID"]}) == 3
    assert {first["transaction_entry_id"], second["transaction_entry_id"]} == {
        entry["EntryID"]
    }
    # Everything else is the invoice's (read inside: not all of it is served).
    records = exact.sandbox.divisions[BE].records("receivables")
    kept, new = records[first["id"]], records[second["id"]]
    same = {
        name: kept[name]
        for name in (
            "TransactionID",
            "YourRef",
            "EntryNumber",
            "InvoiceNumber",
            "Account",
            "Journal",
            "DueDate",
            "InvoiceDate",
            "Currency",
            "TransactionAmountDC",
        )
    }
    assert new == {**new, **same}
    row = exact.sandbox.divisions[BE].records("payment_terms")[second["id"]]
    assert row["EntryID"] == second["entry_id"]


# 2. A payment in full


def test_payment_in_full_closes_the_open_term_without_a_new_one(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    feed = Feed(exact)
    [original] = receivables(exact, entry["EntryID"])

    answer = pay(exact, entry["EntryID"], "121.00").json()

    changed = feed.changes()
    assert list(changed) == [original]
    assert changed[original] == {
        **changed[original],
        "AmountDC": 121.0,
        "Status": 50,
        "IsFullyPaid": True,
        "LastPaymentDate": exact_date("2026-11-20"),
    }
    assert (answer["status"], answer["is_fully_paid"]) == (50, True)
    assert (answer["open_amount"], answer["paid_amount"]) == (0, 121)
    assert list(receivables(exact, entry["EntryID"])) == [original]
    assert outstanding(exact, "F-1") == []
    assert [(row["GLAccountCode"], row["AmountDC"]) for row in bank_lines(exact)] == [
        ("550000", 121.0),
        ("400000", -121.0),
    ]
    assert feed.changes() == {}


def test_second_payment_pays_the_rest_in_full(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    pay(exact, entry["EntryID"], "21.00")
    feed = Feed(exact)

    pay(exact, entry["EntryID"], "100.00", day="2026-12-02")

    changed = feed.changes()
    rows = receivables(exact, entry["EntryID"])
    assert len(changed) == 1 and len(rows) == 2
    [row] = changed.values()
    assert (row["AmountDC"], row["Status"]) == (100, 50)
    assert row["LastPaymentDate"] == exact_date("2026-12-02")
    assert total(rows, status=50) == Decimal("121.00")
    assert outstanding(exact, "F-1") == []


# 3. An over-payment


def test_over_payment_leaves_an_open_credit_of_the_bank_entry(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    feed = Feed(exact)
    [original] = receivables(exact, entry["EntryID"])

    answer = pay(exact, entry["EntryID"], "150.00").json()

    changed = feed.changes()
    [credit] = set(changed) - {original}
    lines = bank_lines(exact)
    assert [(row["GLAccountCode"], row["AmountDC"]) for row in lines] == [
        ("550000", 150.0),
        ("400000", -150.0),
    ]
    assert changed[original] == {**changed[original], "AmountDC": 121, "Status": 50}
    assert changed[credit] == {
        **changed[credit],
        "TransactionEntryID": lines[0]["EntryID"],
        "AmountDC": -29.0,
        "Status": 20,
        "IsFullyPaid": False,
        "YourRef": "F-1",
    }
    assert total(receivables(exact, entry["EntryID"])) == Decimal("121.00")
    assert outstanding(exact, "F-1") == [-29.0]
    assert answer == {**answer, "status": 50, "is_fully_paid": True, "open_amount": 0}
    assert [(c["amount_dc"], c["status"]) for c in answer["credits"]] == [(-29, 20)]


def test_over_payment_after_a_partial_one_never_pays_past_the_invoice(
    exact: Signed,
) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    pay(exact, entry["EntryID"], "100.00")

    answer = pay(exact, entry["EntryID"], "50.00").json()

    rows = receivables(exact, entry["EntryID"])
    assert sorted(row["AmountDC"] for row in rows.values()) == [21, 100]
    assert total(rows, status=50) == Decimal("121.00")
    assert answer["paid_amount"] == 121
    assert [c["amount_dc"] for c in answer["credits"]] == [-29]
    assert outstanding(exact, "F-1") == [-29.0]


# 4. Reopening


def test_reopening_unmatches_the_newest_paid_term_first(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    first = pay(exact, entry["EntryID"], "100.00").json()
    second = pay(exact, entry["EntryID"], "21.00").json()
    older = next(t["id"] for t in first["terms"] if t["status"] == 50)
    newer = next(t["id"] for t in second["terms"] if t["id"] != older)
    feed = Feed(exact)

    answer = pay(exact, entry["EntryID"], "-50.00", day="2026-12-01").json()

    changed = feed.changes()
    [reopened_part] = set(changed) - {older, newer}
    assert changed[newer] == {
        **changed[newer],
        "AmountDC": 21.0,
        "Status": 20,
        "IsFullyPaid": False,
        "LastPaymentDate": None,
    }
    assert changed[older] == {**changed[older], "AmountDC": 71.0, "Status": 50}
    assert changed[reopened_part] == {
        **changed[reopened_part],
        "AmountDC": 29.0,
        "Status": 20,
        "IsFullyPaid": False,
    }
    rows = receivables(exact, entry["EntryID"])
    assert rows[newer]["EndDate"] is None
    assert total(rows) == Decimal("121.00")
    assert total(rows, status=50) == Decimal("71.00")
    assert outstanding(exact, "F-1") == [21.0, 29.0]
    assert (answer["status"], answer["open_amount"]) == (20, 50)
    reversal = bank_lines(exact)[-2:]
    assert [(row["GLAccountCode"], row["AmountDC"]) for row in reversal] == [
        ("550000", -50.0),
        ("400000", 50.0),
    ]
    assert feed.changes() == {}


def test_reopened_terms_are_paid_again_in_booking_order(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    pay(exact, entry["EntryID"], "121.00")
    pay(exact, entry["EntryID"], "-121.00")

    answer = pay(exact, entry["EntryID"], "121.00").json()

    assert (answer["status"], answer["paid_amount"]) == (50, 121)
    assert [t["amount_dc"] for t in answer["terms"]] == [121]
    assert outstanding(exact, "F-1") == []


def test_reopening_more_than_was_paid_is_refused(exact: Signed) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    pay(exact, entry["EntryID"], "21.00")
    feed = Feed(exact)

    refused = pay(exact, entry["EntryID"], "-21.01")
    zero = pay(exact, entry["EntryID"], "0")

    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        f"Only 21.00 is paid on entry {entry['EntryNumber']}; 21.01 cannot be reopened."
    )
    assert zero.status_code == 400
    assert feed.changes() == {}
    assert outstanding(exact, "F-1") == [100.0]


def test_reopening_an_over_payment_takes_back_the_credit_first(
    exact: Signed,
) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    paid = pay(exact, entry["EntryID"], "150.00").json()
    [credit] = paid["credits"]
    feed = Feed(exact)

    answer = pay(exact, entry["EntryID"], "-29.00").json()

    deleted = exact.get(
        f"{BE}/sync/Deleted",
        **{"$select": "EntityKey,EntityType", "$filter": "EntityType eq 10"},
    ).json()["d"]["results"]
    assert feed.changes() == {}  # the invoice's term stays paid
    assert [(row["EntityKey"], row["EntityType"]) for row in deleted] == [
        (credit["id"], 10)
    ]
    assert (answer["status"], answer["credits"]) == (50, [])
    assert outstanding(exact, "F-1") == []
    assert [row["AmountDC"] for row in bank_lines(exact)[-2:]] == [-29.0, 29.0]


# 5. Netting a credit note


def test_netting_settles_invoice_and_credit_note_without_bank(exact: Signed) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account, your_ref="F-1")
    note = book(exact, "-20.00", account, your_ref="CN-1")
    [invoice_term] = receivables(exact, invoice["EntryID"])
    [note_term] = receivables(exact, note["EntryID"])
    feed = Feed(exact)

    answer = match(exact, invoice["EntryID"], note["EntryID"], date="2026-11-25")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["amount"] == 24.2
    changed = feed.changes()
    [split] = set(changed) - {invoice_term, note_term}
    assert changed[invoice_term] == {**changed[invoice_term], "AmountDC": 96.8}
    assert changed[invoice_term]["Status"] == 20
    assert changed[split] == {
        **changed[split],
        "TransactionEntryID": invoice["EntryID"],
        "AmountDC": 24.2,
        "Status": 50,
        "LastPaymentDate": exact_date("2026-11-25"),
    }
    assert changed[note_term] == {
        **changed[note_term],
        "AmountDC": -24.2,
        "Status": 50,
        "IsFullyPaid": True,
    }
    assert outstanding(exact, "F-1") == [96.8]
    assert outstanding(exact, "CN-1") == []
    assert bank_lines(exact) == []
    invoice_out, note_out = body["entries"]
    assert (invoice_out["open_amount"], invoice_out["paid_amount"]) == (96.8, 24.2)
    assert (note_out["status"], note_out["is_fully_paid"]) == (50, True)
    assert feed.changes() == {}


def test_netting_a_larger_credit_note_splits_the_credit_note(exact: Signed) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account, your_ref="F-1")
    note = book(exact, "-150.00", account, your_ref="CN-1")

    body = match(exact, note["EntryID"], invoice["EntryID"]).json()

    today = exact.http.get("/_sandbox/clock").json()["now"][:10]
    note_out, invoice_out = body["entries"]
    assert body["amount"] == 121
    assert (invoice_out["status"], invoice_out["is_fully_paid"]) == (50, True)
    assert invoice_out["terms"][0]["end_date"] == today
    assert [(t["amount_dc"], t["status"]) for t in note_out["terms"]] == [
        (-60.5, 20),
        (-121, 50),
    ]
    assert outstanding(exact, "CN-1") == [-60.5]
    assert outstanding(exact, "F-1") == []


def test_reopening_a_netted_invoice_reopens_the_credit_note_too(
    exact: Signed,
) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account, your_ref="F-1")
    note = book(exact, "-20.00", account, your_ref="CN-1")
    match(exact, invoice["EntryID"], note["EntryID"])

    answer = pay(exact, invoice["EntryID"], "-24.20").json()

    assert (answer["open_amount"], answer["paid_amount"]) == (121, 0)
    assert outstanding(exact, "F-1") == [24.2, 96.8]
    assert outstanding(exact, "CN-1") == [-24.2]
    assert bank_lines(exact) == []


def test_an_over_payments_credit_nets_with_the_next_invoice(exact: Signed) -> None:
    account = customer(exact, BE)
    first = book(exact, "100.00", account, your_ref="F-1")
    second = book(exact, "100.00", account, your_ref="F-2")
    [credit] = pay(exact, first["EntryID"], "150.00").json()["credits"]

    body = match(exact, second["EntryID"], credit["transaction_entry_id"]).json()

    assert body["amount"] == 29
    assert outstanding(exact, "F-2") == [92.0]
    assert outstanding(exact, "F-1") == []


def test_a_credit_note_refund_counts_in_its_direction(exact: Signed) -> None:
    note = book(exact, "-100.00", customer(exact, BE), your_ref="CN-1")

    answer = pay(exact, note["EntryID"], "21.00").json()

    assert [(t["amount_dc"], t["status"]) for t in answer["terms"]] == [
        (-100, 20),
        (-21, 50),
    ]
    assert outstanding(exact, "CN-1") == [-100.0]
    assert [(row["GLAccountCode"], row["AmountDC"]) for row in bank_lines(exact)] == [
        ("550000", -21.0),
        ("400000", 21.0),
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("two invoices", "are both invoices; match an invoice with a credit note."),
        ("other account", "belong to different accounts"),
        ("other side", "only entries of one side match."),
        ("same entry", "Name two different entries to match."),
        ("nothing open", "Nothing is open on entry"),
    ],
)
def test_netting_refuses_entries_that_do_not_pair(
    exact: Signed, case: str, message: str
) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account)
    others = {
        "two invoices": lambda: book(exact, "10.00", account)["EntryID"],
        "other account": lambda: book(
            exact, "-10.00", customer(exact, BE, code="1002")
        )["EntryID"],
        "other side": lambda: purchase_credit(exact),
        "same entry": lambda: invoice["EntryID"],
    }
    if case == "nothing open":
        pay(exact, invoice["EntryID"], "121.00")
        other = book(exact, "-10.00", account)["EntryID"]
    else:
        other = others[case]()
    feed = Feed(exact)

    refused = match(exact, invoice["EntryID"], other)

    assert refused.status_code == 400
    assert message in refused.json()["detail"]
    assert feed.changes() == {}


def test_netting_unknown_entry_is_404(exact: Signed) -> None:
    invoice = book(exact, "100.00", customer(exact, BE))

    missing = match(exact, invoice["EntryID"], "00000000-0000-0000-0000-0000000000aa")
    no_division = exact.http.post(
        "/_sandbox/divisions/4242/match",
        json={"entry_ids": [invoice["EntryID"], invoice["EntryID"]]},
    )

    assert missing.status_code == no_division.status_code == 404


def purchase_credit(exact: Signed) -> str:
    posted = exact.post(
        f"{BE}/purchaseentry/PurchaseEntries",
        {
            "Journal": "60",
            "Supplier": supplier(exact, BE),
            "PurchaseEntryLines": [
                {"GLAccount": gl_id(exact, BE, "604000"), "AmountFC": -10}
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    return str(posted.json()["d"]["EntryID"])


# The purchase side


def test_purchase_partial_payment_splits_the_payable(exact: Signed) -> None:
    posted = exact.post(
        f"{BE}/purchaseentry/PurchaseEntries",
        {
            "Journal": "60",
            "Supplier": supplier(exact, BE),
            "YourRef": "INK-9",
            "PurchaseEntryLines": [
                {"GLAccount": gl_id(exact, BE, "604000"), "AmountFC": "50.00"}
            ],
        },
    ).json()["d"]  # 60.50 with the account's 21% VAT
    feed = Feed(exact)

    pay(exact, posted["EntryID"], "20.00")

    changed = feed.changes()
    payments = exact.get(
        f"{BE}/cashflow/Payments",
        **{
            "$select": "AmountDC,Status",
            "$filter": f"TransactionEntryID eq guid'{posted['EntryID']}'",
        },
    ).json()["d"]["results"]
    listed = exact.get(
        f"{BE}/read/financial/PayablesList",
        **{"$select": "Amount", "$filter": "YourRef eq 'INK-9'"},
    ).json()["d"]["results"]
    assert {row["LineType"] for row in changed.values()} == {22}
    assert sorted((row["AmountDC"], row["Status"]) for row in payments) == [
        (20, 50),
        (40.5, 20),
    ]
    assert [row["Amount"] for row in listed] == [40.5]
    assert [(row["GLAccountCode"], row["AmountDC"]) for row in bank_lines(exact)] == [
        ("550000", -20.0),
        ("440000", 20.0),
    ]


# The web view


def test_ui_offers_to_net_an_invoice_with_a_credit_note(exact: Signed) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account, your_ref="F-1")
    note = book(exact, "-20.00", account, your_ref="CN-1")

    page = exact.http.get(f"/_sandbox/ui/{BE}").text
    netted = exact.http.post(
        f"/_sandbox/ui/{BE}/match",
        data={"entry_id": invoice["EntryID"], "credit_id": note["EntryID"]},
        follow_redirects=False,
    )
    after = exact.http.get(netted.headers["location"]).text

    assert f"Net with credit note {note['EntryNumber']}</button>" in page
    assert netted.status_code == 303, netted.text
    assert (
        f"Netted 24.20 EUR between entry {invoice['EntryNumber']} and "
        f"entry {note['EntryNumber']}." in after
    )
    assert "Partly paid (96.80 open)" in after
    assert "Net with credit note" not in after
    assert outstanding(exact, "F-1") == [96.8]


def test_ui_netting_that_does_not_pair_is_a_400_page(exact: Signed) -> None:
    account = customer(exact, BE)
    invoice = book(exact, "100.00", account)
    other = book(exact, "10.00", account)

    answer = exact.http.post(
        f"/_sandbox/ui/{BE}/match",
        data={"entry_id": invoice["EntryID"], "credit_id": other["EntryID"]},
    )

    assert answer.status_code == 400
    assert "are both invoices" in answer.text


def test_ui_over_payment_says_what_is_left_as_a_credit(exact: Signed) -> None:
    invoice = book(exact, "100.00", customer(exact, BE))

    paid = exact.http.post(
        f"/_sandbox/ui/{BE}/pay",
        data={"entry_id": invoice["EntryID"], "amount": "150", "date": "2026-12-01"},
        follow_redirects=False,
    )
    page = exact.http.get(paid.headers["location"]).text

    assert "it is paid in full, 29.00 is left as a credit on the account." in page
    assert "Net with payment of 2026-12-01" not in page  # no open invoice left


def test_a_term_from_an_older_state_file_is_split_on_its_next_payment(
    exact: Signed,
) -> None:
    entry = book(exact, "100.00", customer(exact, BE))
    division = exact.sandbox.divisions[BE]
    # Before split terms a partial payment was a hidden sum on the one term.
    [term] = division.find("receivables", TransactionEntryID=entry["EntryID"])
    term["_paid"] = Decimal("21.00")

    answer = pay(exact, entry["EntryID"], "100.00").json()

    assert [(t["amount_dc"], t["status"]) for t in answer["terms"]] == [
        (100, 50),
        (21, 50),
    ]
    assert (answer["status"], answer["open_amount"]) == (50, 0)
    assert "_paid" not in term
