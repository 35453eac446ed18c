"""Booking entries: what Exact refuses (HTTP 500 with its own text) and what
it derives (API.md §6.6-§6.8, §7.6-§7.9)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.conftest import (
    BE,
    NL,
    Signed,
    customer,
    error_of,
    gl_id,
    sales_entry,
    sign_in,
    supplier,
)

SALES = f"{BE}/salesentry/SalesEntries"


def post_sales(exact: Signed, body: dict[str, Any], division: int = BE) -> Any:
    return exact.post(f"{division}/salesentry/SalesEntries", body)


def test_entry_totals_vat_and_numbers_are_derived(exact: Signed) -> None:
    entry = post_sales(exact, sales_entry(exact, BE)).json()["d"]
    second = post_sales(
        exact, sales_entry(exact, BE, Customer=entry["Customer"])
    ).json()["d"]

    assert entry["AmountFC"] == 151.86  # 125.50 + 21 % per line, half up
    assert entry["VATAmountFC"] == 26.36
    assert entry["AmountDC"] == 151.86
    assert (entry["Type"], entry["Status"]) == (20, 20)
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2026, 11)
    assert entry["EntryNumber"] == 26700001 == entry["InvoiceNumber"]
    assert second["EntryNumber"] == 26700002
    assert entry["Journal"] == "70"
    assert entry["PaymentCondition"] == "30"


def test_negative_lines_make_a_credit_note(exact: Signed) -> None:
    body = sales_entry(exact, BE)
    for line in body["SalesEntryLines"]:
        line["AmountFC"] = -line["AmountFC"]

    entry = post_sales(exact, body).json()["d"]

    assert entry["Type"] == 21
    assert entry["AmountFC"] == -151.86


def test_purchase_entry_types_and_supplier_rules(exact: Signed) -> None:
    vendor = supplier(exact, BE)
    not_vendor = customer(exact, BE)
    cost = gl_id(exact, BE, "604000")
    body = {
        "Journal": "60",
        "Supplier": vendor,
        "EntryDate": "2026-11-03",
        "PurchaseEntryLines": [{"GLAccount": cost, "AmountFC": 200, "VATCode": "A21"}],
    }

    booked = exact.post(f"{BE}/purchaseentry/PurchaseEntries", body)
    refused = exact.post(
        f"{BE}/purchaseentry/PurchaseEntries", body | {"Supplier": not_vendor}
    )

    assert booked.status_code == 201
    assert booked.json()["d"]["Type"] == 30
    assert booked.json()["d"]["AmountFC"] == 242.0
    assert refused.status_code == 500
    assert error_of(refused) == "Ongeldig: Leverancier (Type)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Journal": None}, "Verplicht: Dagboek"),
        ({"Journal": "77"}, "Ongeldige referentie: Journals"),
        ({"Journal": "60"}, "Ongeldig: Dagboek"),
        ({"Customer": None}, "Verplicht: Relatie"),
        (
            {"Customer": "00000000-0000-0000-0000-000000000001"},
            "Ongeldige referentie: Relatie",
        ),
        ({"SalesEntryLines": []}, "Verplicht: Boekingsregels"),
        ({"PaymentCondition": "99"}, "Ongeldige referentie: Betalingsconditie"),
        ({"EntryDate": "2020-01-15"}, "Ongeldig: Periode 2020-01"),
    ],
)
def test_entry_refused_as_exact_refuses(
    exact: Signed, change: dict[str, Any], message: str
) -> None:
    response = post_sales(exact, sales_entry(exact, BE) | change)

    assert response.status_code == 500
    assert error_of(response) == message


def test_account_that_is_not_a_customer_is_refused(exact: Signed) -> None:
    prospect = customer(exact, BE, "3001", Status="P")

    response = post_sales(exact, sales_entry(exact, BE, Customer=prospect))

    assert error_of(response) == "Ongeldig: Klant (Type)"


@pytest.mark.parametrize("code", ["400000", "451000", "440000"])
def test_receivable_payable_or_vat_account_on_a_line_is_refused(
    exact: Signed, code: str
) -> None:
    body = sales_entry(exact, BE)
    body["SalesEntryLines"][0]["GLAccount"] = gl_id(exact, BE, code)

    response = post_sales(exact, body)

    assert error_of(response) == "Ongeldig: Grootboekrekeningtype"


def test_line_problems_are_all_reported_together(exact: Signed) -> None:
    body = sales_entry(exact, BE, Journal=None)
    body["SalesEntryLines"][0]["GLAccount"] = "00000000-0000-0000-0000-000000000002"
    body["SalesEntryLines"][1]["VATCode"] = "A21"  # a purchase code

    response = post_sales(exact, body)

    assert error_of(response).split("\n") == [
        "Verplicht: Dagboek",
        "Ongeldige referentie: Grootboekrekening",
        "Ongeldig: Btw-code",
    ]


def test_messages_follow_the_users_language(exact: Signed) -> None:
    exact.http.post(
        "/_sandbox/users",
        json={"username": "anne", "password": "pw", "language": "en-GB"},
    )
    english = sign_in(exact.http, exact.sandbox, [BE], username="anne")

    response = post_sales(english, sales_entry(english, BE, Journal="60"))

    assert error_of(response) == "Invalid: Diary"


def test_closed_period_is_refused(exact: Signed) -> None:
    exact.http.post(
        f"/_sandbox/divisions/{BE}/periods/close", json={"year": 2026, "period": 11}
    )

    response = post_sales(exact, sales_entry(exact, BE))

    assert error_of(response) == "Periode is afgesloten: 2026-11"


def test_entry_number_in_use_is_refused(exact: Signed) -> None:
    body = sales_entry(exact, BE, EntryNumber=26700500)
    post_sales(exact, body)

    again = post_sales(exact, body | {"YourRef": "other"})

    assert error_of(again) == "In gebruik: Boekstuknummer"


def test_client_entry_id_is_kept_and_cannot_be_booked_twice(exact: Signed) -> None:
    entry_id = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
    body = sales_entry(exact, BE, EntryID=entry_id)

    first = post_sales(exact, body)
    second = post_sales(exact, body)

    assert first.json()["d"]["EntryID"] == entry_id
    assert second.status_code == 500
    assert error_of(second) == "Gegeven bestaat reeds."


def test_vat_amount_that_does_not_match_the_code_is_not_balanced(
    exact: Signed,
) -> None:
    body = sales_entry(exact, BE)
    body["SalesEntryLines"][0]["VATAmountFC"] = 25.00  # 21 % of 100 is 21.00

    response = post_sales(exact, body)

    assert error_of(response).startswith("De boeking is niet in evenwicht op:")


def test_vat_amount_within_a_cent_is_taken_as_sent(exact: Signed) -> None:
    revenue = gl_id(exact, BE, "700000")
    lines = [
        {"GLAccount": revenue, "AmountFC": 0.35, "VATCode": "V21", "VATAmountFC": vat}
        for vat in (0.08, 0.07, 0.07)  # 0.22 on the total, spread
    ]

    entry = post_sales(exact, sales_entry(exact, BE, SalesEntryLines=lines)).json()["d"]

    assert entry["VATAmountFC"] == 0.22  # per line Exact would make 0.21


def test_inclusive_code_with_exclusive_amounts_is_refused(exact: Signed) -> None:
    revenue = gl_id(exact, NL, "8000")
    body = {
        "Journal": "70",
        "Customer": customer(exact, NL),
        "EntryDate": "2026-11-14",
        "SalesEntryLines": [
            {"GLAccount": revenue, "AmountFC": 100, "VATCode": "4", "VATAmountFC": 21}
        ],
    }

    response = post_sales(exact, body, NL)

    assert error_of(response) == (
        "Invoer 1: Het bedrag van de BTW regel met BTW code 4 komt niet overeen met "
        "het totaal aan BTW-bedragen in de grondslagregels."
    )


def test_read_only_amount_on_a_line_books_zero(exact: Signed) -> None:
    body = sales_entry(exact, BE)
    body["SalesEntryLines"] = [
        {"GLAccount": gl_id(exact, BE, "700000"), "AmountDC": 100, "VATCode": "V21"}
    ]

    entry = post_sales(exact, body).json()["d"]

    assert entry["AmountFC"] == 0.0


def test_malformed_guid_and_unknown_property(exact: Signed) -> None:
    body = sales_entry(exact, BE)

    guid = post_sales(exact, body | {"Customer": "not-a-guid"})
    unknown = post_sales(exact, body | {"Colour": "red"})
    wrong_type = post_sales(exact, body | {"EntryNumber": "abc"})

    assert (guid.status_code, error_of(guid)) == (500, "Niet herkende GUID-indeling.")
    assert unknown.status_code == 400
    assert "The property 'Colour' does not exist" in error_of(unknown)
    assert wrong_type.status_code == 400
    assert "System.Int32" in error_of(wrong_type)


def test_due_date_follows_the_accounts_payment_condition(exact: Signed) -> None:
    account = customer(exact, BE, PaymentConditionSales="15")

    entry = post_sales(exact, sales_entry(exact, BE, Customer=account)).json()["d"]

    assert entry["PaymentCondition"] == "15"
    assert entry["DueDate"] == "/Date(1795910400000)/"  # 2026-11-29


def test_put_changes_the_header_and_answers_no_content(exact: Signed) -> None:
    entry = post_sales(exact, sales_entry(exact, BE)).json()["d"]
    url = f"{SALES}(guid'{entry['EntryID']}')"

    changed = exact.call("PUT", url, json={"Description": "corrected"})
    with_lines = exact.call("PUT", url, json={"SalesEntryLines": []})
    read = exact.get(url).json()["d"]

    assert (changed.status_code, changed.content) == (204, b"")
    assert read["Description"] == "corrected"
    assert with_lines.status_code == 400
    assert "Binding to new entities" in error_of(with_lines)


def test_delete_removes_the_entry_and_records_it_for_sync(exact: Signed) -> None:
    entry = post_sales(exact, sales_entry(exact, BE)).json()["d"]

    deleted = exact.call("DELETE", f"{SALES}(guid'{entry['EntryID']}')")
    gone = exact.get(f"{SALES}(guid'{entry['EntryID']}')")
    rows = exact.get(
        f"{BE}/sync/Deleted", **{"$select": "EntityKey,EntityType,Timestamp"}
    ).json()["d"]["results"]

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert gone.status_code == 404
    assert {row["EntityType"] for row in rows} == {1, 10}


def test_account_codes_are_padded_and_found_padded(exact: Signed) -> None:
    customer(exact, BE, "255")
    padded = " " * 15 + "255"

    found = exact.get(
        f"{BE}/crm/Accounts",
        **{"$select": "Code,IsSales", "$filter": f"Code eq '{padded}'"},
    ).json()["d"]["results"]
    unpadded = exact.get(
        f"{BE}/crm/Accounts", **{"$select": "Code", "$filter": "Code eq '255'"}
    ).json()["d"]["results"]
    duplicate = exact.post(f"{BE}/crm/Accounts", {"Code": "255", "Name": "Twin"})

    assert found[0]["Code"] == padded
    assert found[0]["IsSales"] is True
    assert unpadded == []
    assert error_of(duplicate) == "Gegeven bestaat reeds."


def test_vat_codes_are_padded_with_fractions(exact: Signed) -> None:
    rows = exact.get(
        f"{NL}/vat/VATCodes", **{"$select": "Code,Percentage,Type"}
    ).json()["d"]["results"]

    high = next(row for row in rows if row["Code"] == "2  ")
    assert (high["Percentage"], high["Type"]) == (0.21, "E")


def test_payment_partly_then_fully_then_reopened(exact: Signed) -> None:
    entry = post_sales(exact, sales_entry(exact, BE)).json()["d"]

    def pay(amount: str) -> Any:
        return exact.http.post(
            f"/_sandbox/divisions/{BE}/payments",
            json={"entry_id": entry["EntryID"], "amount": amount, "date": "2026-11-20"},
        ).json()

    def terms() -> dict[str, dict[str, Any]]:
        rows = exact.get(
            f"{BE}/sync/Cashflow/PaymentTerms",
            **{
                "$select": "ID,Timestamp,IsFullyPaid,Status,AmountDC",
                "$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'",
            },
        ).json()["d"]["results"]
        return {row["ID"]: row for row in rows}

    before = terms()
    partly = pay("100.00")
    after_part = terms()
    fully = pay("51.86")
    after_full = terms()
    reopened = pay("-51.86")
    after_reopen = terms()

    [original] = before
    [split] = set(after_part) - {original}
    assert partly == {**partly, "is_fully_paid": False, "open_amount": 51.86}
    assert after_part[original]["Timestamp"] > before[original]["Timestamp"]
    assert (after_part[original]["Status"], after_part[original]["AmountDC"]) == (
        20,
        51.86,
    )
    assert (after_part[split]["Status"], after_part[split]["AmountDC"]) == (50, 100)
    assert fully["is_fully_paid"] is True
    assert (after_full[original]["Status"], after_full[original]["IsFullyPaid"]) == (
        50,
        True,
    )
    assert (reopened["status"], reopened["open_amount"]) == (20, 51.86)
    assert after_reopen[original]["Status"] == 20
    assert after_reopen[original]["Timestamp"] > after_full[original]["Timestamp"]
    assert after_reopen[split] == after_full[split] == after_part[split]


def test_text_that_cannot_be_encoded_is_refused_not_stored(exact: Signed) -> None:
    body = json.dumps(sales_entry(exact, BE, YourRef="a\ud800b"))  # escaped: \ud800
    response = exact.call(
        "POST",
        f"{BE}/salesentry/SalesEntries",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    listing = exact.get(f"{BE}/salesentry/SalesEntries", **{"$select": "YourRef"})

    assert response.status_code == 400
    assert listing.json()["d"]["results"] == []


@pytest.mark.parametrize("sent", [{}, {"VATAmountFC": 0}, {"VATAmountFC": 42.0}])
def test_charged_purchase_code_self_assesses_vat_and_owes_the_net(
    exact: Signed, sent: dict[str, Any]
) -> None:
    body = {
        "Journal": "60",
        "Supplier": supplier(exact, BE),
        "EntryDate": "2026-11-03",
        "YourRef": "RC-1",
        "PurchaseEntryLines": [
            {"GLAccount": gl_id(exact, BE, "604000"), "AmountFC": 200, "VATCode": "AMC"}
            | sent
        ],
    }

    response = exact.post(f"{BE}/purchaseentry/PurchaseEntries", body)
    entry = response.json()["d"]
    payable = exact.get(
        f"{BE}/read/financial/PayablesList", **{"$select": "Amount,YourRef"}
    ).json()["d"]["results"]
    term = exact.get(
        f"{BE}/cashflow/Payments",
        **{
            "$select": "AmountFC,TransactionEntryID",
            "$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'",
        },
    ).json()["d"]["results"]
    ledger = exact.get(
        f"{BE}/sync/Financial/TransactionLines",
        **{"$select": "EntryID,AmountFC,GLAccountCode"},
    ).json()["d"]["results"]
    rows = [row for row in ledger if row["EntryID"] == entry["EntryID"]]
    amounts = {row["GLAccountCode"].strip(): row["AmountFC"] for row in rows}

    assert response.status_code == 201, response.text
    assert (entry["AmountFC"], entry["VATAmountFC"], entry["Type"]) == (200.0, 42.0, 30)
    assert [row["Amount"] for row in payable] == [200.0]
    assert [row["AmountFC"] for row in term] == [200.0]
    assert amounts == {
        "604000": 200.0,
        "411000": 42.0,  # VAT to claim
        "451056": -42.0,  # VAT to pay
        "440000": -200.0,  # the payable: net
    }
    assert len(rows) == 4
    assert sum(row["AmountFC"] for row in rows) == 0


def test_charged_purchase_code_with_other_vat_is_not_balanced(exact: Signed) -> None:
    line = {"GLAccount": gl_id(exact, BE, "604000"), "AmountFC": 200}
    body = {
        "Journal": "60",
        "Supplier": supplier(exact, BE),
        "EntryDate": "2026-11-03",
        "PurchaseEntryLines": [line | {"VATCode": "AMC", "VATAmountFC": 10}],
    }
    on_sales = sales_entry(exact, BE, SalesEntryLines=[line | {"VATCode": "AMC"}])

    refused = exact.post(f"{BE}/purchaseentry/PurchaseEntries", body)
    sales = post_sales(exact, on_sales)

    assert error_of(refused).startswith("De boeking is niet in evenwicht op:")
    assert sales.status_code == 500
