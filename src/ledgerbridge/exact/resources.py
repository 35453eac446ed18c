"""The Exact resources the sync engine uses, as small typed calls.

Each asks for the fields it needs (`$select`, API.md §6.4), filters with
Exact's literals and padded codes (§6.5, §7.1), and pages with `__next`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.odata import (
    datetime_literal,
    guid,
    int64,
    pad_account_code,
    string,
    unwrap,
)

Kind = Literal["sales", "purchase"]
ENTRIES = {
    "sales": "salesentry/SalesEntries",
    "purchase": "purchaseentry/PurchaseEntries",
}
LINES = {"sales": "SalesEntryLines", "purchase": "PurchaseEntryLines"}
PARTY = {"sales": "Customer", "purchase": "Supplier"}
FILTER_BATCH = 40  # OR-filters per call keep URLs short (API.md §6.4)

VAT_FIELDS = "ID,Code,Description,Percentage,Type,VATTransactionType,Charged,IsBlocked"
ACCOUNT_FIELDS = "ID,Code,Name,Status,IsSupplier,Blocked,VATNumber,Country"
ENTRY_FIELDS = "EntryID,EntryNumber,YourRef,Journal,EntryDate,AmountFC,VATAmountFC,Type"


def me(client: ExactClient) -> dict[str, Any]:
    return client.me()


def divisions(client: ExactClient) -> list[dict[str, Any]]:
    return list(
        client.rows("system/Divisions", {"$select": "Code,Description,Country"})
    )


def find_account(client: ExactClient, code: str) -> dict[str, Any] | None:
    """The account whose code is `code` (padded as Exact stores it)."""
    rows = client.get(
        "crm/Accounts",
        {
            "$select": ACCOUNT_FIELDS,
            "$filter": f"Code eq {string(pad_account_code(code))}",
        },
    )
    found = list(_rows(rows))
    return found[0] if found else None


def accounts_by_code(
    client: ExactClient, codes: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Many accounts in few calls: the bulk endpoint with OR filters."""
    wanted = sorted({pad_account_code(code) for code in codes})
    found: dict[str, dict[str, Any]] = {}
    for batch in _batches(wanted, FILTER_BATCH):
        expression = " or ".join(f"Code eq {string(code)}" for code in batch)
        for row in client.rows(
            "bulk/CRM/Accounts", {"$select": ACCOUNT_FIELDS, "$filter": expression}
        ):
            found[str(row["Code"]).strip()] = row
    return found


@dataclass(frozen=True)
class NewAccount:
    code: str
    name: str
    customer: bool = False
    supplier: bool = False
    vat_number: str | None = None
    country: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    email: str | None = None


def create_account(client: ExactClient, account: NewAccount) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Code": account.code,
        "Name": account.name,
        "Status": "C" if account.customer else None,
        "IsSupplier": account.supplier,
    }
    optional = {
        "VATNumber": account.vat_number,
        "Country": account.country,
        "AddressLine1": account.address,
        "Postcode": account.postcode,
        "City": account.city,
        "Email": account.email,
    }
    body.update({k: v for k, v in optional.items() if v})
    return client.post("crm/Accounts", {k: v for k, v in body.items() if v is not None})


def gl_accounts(client: ExactClient) -> list[dict[str, Any]]:
    return list(
        client.rows(
            "financial/GLAccounts",
            {"$select": "ID,Code,Description,Type,VATCode,IsBlocked"},
        )
    )


def vat_codes(client: ExactClient) -> list[dict[str, Any]]:
    return list(
        client.rows(
            "vat/VATCodes",
            {"$select": VAT_FIELDS},
        )
    )


def journals(client: ExactClient) -> list[dict[str, Any]]:
    return list(
        client.rows(
            "financial/Journals", {"$select": "ID,Code,Description,Type,IsBlocked"}
        )
    )


def payment_conditions(client: ExactClient) -> list[dict[str, Any]]:
    return list(
        client.rows(
            "cashflow/PaymentConditions",
            {"$select": "ID,Code,Description,PaymentDays,PaymentEndOfMonths"},
        )
    )


def create_entry(
    client: ExactClient, kind: Kind, body: dict[str, Any]
) -> dict[str, Any]:
    """POST a sales or purchase entry; raises `OutcomeUnknown` when the
    answer is lost, so the caller looks it up before trying again."""
    return client.post(ENTRIES[kind], body)


def find_entries(
    client: ExactClient, kind: Kind, your_ref: str, journal: str
) -> list[dict[str, Any]]:
    """Entries already booked with our reference in a journal (API.md §10.4)."""
    expression = f"YourRef eq {string(your_ref)} and Journal eq {string(journal)}"
    return list(
        client.rows(ENTRIES[kind], {"$select": ENTRY_FIELDS, "$filter": expression})
    )


def entries_between(
    client: ExactClient, kind: Kind, first: date, last: date, journal: str | None = None
) -> Iterator[dict[str, Any]]:
    """A period's entries, both days included, in pages of 60."""
    expression = (
        f"EntryDate ge {datetime_literal(first)} "
        f"and EntryDate le {datetime_literal(last)}"
    )
    if journal is not None:
        expression += f" and Journal eq {string(journal)}"
    return client.rows(ENTRIES[kind], {"$select": ENTRY_FIELDS, "$filter": expression})


def booked_between(
    client: ExactClient, journal: str, first: date, last: date
) -> dict[str, dict[str, Any]]:
    """Every entry of a journal in a period, in bulk: sales and purchase
    entries have no bulk endpoint, but their ledger lines do, 1,000 a page
    (API.md §7.6, §7.13), so a period costs a call or two, not one per
    invoice. Keyed by EntryID; each with its number, our YourRef, date and
    the customer's or supplier's code (from whichever line carries it)."""
    expression = (
        f"JournalCode eq {string(journal)} "
        f"and Date ge {datetime_literal(first)} and Date le {datetime_literal(last)}"
    )
    entries: dict[str, dict[str, Any]] = {}
    for row in client.rows(
        "bulk/Financial/TransactionLines",
        {
            "$select": "EntryID,EntryNumber,YourRef,JournalCode,Date,AccountCode",
            "$filter": expression,
        },
    ):
        entry = entries.setdefault(str(row["EntryID"]), row)
        if not entry.get("AccountCode") and row.get("AccountCode"):
            entry["AccountCode"] = row["AccountCode"]
    return entries


def create_document(
    client: ExactClient, subject: str, kind: Kind, account: str | None, day: date
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Subject": subject,
        "Type": 10 if kind == "sales" else 20,
        "DocumentDate": day.isoformat(),
    }
    if account:
        body["Account"] = account
    return client.post("documents/Documents", body)


def attach(
    client: ExactClient, document: str, file_name: str, content_base64: str
) -> dict[str, Any]:
    return client.post(
        "documents/DocumentAttachments",
        {"Document": document, "FileName": file_name, "Attachment": content_base64},
    )


def terms_of_entries(
    client: ExactClient, kind: Kind, entry_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Receivables (sales) or payments (purchase) of booked entries."""
    path = "cashflow/Receivables" if kind == "sales" else "cashflow/Payments"
    fields = "ID,TransactionEntryID,AmountDC,Status,LastPaymentDate,YourRef"
    if kind == "sales":
        fields += ",IsFullyPaid"
    found: list[dict[str, Any]] = []
    for batch in _batches(list(entry_ids), FILTER_BATCH):
        expression = " or ".join(f"TransactionEntryID eq {guid(e)}" for e in batch)
        found += client.rows(path, {"$select": fields, "$filter": expression})
    return found


def outstanding(client: ExactClient, kind: Kind) -> list[dict[str, Any]]:
    """Open items: `read/financial/ReceivablesList` or `PayablesList`."""
    path = (
        "read/financial/ReceivablesList"
        if kind == "sales"
        else "read/financial/PayablesList"
    )
    fields = "HID,AccountCode,Amount,EntryNumber,JournalCode,YourRef,DueDate"
    return list(client.rows(path, {"$select": fields}))


@dataclass(frozen=True)
class TermChanges:
    rows: list[dict[str, Any]]
    cursor: int


def payment_terms_since(client: ExactClient, cursor: int) -> TermChanges:
    """What changed in cash flow after `cursor` (a sync Timestamp), and the
    cursor to keep for next time (API.md §8)."""
    fields = (
        "ID,Timestamp,TransactionEntryID,LineType,AmountDC,AmountFC,IsFullyPaid,"
        "Status,LastPaymentDate,YourRef,EntryNumber"
    )
    rows = list(
        client.rows(
            "sync/Cashflow/PaymentTerms",
            {"$select": fields, "$filter": f"Timestamp gt {int64(cursor)}"},
        )
    )
    latest = max((int(row["Timestamp"]) for row in rows), default=cursor)
    return TermChanges(rows, latest)


def _rows(payload: Any) -> Iterator[dict[str, Any]]:
    rows, _ = unwrap(payload)
    yield from rows


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
