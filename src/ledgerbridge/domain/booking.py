"""An invoice or credit note as the Exact entry that books it, or why it cannot.

`build_booking` turns a stored document, its customer or supplier, the
company's *Customer invoice* / *Supplier invoice* tab and the reference data
read from the Exact administration into a `Booking`; `payload` writes that
booking as the JSON body of `salesentry/SalesEntries` or
`purchaseentry/PurchaseEntries` (API.md §7.6, §7.7). When something is in the
way, every problem is returned at once, each with a stable code, a sentence
saying what to fix and the screen or field where to fix it.

The rules (issue 5, item 3):

* **Customer or supplier**: the code of its booking codes, right-aligned in 18
  characters as Exact stores account codes (§7.1, §10.1). It must be in Exact
  as a customer (Status C) or a supplier and not blocked (§10.8). A missing
  account is created first when the tab allows it (`create_party`), else it
  is a problem.
* **Journal**: the tab's credit-note journal for a credit note when one is
  set, else the tab's journal; by code (§7.4, §10.9), of type Sales (20) or
  Purchase (22), a credit-note journal included: Exact derives the credit
  note from the negative amounts (§7.8), and a separate credit-note journal is
  a second journal of the same type (charts.md §4.1).
* **GL account** per line: the line's own, else the party's booking code, else
  the tab's default; sent as Exact's guid, never of type 20, 22 or 24 (§7.2).
* **VAT code** per line: the *line's* VAT scenario through the tab's VAT
  mapping. The party's VAT scenario override is the default the business
  application gives the lines of new documents; it is not applied here, since
  the document's VAT was computed and printed with the line's scenario and
  the booking must equal the document. The code must exist, be open, be
  exclusive (we send net amounts, §10.7), belong to the right side and carry
  the scenario's rate: reverse charge, intra-EU and export book with 0 % codes.
  On a purchase under reverse charge or intra-EU acquisition (a scenario of
  category REVERSE_CHARGE or INTRA_EU, 0 % on the invoice) a *charged* code
  is accepted too (charts.md §1.1, §3, §5.2: `Charged`, the domestic rate,
  e.g. BE `AMC`, `AIB`, `AIS`, NL `10`/`11`/`12`): Exact self-assesses its
  VAT, to pay and to claim, and the payable stays the net amount. Such a line
  is sent with `VATAmountFC` 0.00, what the supplier's invoice says. A
  charged code on any other scenario (one whose invoice carries VAT) is a
  `vat_rate_mismatch`, and so is a non-charged code of another rate.
* **Amounts**: the document's own VAT, per rate on the total and spread over
  the lines (`vat.py`, charts.md §7.6), sent per line as `VATAmountFC` so
  Exact's VAT equals the invoice's (§10.6). A credit note's lines are
  negative (§7.8, §10.10); its quantities too, so quantity × price keeps the
  amount's sign.
* **Header**: the entry date is the document date; the due date is the
  document's, else left out for Exact to derive from the payment condition
  (§7.6); our number goes in `YourRef` (§7.9); the payment reference (the
  Belgian structured communication) as stored; the rate only when the
  currency is not the company's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ledgerbridge.domain.accounting import ExportSettings
from ledgerbridge.domain.documents import Document, DocumentType, Side
from ledgerbridge.domain.parties import EXACT_CODE_MAX, Party
from ledgerbridge.domain.vat import VatCategory
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS

LINE_GL_TYPES_REFUSED = {
    20: "an accounts receivable",
    22: "an accounts payable",
    24: "a VAT",
}
JOURNAL_TYPE_NAMES = {
    10: "Cash",
    12: "Bank",
    16: "Payment service",
    20: "Sales",
    21: "Return invoice",
    22: "Purchase",
    23: "Received return invoice",
    90: "General journal",
}
EXACT_ACCOUNTS = "Exact Online > CRM > Accounts"
SELF_ASSESSED = frozenset({VatCategory.REVERSE_CHARGE, VatCategory.INTRA_EU})
"""Purchase scenarios whose VAT the buyer self-assesses with a charged code."""


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


# What was read from the Exact administration (API.md §7.1-§7.5)


@dataclass(frozen=True, slots=True)
class ExactJournal:
    type: int
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class ExactGLAccount:
    guid: str
    type: int
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class ExactVatCode:
    percentage: Decimal
    """A fraction, as Exact gives it: 0.21 is 21 %."""
    type: str
    """E excluding, I including, B 0 % base only, N no VAT."""
    side: str
    """VATTransactionType: S sales, P purchase, B both."""
    blocked: bool = False
    charged: bool = False
    """`Charged`: on a purchase Exact books the VAT twice, to pay and to claim
    (reverse charge, intra-EU acquisition; charts.md §1.1)."""


@dataclass(frozen=True, slots=True)
class ExactPaymentCondition:
    days: int
    """`PaymentDays`: added to the invoice date, after the month ends."""
    end_of_months: int = 0
    """`PaymentEndOfMonths`: month ends passed before the days are added."""


@dataclass(frozen=True, slots=True)
class ExactAccount:
    guid: str
    is_customer: bool
    """Status C."""
    is_supplier: bool
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Journals, GL accounts, VAT codes, payment conditions and accounts of one
    division, keyed by code: journals and GL accounts as Exact writes them,
    VAT codes without their padding, accounts padded to 18 characters."""

    journals: Mapping[str, ExactJournal] = field(default_factory=_empty)
    gl_accounts: Mapping[str, ExactGLAccount] = field(default_factory=_empty)
    vat_codes: Mapping[str, ExactVatCode] = field(default_factory=_empty)
    payment_conditions: Mapping[str, ExactPaymentCondition] = field(
        default_factory=_empty
    )
    accounts: Mapping[str, ExactAccount] = field(default_factory=_empty)


# What comes out


@dataclass(frozen=True, slots=True)
class BookingLine:
    gl_account_guid: str
    gl_account_code: str
    vat_code: str
    amount_fc: Decimal
    """Net, signed: negative on a credit note."""
    vat_amount_fc: Decimal
    description: str
    quantity: Decimal
    cost_centre: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    side: Side
    journal: str
    party_code: str
    """Padded to 18 characters."""
    party_guid: str | None
    """None until the missing account is created (`create_party`)."""
    create_party: bool
    entry_date: date
    due_date: date | None
    your_ref: str
    description: str
    payment_reference: str | None
    payment_condition: str | None
    currency: str
    rate: Decimal | None
    """1 unit of `currency` in the company's currency; None in its own."""
    lines: tuple[BookingLine, ...]

    @property
    def resource(self) -> str:
        return _WORDS[self.side].resource

    def with_party(self, guid: str) -> Booking:
        """The booking once its customer or supplier exists in Exact."""
        return dataclasses.replace(self, party_guid=guid, create_party=False)


@dataclass(frozen=True, slots=True)
class BookingProblem:
    code: str
    sentence: str
    where: str


@dataclass(frozen=True, slots=True)
class BookingProblems:
    problems: tuple[BookingProblem, ...]

    @property
    def codes(self) -> list[str]:
        return [problem.code for problem in self.problems]

    def __iter__(self) -> Iterator[BookingProblem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)


# The words of each side, as the screens say them (PRODUCT.md)


@dataclass(frozen=True, slots=True)
class _Words:
    side: str
    party: str
    gl: str
    journal_type: int
    codes_screen: str
    resource: str
    lines_key: str

    @property
    def tab(self) -> str:
        name = self.party.capitalize()
        return f"Financial settings > Accounting settings > {name} invoice tab"


_WORDS = {
    Side.SALES: _Words(
        "sales",
        "customer",
        "revenue",
        20,
        "Leads/Prospect > Contact > Edit > Settings tab > Accountancy booking codes",
        "salesentry/SalesEntries",
        "SalesEntryLines",
    ),
    Side.PURCHASE: _Words(
        "purchase",
        "supplier",
        "cost",
        22,
        "Purchase > Supplier > Edit > Settings tab > Specific booking codes",
        "purchaseentry/PurchaseEntries",
        "PurchaseEntryLines",
    ),
}


def build_booking(
    document: Document,
    party: Party,
    settings: ExportSettings,
    base_currency: str,
    reference: ReferenceData,
    *,
    payment_condition: str | None = None,
) -> Booking | BookingProblems:
    """The Exact entry booking `document`, or every reason it cannot be booked.

    `settings` is the tab of the document's side; `payment_condition` a code
    to send when the caller has one, else the administration's condition of
    the invoice's term (`condition_for`), else none (Exact takes the
    account's own; the due date sent stands either way).
    """
    mapper = _Mapper(document, party, settings, reference, _WORDS[document.side])
    kind = mapper.kind

    if not document.validated:
        mapper.report(
            "not_validated",
            f"The {kind} {document.number} is not validated yet: validate it in "
            "the business application; only validated documents are booked.",
            "validated",
        )
    party_code, party_guid, create = mapper.account()
    journal = mapper.journal()
    rate = None
    if document.currency != base_currency:
        rate = document.exchange_rate
        if rate is None or rate <= 0:
            mapper.report(
                "foreign_currency_without_rate",
                f"The {kind} is in {document.currency}, not in the company's "
                f"{base_currency}: send its exchange rate (1 {document.currency} = "
                f"? {base_currency}) with the {kind}.",
                "exchange_rate",
            )
    if payment_condition and payment_condition not in reference.payment_conditions:
        mapper.report(
            "payment_condition_unknown",
            f"Payment condition {payment_condition} is not in the Exact "
            "administration: create it there or send another one.",
            "payment_condition",
        )
    payment_condition = payment_condition or condition_for(
        document.issue_date, document.due_date, reference.payment_conditions
    )
    lines = mapper.lines()

    if mapper.problems or party_code is None or journal is None or lines is None:
        return BookingProblems(tuple(dict.fromkeys(mapper.problems)))
    return Booking(
        side=document.side,
        journal=journal,
        party_code=party_code,
        party_guid=party_guid,
        create_party=create,
        entry_date=document.issue_date,
        due_date=document.due_date,
        your_ref=document.number,
        description=document.description.strip() or f"{document.number} {party.name}",
        payment_reference=document.payment_reference,
        payment_condition=payment_condition,
        currency=document.currency,
        rate=rate,
        lines=lines,
    )


def condition_for(
    issue_date: date,
    due_date: date | None,
    conditions: Mapping[str, ExactPaymentCondition],
) -> str | None:
    """The code of the administration's payment condition whose term is the
    invoice's: as many days from the invoice date to the due date, no month
    ends (how Exact counts those is not documented well enough to match on
    them). The lowest such code, or None when there is none or no due date."""
    if due_date is None:
        return None
    days = (due_date - issue_date).days
    matching = [
        code
        for code, condition in conditions.items()
        if condition.end_of_months == 0 and condition.days == days
    ]
    return min(matching) if matching else None


def payload(booking: Booking) -> dict[str, Any]:
    """The JSON body that POSTs `booking` (API.md §7.6, §7.7): codes for the
    journal, VAT code and cost centre, guids for the account and GL accounts,
    amounts as strings of two decimals; fields without a value are left out."""
    if booking.party_guid is None:
        raise ValueError(f"create account {booking.party_code.strip()} in Exact first")
    words = _WORDS[booking.side]
    header = {
        "Journal": booking.journal,
        words.party.capitalize(): booking.party_guid,
        "EntryDate": booking.entry_date.isoformat(),
        "DueDate": booking.due_date.isoformat() if booking.due_date else None,
        "YourRef": booking.your_ref,
        "Description": booking.description,
        "PaymentReference": booking.payment_reference,
        "PaymentCondition": booking.payment_condition,
        "Currency": booking.currency,
        "Rate": None if booking.rate is None else _number(booking.rate),
    }
    lines = [
        {
            "GLAccount": line.gl_account_guid,
            "AmountFC": f"{line.amount_fc:.2f}",
            "VATAmountFC": f"{line.vat_amount_fc:.2f}",
            "VATCode": line.vat_code,
            "Description": line.description,
            "Quantity": _number(line.quantity),
            "CostCenter": line.cost_centre,
        }
        for line in booking.lines
    ]
    return {**_present(header), words.lines_key: [_present(line) for line in lines]}


@dataclass(slots=True)
class _Mapper:
    """The rules, one method each; `report` collects what is wrong."""

    document: Document
    party: Party
    settings: ExportSettings
    reference: ReferenceData
    words: _Words
    problems: list[BookingProblem] = field(default_factory=list)

    @property
    def kind(self) -> str:
        credit = self.document.type is DocumentType.CREDIT_NOTE
        return "credit note" if credit else "invoice"

    def report(self, code: str, sentence: str, where: str) -> None:
        self.problems.append(BookingProblem(code, sentence, where))

    def account(self) -> tuple[str | None, str | None, bool]:
        """(padded code, guid, to create) of the customer or supplier."""
        words, party = self.words, self.party
        who = f"{words.party.capitalize()} {party.name} ({party.ref})"
        code = (party.booking_codes.exact_code or "").strip()
        if not code:
            self.report(
                f"missing_{words.party}_code",
                f"{who} has no code in Exact: enter its {words.party} number in "
                f"{words.codes_screen}.",
                words.codes_screen,
            )
            return None, None, False

        # check_booking_codes keeps a stored code within the 18 characters.
        padded = code.rjust(EXACT_CODE_MAX)
        account = self.reference.accounts.get(padded)
        if account is None:
            if self.settings.create_missing_parties:
                return padded, None, True
            self.report(
                "party_missing_in_exact",
                f"{who} has code {code}, which is not in the Exact administration: "
                f"create it in Exact, correct the code in {words.codes_screen}, or "
                f"tick 'create missing {words.party}s in Exact' on {words.tab}.",
                words.codes_screen,
            )
            return None, None, False
        flags = {
            "customer": (account.is_customer, "set its status to Customer (C)"),
            "supplier": (account.is_supplier, "tick Supplier on the account"),
        }
        is_party, fix = flags[words.party]
        if not is_party:
            self.report(
                f"party_not_{words.party}",
                f"{who} is account {code} in Exact, which is not a {words.party}: "
                f"{fix} in Exact.",
                EXACT_ACCOUNTS,
            )
        if account.blocked:
            self.report(
                "party_blocked",
                f"{who} is account {code} in Exact, which is blocked: unblock it.",
                EXACT_ACCOUNTS,
            )
        return padded, account.guid, False

    def journal(self) -> str | None:
        tab, settings = self.words.tab, self.settings
        name, code = f"{self.words.side} journal", settings.journal
        credit_note = self.document.type is DocumentType.CREDIT_NOTE
        if credit_note and settings.credit_note_journal:
            name, code = "credit-note journal", settings.credit_note_journal
        if not code or not code.strip():
            self.report("no_journal", f"Choose the {name} on {tab}.", tab)
            return None

        code = code.strip()
        found = self.reference.journals.get(code)
        if found is None:
            self.report(
                "journal_unknown",
                f"The {name} {code} is not in the Exact administration: choose "
                f"another on {tab}.",
                tab,
            )
            return None
        wanted = JOURNAL_TYPE_NAMES[self.words.journal_type]
        if found.type != self.words.journal_type:
            actual = JOURNAL_TYPE_NAMES.get(found.type, f"type {found.type}")
            self.report(
                "journal_wrong_type",
                f"The {name} {code} is a {actual} journal in Exact, not a {wanted} "
                f"journal: choose a {wanted} journal on {tab}.",
                tab,
            )
        if found.blocked:
            self.report(
                "journal_blocked",
                f"The {name} {code} is blocked in Exact: unblock it there or "
                f"choose another on {tab}.",
                tab,
            )
        return code

    def lines(self) -> tuple[BookingLine, ...] | None:
        document = self.document
        unknown = False
        for index, line in enumerate(document.lines):
            if line.vat_scenario not in VAT_SCENARIOS:
                unknown = True
                self.report(
                    "vat_scenario_unknown",
                    f"Line {index + 1} of the {self.kind} has VAT scenario "
                    f"{line.vat_scenario!r}, which ledgerbridge does not know: "
                    "correct the line in the business application.",
                    f"lines[{index}].vat_scenario",
                )
        vat_codes = {
            scenario: self.vat_code(scenario)
            for scenario in dict.fromkeys(line.vat_scenario for line in document.lines)
            if scenario in VAT_SCENARIOS
        }
        gl_accounts = [
            self.gl_account(index, line.gl_account)
            for index, line in enumerate(document.lines)
        ]
        if unknown:
            return None

        amounts, sign = document.amounts(), document.sign
        lines: list[BookingLine] = []
        for line, gl, net, vat in zip(
            document.lines,
            gl_accounts,
            amounts.line_nets,
            amounts.line_vats,
            strict=True,
        ):
            vat_code = vat_codes[line.vat_scenario]
            if gl is None or vat_code is None:
                return None
            # A charged code's line goes with the invoice's VAT, 0 under
            # reverse charge: Exact accepts 0 and self-assesses from the code.
            lines.append(
                BookingLine(
                    gl_account_guid=gl[1].guid,
                    gl_account_code=gl[0],
                    vat_code=vat_code,
                    amount_fc=_signed(sign, net),
                    vat_amount_fc=_signed(sign, vat),
                    description=line.description,
                    quantity=sign * line.quantity,
                    cost_centre=self.party.booking_codes.cost_centre,
                )
            )
        return tuple(lines)

    def gl_account(
        self, index: int, own: str | None
    ) -> tuple[str, ExactGLAccount] | None:
        """The line's own GL account, else the party's, else the default."""
        words, codes = self.words, self.party.booking_codes
        if own:
            code, where = own, f"lines[{index}].gl_account"
            source = f"on line {index + 1}"
            fix = f"correct line {index + 1} in the business application"
        elif codes.gl_account:
            code, where = codes.gl_account, words.codes_screen
            source = f"in the booking codes of {words.party} {self.party.name}"
            fix = f"correct it in {where}"
        elif self.settings.default_gl_account:
            code, where = self.settings.default_gl_account, words.tab
            source, fix = f"the default {words.gl} GL account", f"correct it on {where}"
        else:
            self.report(
                "no_gl_account",
                f"No {words.gl} GL account for the lines: set the default "
                f"{words.gl} GL account on {words.tab}, or one in the "
                f"{words.party}'s booking codes ({words.codes_screen}).",
                words.tab,
            )
            return None

        code = code.strip()
        account = self.reference.gl_accounts.get(code)
        about = f"GL account {code} ({source})"
        if account is None:
            self.report("gl_unknown", f"{about} is not in Exact: {fix}.", where)
            return None
        refused = LINE_GL_TYPES_REFUSED.get(account.type)
        if refused:
            self.report(
                "gl_wrong_type",
                f"{about} is {refused} account in Exact, which invoice lines "
                f"cannot use: choose a {words.gl} account; {fix}.",
                where,
            )
        if account.blocked:
            self.report("gl_blocked", f"{about} is blocked in Exact: {fix}.", where)
        return None if refused or account.blocked else (code, account)

    def vat_code(self, scenario_code: str) -> str | None:
        """The Exact VAT code of a scenario, through the tab's VAT mapping."""
        tab, scenario = self.words.tab, VAT_SCENARIOS[scenario_code]
        about = f"VAT scenario {scenario_code} ({scenario.label})"
        mapped = (self.settings.vat_codes.get(scenario_code) or "").strip()
        if not mapped:
            self.report(
                "vat_scenario_unmapped",
                f"{about} has no Exact VAT code: map it in the VAT mapping on {tab}.",
                tab,
            )
            return None
        code = self.reference.vat_codes.get(mapped)
        if code is None:
            self.report(
                "vat_code_unknown",
                f"{about} is mapped to VAT code {mapped}, which is not in the Exact "
                f"administration: correct the VAT mapping on {tab}.",
                tab,
            )
            return None

        rate, exact_rate = _number(scenario.rate), _number(code.percentage * 100)
        zero = " (reverse charge, intra-EU and export book with a 0 % code)"
        self_assessed = (
            self.words.side == "purchase"
            and scenario.category in SELF_ASSESSED
            and scenario.rate == 0
        )
        if self_assessed:
            zero = (
                " (reverse charge and intra-EU purchases book with a 0 % code "
                "or a charged code)"
            )
        charged = code.charged and self.words.side == "purchase"
        if charged:
            # Nothing is charged on the invoice: only a self-assessed scenario
            # fits (or a 0 % code on a 0 % scenario, which books nothing).
            fits = self_assessed and code.percentage > 0
            mismatch = not (fits or code.percentage == scenario.rate == 0)
            rate_is = (
                f"is a charged code ({exact_rate} % self-assessed, no VAT on the "
                "invoice)"
            )
        else:
            mismatch = code.percentage * 100 != scenario.rate
            rate_is = f"is {exact_rate} %"
        checks = {
            "vat_code_blocked": (code.blocked, "is blocked in Exact"),
            "vat_code_inclusive": (
                code.type == "I",
                "includes VAT in the amount, while ledgerbridge sends net amounts: "
                "use a code of type 'excluding'",
            ),
            "vat_code_wrong_side": (
                code.side not in {self.words.side[0].upper(), "B"},
                f"is not a {self.words.side} code",
            ),
            "vat_rate_mismatch": (
                mismatch,
                f"{rate_is} while the scenario charges {rate} %: use a "
                f"{rate} % code{zero if scenario.rate == 0 else ''}",
            ),
        }
        failed = [(reason, what) for reason, (bad, what) in checks.items() if bad]
        for reason, what in failed:
            self.report(
                reason,
                f"{about} is mapped to VAT code {mapped}, which {what}: correct the "
                f"VAT mapping on {tab}.",
                tab,
            )
        return None if failed else mapped


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _signed(sign: int, amount: Decimal) -> Decimal:
    signed = sign * amount
    return signed.copy_abs() if signed == 0 else signed


def _number(value: Decimal) -> str:
    """`Decimal("2.5000")` → `"2.5"`, `Decimal("100")` → `"100"`: no exponent."""
    return format(value.normalize(), "f")
