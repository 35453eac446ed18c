"""The bookkeeping rules: what a real ledger accepts, refuses and derives.

Booking a sales or purchase entry checks what Exact checks (API.md §6.8,
§7.6-§7.8, §10), derives what Exact derives (totals, VAT from the code,
entry numbers `YYJJnnnn`, due date, reporting period, type by sign), and
creates the entry's cash-flow term, its outstanding item, its general-ledger
lines and their sync timestamps (§7.11-§7.13, §8). Every message comes in
the user's language.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.sandbox.errors import (
    ENTRY_TYPE_NAMES,
    BusinessError,
    ExactError,
    text,
)
from ledgerbridge.sandbox.state import Division, Record, new_guid

CENT = Decimal("0.01")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # API.md §4.1: POST size


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Side:
    """What differs between sales and purchase entries."""

    name: str
    entity: str
    lines: str
    party: str
    party_name: str
    journal_type: int
    entries: str
    line_records: str
    terms: str
    outstanding: str
    types: tuple[int, int]  # (entry, credit note)
    vat_sides: frozenset[str]
    term_line_type: int
    document_type: int

    def is_party(self, account: Record) -> bool:
        if self.party == "Customer":
            return account.get("Status") == "C"
        return bool(account.get("IsSupplier"))


SALES = Side(
    "sales",
    "SalesEntry",
    "SalesEntryLines",
    "Customer",
    "CustomerName",
    20,
    "sales_entries",
    "sales_lines",
    "receivables",
    "receivables_list",
    (20, 21),
    frozenset({"S", "B"}),
    20,
    10,
)
PURCHASE = Side(
    "purchase",
    "PurchaseEntry",
    "PurchaseEntryLines",
    "Supplier",
    "SupplierName",
    22,
    "purchase_entries",
    "purchase_lines",
    "payables",
    "payables_list",
    (30, 31),
    frozenset({"P", "B"}),
    22,
    20,
)
SIDES = {SALES.entries: SALES, PURCHASE.entries: PURCHASE}


@dataclass
class Context:
    division: Division
    language: str
    now: datetime  # the division's local time

    def say(self, key: str, *args: object) -> str:
        return text(key, self.language, *args)


# Entries


def post_entry(
    ctx: Context, side: Side, header: dict[str, Any], lines: list[dict[str, Any]]
) -> Record:
    """Book a sales or purchase entry from converted values; raise
    `BusinessError` with every problem Exact would report."""
    division = ctx.division
    problems: list[str] = []

    journal = _journal(ctx, side, header.get("Journal"), problems)
    party = _party(ctx, side, header.get(side.party), problems)
    if not lines:
        problems.append(ctx.say("lines_missing"))
    checked = [
        _line(ctx, side, number, line, problems) for number, line in enumerate(lines, 1)
    ]
    entry_date = header.get("EntryDate") or ctx.now.replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    year, period = _period(ctx, header, entry_date, problems)
    condition = _payment_condition(
        ctx, side, header.get("PaymentCondition"), party, problems
    )
    entry_id = header.get("EntryID") or new_guid()
    if entry_id in division.records(side.entries):
        problems.append(ctx.say("already_exists"))
    if header.get("Document") and header["Document"] not in division.records(
        "documents"
    ):
        problems.append(ctx.say("document_unknown"))
    number = header.get("EntryNumber")
    if (
        number is not None
        and journal
        and _number_used(division, side, journal["Code"], number)
    ):
        problems.append(ctx.say("entry_number_used"))
    if problems:
        raise BusinessError(problems)
    assert journal is not None and party is not None

    rate = header.get("Rate") or Decimal(1)
    # VATBaseAmountFC is the net part: the amount itself for exclusive codes,
    # the amount less its VAT for inclusive ones. A charged (reverse-charge)
    # purchase line owes its supplier the net part only: its VAT is
    # self-assessed (charts.md §1.1, §8 point 2).
    total_fc = sum(
        (
            line["VATBaseAmountFC"]
            + (Decimal(0) if _charged(division, side, line) else line["VATAmountFC"])
            for line in checked
        ),
        Decimal(0),
    )
    # [I] The header's VATAmountFC keeps the self-assessed VAT of charged lines
    # too (VAT reported, not VAT owed to the supplier), so AmountFC is not
    # always net + VATAmountFC (docs/sandbox.md).
    vat_fc = sum((line["VATAmountFC"] for line in checked), Decimal(0))
    entry_type = side.types[0] if total_fc >= 0 else side.types[1]
    if number is None:
        number = _next_number(division, side, journal["Code"], year)

    entry: Record = {
        "EntryID": entry_id,
        "Journal": journal["Code"],
        "JournalDescription": journal["Description"],
        side.party: party["ID"],
        side.party_name: party["Name"],
        "EntryDate": entry_date,
        "DueDate": header.get("DueDate") or _due_date(entry_date, condition),
        "PaymentCondition": condition["Code"] if condition else None,
        "EntryNumber": number,
        "InvoiceNumber": number,
        "ReportingYear": year,
        "ReportingPeriod": period,
        "YourRef": header.get("YourRef"),
        "Description": header.get("Description"),
        "PaymentReference": header.get("PaymentReference"),
        "ExternalLinkReference": header.get("ExternalLinkReference"),
        "Document": header.get("Document"),
        "Currency": header.get("Currency") or division.currency,
        "Rate": rate,
        "Reversal": bool(header.get("Reversal")),
        "AmountFC": total_fc,
        "AmountDC": cents(total_fc * rate),
        "VATAmountFC": vat_fc,
        "VATAmountDC": cents(vat_fc * rate),
        "Type": entry_type,
        "TypeDescription": _type_name(ctx, entry_type),
        "Status": 20,
        "StatusDescription": "Open",
        "Division": division.code,
        "Created": ctx.now,
        "Modified": ctx.now,
    }
    division.entry_numbers(side.entries).add((entry["Journal"], number))
    division.records(side.entries)[entry_id] = entry
    for line in checked:
        line.update(
            {
                "EntryID": entry_id,
                "AmountDC": cents(line["AmountFC"] * rate),
                "VATAmountDC": cents(line["VATAmountFC"] * rate),
                "Division": division.code,
            }
        )
        division.records(side.line_records)[line["ID"]] = line
    _book(ctx, side, entry, party, journal, checked)
    return entry


def _journal(ctx: Context, side: Side, code: Any, problems: list[str]) -> Record | None:
    if not code:
        problems.append(ctx.say("journal_missing"))
        return None
    journal = ctx.division.first("journals", Code=str(code))
    if journal is None:
        problems.append(ctx.say("journal_unknown"))
        return None
    if journal["Type"] != side.journal_type:
        problems.append(ctx.say("journal_type"))
        return None
    return journal


def _party(ctx: Context, side: Side, guid: Any, problems: list[str]) -> Record | None:
    if not guid:
        problems.append(
            ctx.say("customer_missing" if side is SALES else "supplier_missing")
        )
        return None
    account = ctx.division.records("accounts").get(guid)
    if account is None:
        problems.append(ctx.say("account_unknown"))
        return None
    if not side.is_party(account):
        problems.append(ctx.say("not_customer" if side is SALES else "not_supplier"))
        return None
    return account


def _line(
    ctx: Context, side: Side, number: int, line: dict[str, Any], problems: list[str]
) -> Record:
    """Check one line and derive its VAT; read-only fields were dropped."""
    division = ctx.division
    amount = cents(line.get("AmountFC") or Decimal(0))
    gl = None
    if not line.get("GLAccount"):
        problems.append(ctx.say("gl_missing"))
    else:
        gl = division.records("gl_accounts").get(line["GLAccount"])
        if gl is None:
            problems.append(ctx.say("gl_unknown"))
        elif gl["Type"] in (20, 22, 24):
            problems.append(ctx.say("gl_type"))

    code_text = line.get("VATCode") or (gl or {}).get("VATCode")
    vat_code = None
    if code_text:
        vat_code = division.first("vat_codes", Code=str(code_text).strip().ljust(3))
        if vat_code is None:
            problems.append(ctx.say("vat_unknown"))
        elif vat_code["VATTransactionType"] not in side.vat_sides:
            problems.append(ctx.say("vat_side"))

    percentage = vat_code["Percentage"] if vat_code else Decimal(0)
    kind = vat_code["Type"] if vat_code else "N"
    if kind == "E":
        computed, base = cents(amount * percentage), amount
    elif kind == "I":
        computed = cents(amount * percentage / (1 + percentage))
        base = amount - computed
    else:
        computed, base = Decimal("0.00"), amount

    vat = computed
    given = line.get("VATAmountFC")
    charged = side is PURCHASE and bool((vat_code or {}).get("Charged"))
    if charged and given is not None and cents(given) == 0:
        # The supplier's invoice carries no VAT: the VAT is self-assessed from
        # the code, so a 0 sent stands for the computed VAT.
        given = None
    if given is not None:
        vat = cents(given)
        shown = (vat_code or {}).get("Code", "").strip()
        inclusive_off = kind == "I" and abs(vat - computed) > CENT
        if inclusive_off or (kind in ("B", "N") and vat != 0):
            problems.append(ctx.say("vat_mismatch", number, shown))
        elif abs(vat - computed) > CENT:
            difference = f"{vat - computed:.2f}".replace(".", ",")
            problems.append(
                ctx.say(
                    "not_balanced",
                    ctx.now.year,
                    ctx.now.month,
                    _type_name(ctx, side.types[0]),
                    ctx.division.currency,
                    difference,
                )
            )

    return {
        "ID": line.get("ID") or new_guid(),
        "LineNumber": number,
        "AmountFC": amount,
        "VATBaseAmountFC": base,
        "VATAmountFC": vat,
        "VATCode": vat_code["Code"] if vat_code else None,
        "VATPercentage": percentage,
        "GLAccount": line.get("GLAccount"),
        "GLAccountCode": gl["Code"] if gl else None,
        "Description": line.get("Description"),
        "Quantity": line.get("Quantity"),
        "CostCenter": line.get("CostCenter"),
        "CostUnit": line.get("CostUnit"),
        "Notes": line.get("Notes"),
    }


def _period(
    ctx: Context, header: dict[str, Any], entry_date: datetime, problems: list[str]
) -> tuple[int, int]:
    year = header.get("ReportingYear") or entry_date.year
    period = header.get("ReportingPeriod") or entry_date.month
    if year not in ctx.division.open_years or not 1 <= period <= 12:
        problems.append(ctx.say("period_missing", year, period))
    elif (year, period) in ctx.division.closed_periods:
        problems.append(ctx.say("period_closed", year, period))
    return year, period


def _payment_condition(
    ctx: Context, side: Side, code: Any, party: Record | None, problems: list[str]
) -> Record | None:
    division = ctx.division
    if code:
        found = division.first("payment_conditions", Code=str(code))
        if found is None:
            problems.append(ctx.say("payment_condition_unknown"))
        return found
    default_field = (
        "PaymentConditionSales" if side is SALES else "PaymentConditionPurchase"
    )
    default = (party or {}).get(default_field) or "30"
    found = division.first("payment_conditions", Code=default)
    if found is None:
        problems.append(ctx.say("payment_condition_missing"))
    return found


def _due_date(entry_date: datetime, condition: Record | None) -> datetime:
    """Month-ends first, then days (charts.md §1.4)."""
    if condition is None:
        return entry_date
    due = entry_date
    for _ in range(condition.get("PaymentEndOfMonths") or 0):
        last = calendar.monthrange(due.year, due.month)[1]
        due = due.replace(day=last) if due.day != last else _next_month_end(due)
    return due + timedelta(days=condition.get("PaymentDays") or 0)


def _next_month_end(day: datetime) -> datetime:
    first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _number_used(division: Division, side: Side, journal: str, number: int) -> bool:
    return (journal, number) in division.entry_numbers(side.entries)


def _next_number(division: Division, side: Side, journal: str, year: int) -> int:
    """`YY` + journal + sequence, eight digits (charts.md §6)."""
    key = f"{journal}:{year}"
    width = max(8 - 2 - len(journal), 1)
    while True:
        division.sequences[key] = division.sequences.get(key, 0) + 1
        number = int(f"{year % 100:02d}{journal}{division.sequences[key]:0{width}d}")
        if not _number_used(division, side, journal, number):
            return number


def _type_name(ctx: Context, entry_type: int) -> str:
    language = "nl" if ctx.language.lower().startswith("nl") else "en"
    return ENTRY_TYPE_NAMES[(language, entry_type)]


# What booking creates


def _book(
    ctx: Context,
    side: Side,
    entry: Record,
    party: Record,
    journal: Record,
    lines: list[Record] | None = None,
) -> None:
    """The entry's cash-flow term, outstanding item and ledger lines; `lines`
    are the entry's lines in order, looked up when not given."""
    division = ctx.division
    term_id = new_guid()
    term = {
        "ID": term_id,
        "EntryID": new_guid(),
        "TransactionEntryID": entry["EntryID"],
        "TransactionID": None,
        "EntryNumber": entry["EntryNumber"],
        "InvoiceNumber": entry["InvoiceNumber"],
        "Journal": entry["Journal"],
        "YourRef": entry["YourRef"],
        "InvoiceDate": entry["EntryDate"],
        "DueDate": entry["DueDate"],
        "Account": party["ID"],
        "AccountCode": party.get("Code"),
        "AccountName": party["Name"],
        "AmountDC": entry["AmountDC"],
        "AmountFC": entry["AmountFC"],
        "Currency": entry["Currency"],
        "RateFC": entry["Rate"],
        "TransactionAmountDC": entry["AmountDC"],
        "TransactionAmountFC": entry["AmountFC"],
        "IsFullyPaid": False,
        "Status": 20,
        "LastPaymentDate": None,
        "EndDate": None,
        "EndYear": None,
        "EndPeriod": None,
        "PaymentMethod": "B",
        "PaymentReference": entry["PaymentReference"],
        "Description": entry["Description"],
        "TransactionIsReversal": entry["Reversal"],
        "TransactionType": entry["Type"],
        "TransactionStatus": 20,
        "Division": division.code,
    }
    if lines is None:
        lines = [
            line
            for line in division.records(side.line_records).values()
            if line["EntryID"] == entry["EntryID"]
        ]
    if lines:
        term["TransactionID"] = lines[0]["ID"]
    division.records(side.terms)[term_id] = term
    _outstanding(ctx, side, term, journal, new=True)
    _touch_term(ctx, side, term)
    _ledger_lines(ctx, side, entry, party, journal, lines)


def _outstanding(
    ctx: Context, side: Side, term: Record, journal: Record, *, new: bool = False
) -> None:
    """Create, update or remove the term's outstanding item: an open term
    with an amount has one, a matched term none. A `new` term has none yet,
    so the scan for it is skipped."""
    division = ctx.division
    open_amount = term["AmountDC"] if term["Status"] == 20 else Decimal(0)
    existing = None if new else division.first(side.outstanding, _term=term["ID"])
    if open_amount.is_zero():
        if existing is not None:
            del division.records(side.outstanding)[str(existing["HID"])]
        return
    if existing is None:
        hid = division.next_hid()
        existing = {"HID": hid, "_term": term["ID"]}
        division.records(side.outstanding)[str(hid)] = existing
    existing.update(
        {
            "AccountId": term["Account"],
            "AccountCode": term["AccountCode"],
            "AccountName": term["AccountName"],
            "Amount": open_amount,
            "AmountInTransit": Decimal("0.00"),
            "CurrencyCode": term["Currency"],
            "Description": term["Description"],
            "DueDate": term["DueDate"],
            "InvoiceDate": term["InvoiceDate"],
            "EntryNumber": term["EntryNumber"],
            "InvoiceNumber": term["InvoiceNumber"],
            "JournalCode": journal.get("Code"),
            "JournalDescription": journal.get("Description"),
            "YourRef": term["YourRef"],
        }
    )


def _touch_term(ctx: Context, side: Side, term: Record) -> None:
    """The sync/Cashflow/PaymentTerms row of a term, with a new Timestamp."""
    ctx.division.records("payment_terms")[term["ID"]] = {
        "ID": term["ID"],
        "Timestamp": ctx.division.next_timestamp(),
        "EntryID": term["EntryID"],
        "TransactionEntryID": term["TransactionEntryID"],
        "LineType": side.term_line_type,
        "Account": term["Account"],
        "AmountDC": term["AmountDC"],
        "AmountFC": term["AmountFC"],
        "IsFullyPaid": term["IsFullyPaid"],
        "Status": term["Status"],
        "LastPaymentDate": term["LastPaymentDate"],
        "EndDate": term["EndDate"],
        "EndYear": term["EndYear"],
        "EndPeriod": term["EndPeriod"],
        "EntryNumber": term["EntryNumber"],
        "InvoiceNumber": term["InvoiceNumber"],
        "YourRef": term["YourRef"],
        "DueDate": term["DueDate"],
        "Division": ctx.division.code,
    }


def _ledger_lines(
    ctx: Context,
    side: Side,
    entry: Record,
    party: Record,
    journal: Record,
    lines: list[Record],
) -> None:
    """Debit positive, credit negative (API.md §7.13): a sales invoice credits
    revenue and VAT and debits the receivable; a purchase the other way."""
    division = ctx.division
    sign = Decimal(-1) if side is SALES else Decimal(1)
    gl_accounts = division.records("gl_accounts")

    def add(gl: str | None, amount: Decimal, **extra: Any) -> None:
        guid = new_guid()
        gl_record = gl_accounts.get(gl or "", {})
        division.records("transaction_lines")[guid] = {
            "ID": guid,
            "EntryID": entry["EntryID"],
            "EntryNumber": entry["EntryNumber"],
            "JournalCode": entry["Journal"],
            "Date": entry["EntryDate"],
            "FinancialYear": entry["ReportingYear"],
            "FinancialPeriod": entry["ReportingPeriod"],
            "GLAccount": gl,
            "GLAccountCode": gl_record.get("Code"),
            "Account": party["ID"],
            "AccountCode": party.get("Code"),
            "AmountDC": cents(amount * entry["Rate"]),
            "AmountFC": amount,
            "InvoiceNumber": entry["InvoiceNumber"],
            "YourRef": entry["YourRef"],
            "DueDate": entry["DueDate"],
            "PaymentReference": entry["PaymentReference"],
            "Status": 20,
            "Type": entry["Type"],
            "Timestamp": division.next_timestamp(),
            "Division": division.code,
            "Modified": ctx.now,
            "AmountVATFC": None,
            "AmountVATBaseFC": None,
            "VATCode": None,
            "VATPercentage": None,
            "CostCenter": None,
            "Description": entry["Description"],
            "LineType": 0,
            **extra,
        }

    charged: dict[str, Decimal] = {}  # self-assessed VAT per charged code
    for line in lines:
        add(
            line["GLAccount"],
            sign * line["VATBaseAmountFC"],
            VATCode=line["VATCode"],
            VATPercentage=line["VATPercentage"],
            AmountVATFC=line["VATAmountFC"],
            CostCenter=line["CostCenter"],
            Description=line["Description"],
        )
        if _charged(division, side, line):
            charged[line["VATCode"]] = (
                charged.get(line["VATCode"], Decimal(0)) + line["VATAmountFC"]
            )
    ordinary = [line for line in lines if not _charged(division, side, line)]
    vat_total = sum((line["VATAmountFC"] for line in ordinary), Decimal(0))
    if vat_total:
        add(_vat_account(division, side, ordinary), sign * vat_total, LineType=1)
    for code_text, vat in charged.items():
        # A charged code books its VAT twice: to claim (debit) and to pay
        # (credit); they cancel, so the payable stays the net amount.
        code = division.first("vat_codes", Code=code_text) or {}
        if vat:
            add(code.get("GLToClaim"), vat, LineType=1, VATCode=code_text)
            add(code.get("GLToPay"), -vat, LineType=1, VATCode=code_text)
    add(journal.get("GLAccount"), -sign * entry["AmountFC"], LineType=2)


def _charged(division: Division, side: Side, line: Record) -> bool:
    """Whether a purchase line's VAT code is `Charged` (reverse charge,
    intra-EU acquisition): its VAT is self-assessed, not owed to the supplier."""
    if side is not PURCHASE or not line.get("VATCode"):
        return False
    code = division.first("vat_codes", Code=line["VATCode"])
    return bool(code and code.get("Charged"))


def _vat_account(division: Division, side: Side, lines: list[Record]) -> str | None:
    field = "GLToPay" if side is SALES else "GLToClaim"
    for line in lines:
        code = (
            division.first("vat_codes", Code=line["VATCode"])
            if line["VATCode"]
            else None
        )
        if code and code.get(field):
            return str(code[field])
    return None


def unbook(ctx: Context, side: Side, entry_id: str) -> None:
    """Remove what booking created, recording deletions for sync/Deleted."""
    division = ctx.division
    for collection, entity_type in (("transaction_lines", 1), ("payment_terms", 10)):
        records = division.records(collection)
        key = "EntryID" if collection == "transaction_lines" else "TransactionEntryID"
        for guid in [g for g, r in records.items() if r.get(key) == entry_id]:
            del records[guid]
            _deleted(ctx, guid, entity_type)
    for term in list(division.find(side.terms, TransactionEntryID=entry_id)):
        del division.records(side.terms)[term["ID"]]
        item = division.first(side.outstanding, _term=term["ID"])
        if item is not None:
            del division.records(side.outstanding)[str(item["HID"])]


def _deleted(ctx: Context, key: str, entity_type: int) -> None:
    guid = new_guid()
    ctx.division.records("deleted")[guid] = {
        "ID": guid,
        "Timestamp": ctx.division.next_timestamp(),
        "EntityKey": key,
        "EntityType": entity_type,
        "DeletedBy": None,
        "DeletedDate": ctx.now,
        "Division": ctx.division.code,
    }


def delete_entry(ctx: Context, side: Side, entry_id: str) -> None:
    division = ctx.division
    if entry_id not in division.records(side.entries):
        raise ExactError(404, "Not found")
    unbook(ctx, side, entry_id)
    for line in list(division.find(side.line_records, EntryID=entry_id)):
        del division.records(side.line_records)[line["ID"]]
    entry = division.records(side.entries).pop(entry_id)
    division.entry_numbers(side.entries).discard(
        (entry["Journal"], entry["EntryNumber"])
    )


def update_entry(
    ctx: Context, side: Side, entry_id: str, values: dict[str, Any]
) -> None:
    """A partial update of header fields; a new customer or supplier makes a
    new cash-flow term (API.md §7.11 gotcha)."""
    division = ctx.division
    entry = division.records(side.entries).get(entry_id)
    if entry is None:
        raise ExactError(404, "Not found")
    if side.lines in values:
        raise ExactError(
            400,
            "Error processing request stream. Binding to new entities is not "
            "supported in update operations.",
        )
    problems: list[str] = []
    party = None
    if side.party in values:
        party = _party(ctx, side, values[side.party], problems)
    if "Journal" in values and values["Journal"] != entry["Journal"]:
        problems.append(ctx.say("processed"))
    if problems:
        raise BusinessError(problems)
    for name in (
        "YourRef",
        "Description",
        "PaymentReference",
        "DueDate",
        "Document",
        "ExternalLinkReference",
    ):
        if name in values:
            entry[name] = values[name]
    entry["Modified"] = ctx.now
    if party is not None and party["ID"] != entry[side.party]:
        entry[side.party] = party["ID"]
        entry[side.party_name] = party["Name"]
        journal = division.first("journals", Code=entry["Journal"])
        unbook(ctx, side, entry_id)
        _book(ctx, side, entry, party, journal or {})


# Payments and matching (the sandbox's stand-in for matching bank lines and
# outstanding items, API.md §7.11, §8)
#
# Every term is one record of cashflow/Receivables or cashflow/Payments and of
# sync/Cashflow/PaymentTerms. Matching part of a term splits it: the matched
# part becomes a new record with its own ID and EntryID, the rest keeps the
# term's ID and stays open (picqer SyncPaymentTerm: "A payment can be split so
# that one part is paid on a different date. In that case the two records get
# a different EntryID"). An entry's terms always add up to the entry.

BANK_PREFIX = "bank:"
NET_PREFIX = "net:"


class PaymentRefused(ValueError):
    """A payment, reopening or matching the books cannot take; the message
    says why."""


@dataclass(frozen=True)
class CashFlow:
    """An entry's cash-flow terms in booking order, and the open credits that
    over-payments on it left on the account."""

    side: Side
    entry_id: str
    terms: list[Record]
    credits: list[Record]

    @property
    def open_amount(self) -> Decimal:
        return _total(t for t in self.terms if t["Status"] == 20)

    @property
    def paid_amount(self) -> Decimal:
        return _total(t for t in self.terms if t["Status"] == 50)

    @property
    def is_fully_paid(self) -> bool:
        return all(term["IsFullyPaid"] for term in self.terms)

    @property
    def direction(self) -> Decimal:
        """1 for an invoice, -1 for a credit note (or an account's credit)."""
        return _direction(self.terms[0])

    @property
    def name(self) -> str:
        number = self.terms[0]["EntryNumber"]
        return f"entry {number}" if number is not None else f"entry {self.entry_id}"


def cash_flow(division: Division, entry_id: str) -> CashFlow | None:
    """The terms whose `TransactionEntryID` is `entry_id`: a sales or purchase
    entry, or the bank entry of an over-payment's credit."""
    for side in (SALES, PURCHASE):
        terms = list(division.find(side.terms, TransactionEntryID=entry_id))
        if terms:
            credits = [
                term
                for term in division.find(side.terms, _for=entry_id)
                if term["Status"] == 20
            ]
            return CashFlow(side, entry_id, terms, credits)
    return None


def register_payment(
    ctx: Context, entry_id: str, amount: Decimal, paid_on: datetime
) -> CashFlow:
    """Pay `amount` on an entry, counted in the entry's direction (refunding
    a credit note is positive too); a negative amount reopens what was paid.

    Open terms are matched in booking order, each in full or split (rules in
    docs/sandbox.md); what is left over becomes an open credit on the account
    whose `TransactionEntryID` is the bank entry. Every payment or reopening
    books a bank entry in the bank journal."""
    amount = cents(amount)
    if amount.is_zero():
        raise PaymentRefused("The amount must not be zero.")
    flow = _flow(ctx, entry_id)
    if amount > 0:
        bank_entry = new_guid()
        left = _settle_open(ctx, flow, amount, paid_on, BANK_PREFIX + bank_entry)
        if left:
            _credit(ctx, flow, left, amount, paid_on, bank_entry)
        _bank_lines(ctx, flow, flow.direction * amount, paid_on, bank_entry)
    else:
        _reopen(ctx, flow, -amount, paid_on)
    refreshed = cash_flow(ctx.division, entry_id)
    assert refreshed is not None
    return refreshed


def match_entries(
    ctx: Context, entry_ids: tuple[str, str], matched_on: datetime
) -> tuple[Decimal, CashFlow, CashFlow]:
    """Net an invoice against a credit note of the same account and side (or
    an over-payment's credit): both settle by the smaller open amount, with
    no bank entry. Returns the amount and both entries' cash flow."""
    if entry_ids[0] == entry_ids[1]:
        raise PaymentRefused("Name two different entries to match.")
    first, second = (_flow(ctx, entry_id) for entry_id in entry_ids)
    if first.side is not second.side:
        raise PaymentRefused(
            f"{first.name.capitalize()} is a {first.side.name} entry and "
            f"{second.name} a {second.side.name} entry; only entries of one "
            "side match."
        )
    if first.terms[0]["Account"] != second.terms[0]["Account"]:
        raise PaymentRefused(
            f"{first.name.capitalize()} and {second.name} belong to different "
            "accounts; only entries of one account match."
        )
    if first.direction == second.direction:
        kind = "invoices" if first.direction > 0 else "credit notes"
        raise PaymentRefused(
            f"{first.name.capitalize()} and {second.name} are both {kind}; "
            "match an invoice with a credit note."
        )
    amount = min(abs(first.open_amount), abs(second.open_amount))
    if amount.is_zero():
        closed = first if first.open_amount.is_zero() else second
        raise PaymentRefused(f"Nothing is open on {closed.name}.")
    match = NET_PREFIX + new_guid()
    for flow in (first, second):
        _settle_open(ctx, flow, amount, matched_on, match)
    after = [cash_flow(ctx.division, entry_id) for entry_id in entry_ids]
    assert after[0] is not None and after[1] is not None
    return amount, after[0], after[1]


def _flow(ctx: Context, entry_id: str) -> CashFlow:
    division = ctx.division
    flow = cash_flow(division, entry_id)
    if flow is None:
        raise ExactError(404, f"No booked entry {entry_id} in division {division.code}")
    for term in flow.terms:
        # A state file from before split terms: one term with a paid sum.
        paid = term.pop("_paid", None)
        if paid and term["Status"] == 20:
            when = term["LastPaymentDate"] or ctx.now
            _settle(ctx, flow.side, term, abs(paid), when, BANK_PREFIX + "legacy")
    return cash_flow(division, entry_id) or flow


def _settle_open(
    ctx: Context, flow: CashFlow, amount: Decimal, on: datetime, match: str
) -> Decimal:
    """Match up to `amount` of the entry's open terms; returns what is left."""
    left = amount
    for term in flow.terms:
        if left and term["Status"] == 20 and term["AmountDC"]:
            left -= _settle(ctx, flow.side, term, left, on, match)
    return left


def _settle(
    ctx: Context, side: Side, term: Record, amount: Decimal, on: datetime, match: str
) -> Decimal:
    """Match `amount` of an open term, all of it or a part split off; returns
    the amount matched."""
    used: Decimal = min(amount, abs(term["AmountDC"]))
    matched = term if used == abs(term["AmountDC"]) else _split(ctx, side, term, used)
    matched.update(
        {
            "IsFullyPaid": True,
            "Status": 50,
            "LastPaymentDate": on,
            "EndDate": on,
            "EndYear": on.year,
            "EndPeriod": on.month,
            "_match": match,
            "_seq": _next_match(ctx.division),
        }
    )
    _changed(ctx, side, term, matched)
    return used


def _reopen(ctx: Context, flow: CashFlow, amount: Decimal, on: datetime) -> None:
    """Undo `amount` of what was paid, newest first: first the open credits
    over-payments left, then the matched terms. A term matched against a
    credit note reopens the credit note's part too; the rest was paid through
    the bank and gets a reversing bank entry."""
    side, division = flow.side, ctx.division
    paid = sorted(
        (term for term in flow.terms if term["Status"] == 50),
        key=lambda term: term.get("_seq") or 0,
        reverse=True,
    )
    credits = list(reversed(flow.credits))
    reopenable = _total(credits + paid, absolute=True)
    if amount > reopenable:
        raise PaymentRefused(
            f"Only {reopenable:.2f} is paid on {flow.name}; "
            f"{amount:.2f} cannot be reopened."
        )
    left, through_bank = amount, Decimal(0)
    for credit in credits:
        used = min(left, abs(credit["AmountDC"]))
        _shrink_credit(ctx, side, credit, used)
        left, through_bank = left - used, through_bank + used
        if not left:
            break
    for term in paid:
        if not left:
            break
        part = min(left, abs(term["AmountDC"]))
        match = term.get("_match") or ""
        _unmatch(ctx, side, term, part)
        if match.startswith(NET_PREFIX):
            # The other entry's part of the same match reopens with it.
            rest = part
            for other in list(division.find(side.terms, _match=match)):
                if rest and other["TransactionEntryID"] != flow.entry_id:
                    undone = min(rest, abs(other["AmountDC"]))
                    _unmatch(ctx, side, other, undone)
                    rest -= undone
        else:
            through_bank += part
        left -= part
    if through_bank:
        _bank_lines(ctx, flow, -flow.direction * through_bank, on, new_guid())


def _unmatch(ctx: Context, side: Side, term: Record, part: Decimal) -> None:
    """Reopen `part` of a matched term, all of it or a part split off."""
    whole = part == abs(term["AmountDC"])
    reopened = term if whole else _split(ctx, side, term, part)
    reopened.update(
        {
            "IsFullyPaid": False,
            "Status": 20,
            "LastPaymentDate": None,
            "EndDate": None,
            "EndYear": None,
            "EndPeriod": None,
            "_match": None,
            "_seq": None,
        }
    )
    _changed(ctx, side, term, reopened)


def _split(ctx: Context, side: Side, term: Record, part: Decimal) -> Record:
    """Move `part` (positive, less than the term) of a term into a new record
    with its own ID and EntryID; entry, account, dates and status stay."""
    part_dc = _direction(term) * part
    part_fc = cents(term["AmountFC"] * part_dc / term["AmountDC"])
    split = {
        **term,
        "ID": new_guid(),
        "EntryID": new_guid(),
        "AmountDC": part_dc,
        "AmountFC": part_fc,
    }
    term["AmountDC"] -= part_dc
    term["AmountFC"] -= part_fc
    ctx.division.records(side.terms)[split["ID"]] = split
    return split


def _changed(ctx: Context, side: Side, term: Record, other: Record) -> None:
    """Outstanding items and sync rows after `term` changed, and `other`
    with it (the same record, or a part split off)."""
    journal = _journal_of(ctx.division, term)
    for record in (term, other) if other is not term else (term,):
        _outstanding(ctx, side, record, journal, new=record is not term)
        _touch_term(ctx, side, record)


def _credit(
    ctx: Context,
    flow: CashFlow,
    excess: Decimal,
    amount: Decimal,
    paid_on: datetime,
    bank_entry: str,
) -> None:
    """What an over-payment leaves: an open term of the bank entry on the
    account, against the entry's direction, carrying the entry's YourRef
    (picqer SyncPaymentTerm: "In case the payment belongs to a bank entry
    line and is matched with one invoice, YourRef is filled with the YourRef
    of this invoice")."""
    division = ctx.division
    source = flow.terms[0]
    bank = division.first("journals", Type=12) or {}
    credit = {key: value for key, value in source.items() if not key.startswith("_")}
    credit.update(
        {
            "ID": new_guid(),
            "EntryID": new_guid(),
            "TransactionEntryID": bank_entry,
            "TransactionID": None,
            "EntryNumber": None,
            "InvoiceNumber": None,
            "Journal": bank.get("Code") or source["Journal"],
            "InvoiceDate": paid_on,
            "DueDate": paid_on,
            "AmountDC": -flow.direction * excess,
            "AmountFC": -flow.direction * excess,
            "Currency": division.currency,
            "RateFC": Decimal(1),
            "TransactionAmountDC": -flow.direction * amount,
            "TransactionAmountFC": -flow.direction * amount,
            "IsFullyPaid": False,
            "Status": 20,
            "LastPaymentDate": None,
            "EndDate": None,
            "EndYear": None,
            "EndPeriod": None,
            "Description": None,
            "TransactionIsReversal": False,
            "TransactionType": 40,
            "TransactionStatus": 50,
            "_for": flow.entry_id,
        }
    )
    division.records(flow.side.terms)[credit["ID"]] = credit
    journal = _journal_of(division, credit)
    _outstanding(ctx, flow.side, credit, journal, new=True)
    _touch_term(ctx, flow.side, credit)


def _shrink_credit(ctx: Context, side: Side, credit: Record, used: Decimal) -> None:
    """Take back `used` of an over-payment's open credit; an emptied credit
    is deleted (sync/Deleted, EntityType 10)."""
    division = ctx.division
    if used == abs(credit["AmountDC"]):
        del division.records(side.terms)[credit["ID"]]
        division.records("payment_terms").pop(credit["ID"], None)
        item = division.first(side.outstanding, _term=credit["ID"])
        if item is not None:
            del division.records(side.outstanding)[str(item["HID"])]
        _deleted(ctx, credit["ID"], 10)
        return
    change = _direction(credit) * used
    credit["AmountDC"] -= change
    credit["AmountFC"] -= change
    _changed(ctx, side, credit, credit)


def _direction(term: Record) -> Decimal:
    return Decimal(1) if term["TransactionAmountDC"] >= 0 else Decimal(-1)


def _total(terms: Iterable[Record], *, absolute: bool = False) -> Decimal:
    total = Decimal(0)
    for term in terms:
        total += abs(term["AmountDC"]) if absolute else term["AmountDC"]
    return total


def _next_match(division: Division) -> int:
    """Orders matches, so reopening starts with the newest."""
    division.sequences["matches"] = division.sequences.get("matches", 0) + 1
    return division.sequences["matches"]


def _journal_of(division: Division, term: Record) -> Record:
    return division.first("journals", Code=term["Journal"]) or {}


def _bank_lines(
    ctx: Context, flow: CashFlow, paid_dc: Decimal, paid_on: datetime, entry_id: str
) -> None:
    """A bank entry of `paid_dc` (signed as the entry's terms; negative
    reverses a payment): the bank account against the receivable or payable
    account."""
    division = ctx.division
    bank = division.first("journals", Type=12)
    if bank is None:
        return
    side, term = flow.side, flow.terms[0]
    journal = _journal_of(division, term)
    if journal.get("Type") != side.journal_type:  # an over-payment's credit
        journal = division.first("journals", Type=side.journal_type) or {}
    sign = Decimal(1) if side is SALES else Decimal(-1)
    for gl, value in (
        (bank.get("GLAccount"), sign * paid_dc),
        (journal.get("GLAccount"), -sign * paid_dc),
    ):
        guid = new_guid()
        division.records("transaction_lines")[guid] = {
            "ID": guid,
            "EntryID": entry_id,
            "EntryNumber": None,
            "JournalCode": bank["Code"],
            "Date": paid_on,
            "FinancialYear": paid_on.year,
            "FinancialPeriod": paid_on.month,
            "GLAccount": gl,
            "GLAccountCode": division.records("gl_accounts")
            .get(gl or "", {})
            .get("Code"),
            "Account": term["Account"],
            "AccountCode": term["AccountCode"],
            "AmountDC": value,
            "AmountFC": value,
            "AmountVATFC": None,
            "AmountVATBaseFC": None,
            "VATCode": None,
            "VATPercentage": None,
            "InvoiceNumber": term["InvoiceNumber"],
            "YourRef": term["YourRef"],
            "DueDate": None,
            "PaymentReference": term["PaymentReference"],
            "CostCenter": None,
            "Status": 50,
            "Type": 40,
            "LineType": 0,
            "Description": "Betaling",
            "Timestamp": division.next_timestamp(),
            "Division": division.code,
            "Modified": ctx.now,
        }


# Accounts, documents, attachments


def post_account(ctx: Context, values: dict[str, Any]) -> Record:
    division = ctx.division
    if not values.get("Name"):
        raise BusinessError(
            [ctx.say("mandatory", "Naam" if ctx.language.startswith("nl") else "Name")]
        )
    code = values.get("Code")
    if code is None or not str(code).strip():
        numbers = [
            int(a["Code"])
            for a in division.records("accounts").values()
            if a.get("Code") and a["Code"].strip().isdigit()
        ]
        code = str(max(numbers, default=0) + 1)
    padded = str(code).strip().rjust(18)
    if division.first("accounts", Code=padded) is not None:
        raise BusinessError([ctx.say("already_exists")])
    guid = values.get("ID") or new_guid()
    if guid in division.records("accounts"):
        raise BusinessError([ctx.say("already_exists")])
    account: Record = {
        "ID": guid,
        "Code": padded,
        "Name": values["Name"],
        "Status": values.get("Status"),
        "IsSupplier": bool(values.get("IsSupplier")),
        "Blocked": bool(values.get("Blocked")),
        "Type": "A",
        "Division": division.code,
        "Created": ctx.now,
        "Modified": ctx.now,
    }
    for name in (
        "VATNumber",
        "ChamberOfCommerce",
        "Email",
        "AddressLine1",
        "Postcode",
        "City",
        "PaymentConditionSales",
        "PaymentConditionPurchase",
        "SalesVATCode",
        "PurchaseVATCode",
        "GLAccountSales",
        "GLAccountPurchase",
        "SalesCurrency",
        "PurchaseCurrency",
    ):
        account[name] = values.get(name)
    account["Country"] = (
        values["Country"].strip().ljust(3) if values.get("Country") else None
    )
    account["IsSales"] = account["Status"] == "C"
    division.records("accounts")[guid] = account
    return account


def update_account(ctx: Context, guid: str, values: dict[str, Any]) -> None:
    division = ctx.division
    account = division.records("accounts").get(guid)
    if account is None:
        raise ExactError(404, "Not found")
    if "Code" in values and values["Code"] is not None:
        padded = str(values["Code"]).strip().rjust(18)
        other = division.first("accounts", Code=padded)
        if other is not None and other["ID"] != guid:
            raise BusinessError([ctx.say("already_exists")])
        values["Code"] = padded
    if values.get("Country"):
        values["Country"] = values["Country"].strip().ljust(3)
    values.pop("ID", None)
    account.update(values)
    account["IsSales"] = account.get("Status") == "C"
    account["Modified"] = ctx.now


def delete_record(
    ctx: Context, collection: str, guid: str, entity_type: int | None
) -> None:
    records = ctx.division.records(collection)
    if guid not in records:
        raise ExactError(404, "Not found")
    del records[guid]
    if entity_type is not None:
        _deleted(ctx, guid, entity_type)


def post_document(ctx: Context, values: dict[str, Any], base_url: str) -> Record:
    division = ctx.division
    missing = [name for name in ("Subject", "Type") if values.get(name) in (None, "")]
    if missing:
        raise BusinessError([ctx.say("mandatory", name) for name in missing])
    guid = values.get("ID") or new_guid()
    document: Record = {
        "ID": guid,
        "Subject": values["Subject"],
        "Type": values["Type"],
        "TypeDescription": {10: "Sales invoice", 20: "Purchase invoice"}.get(
            values["Type"], "Document"
        ),
        "DocumentDate": values.get("DocumentDate")
        or ctx.now.replace(hour=0, minute=0, second=0, microsecond=0),
        "Account": values.get("Account"),
        "HID": division.next_hid(),
        "Category": None,
        "CategoryDescription": "Customers" if values["Type"] == 10 else "Suppliers",
        "DocumentViewUrl": (
            f"{base_url}/docs/DocViewContent.aspx?ID={guid}&_Division_={division.code}"
        ),
        "FinancialTransactionEntryID": values.get("FinancialTransactionEntryID"),
        "Division": division.code,
        "Created": ctx.now,
        "Modified": ctx.now,
    }
    division.records("documents")[guid] = document
    return document


def post_attachment(ctx: Context, values: dict[str, Any], base_url: str) -> Record:
    division = ctx.division
    missing = [
        n for n in ("Document", "FileName", "Attachment") if values.get(n) in (None, "")
    ]
    if missing:
        raise BusinessError([ctx.say("mandatory", name) for name in missing])
    if values["Document"] not in division.records("documents"):
        raise BusinessError([ctx.say("document_unknown")])
    content: bytes = values["Attachment"]
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise BusinessError([ctx.say("attachment_too_large")])
    guid = new_guid()
    attachment: Record = {
        "ID": guid,
        "Document": values["Document"],
        "FileName": values["FileName"],
        "Attachment": None,  # not echoed (API.md §7.10)
        "FileSize": Decimal(len(content)),
        "Url": (
            f"{base_url}/docs/SysAttachment.aspx?ID={guid}&_Division_={division.code}"
        ),
        "Division": division.code,
        "_size": len(content),
    }
    division.records("attachments")[guid] = attachment
    return attachment
