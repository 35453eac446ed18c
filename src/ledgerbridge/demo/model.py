"""The shapes of the demo data and the helpers that build it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.domain.documents import Line
from ledgerbridge.domain.parties import Address, BookingCodes, Company, Party

SEED = 20260101
"""Any fixed number: the same seed and `today` give the same demo."""
HISTORY_DAYS = 90
SALES_INVOICES = 140
"""Invoices drawn at random per company, besides the hand-made ones."""
SALES_CREDIT_NOTES = 6
PURCHASE_INVOICES = 58
PURCHASE_CREDIT_NOTES = 2
SALES_DRAFTS = 4
PURCHASE_DRAFTS = 2

BE_REF = "be-keukens"
NL_REF = "nl-badkamers"
DEMO_COMPANY_REFS = (BE_REF, NL_REF)


# What the seed returns


@dataclass(frozen=True, slots=True)
class CompanySummary:
    """What one demo company holds after seeding."""

    ref: str
    contacts: int
    suppliers: int
    customer_invoices: int
    customer_credit_notes: int
    supplier_invoices: int
    supplier_credit_notes: int
    drafts: int
    with_pdf: int

    def __str__(self) -> str:
        return (
            f"{self.ref}: {self.contacts} contacts, {self.suppliers} suppliers, "
            f"{self.customer_invoices} customer invoices and "
            f"{self.customer_credit_notes} credit notes, "
            f"{self.supplier_invoices} supplier invoices and "
            f"{self.supplier_credit_notes} credit notes"
        )


@dataclass(frozen=True, slots=True)
class SeedSummary:
    companies: tuple[CompanySummary, ...]
    added: int
    """Companies, parties and documents this call added (0 when seeded)."""

    def __str__(self) -> str:
        return "; ".join(str(company) for company in self.companies)


# The shape of the demo data


class Kind(StrEnum):
    """What a customer buys, which decides the VAT scenario of its lines."""

    PRIVATE_RENOVATION = "private_renovation"
    """Works on an older home: BE 6 % renovation, NL 9 % on finishing labour."""
    PRIVATE_NEW_BUILD = "private_new_build"
    PRIVATE_SHOP = "private_shop"
    """Goods taken from the showroom, no installation."""
    BUSINESS_WORKS = "business_works"
    """Works for a business that reverse-charges the VAT."""
    BUSINESS_GOODS = "business_goods"
    INTRA_EU = "intra_eu"
    EXPORT = "export"


class Category(StrEnum):
    FITTED = "fitted"
    """Cabinets, worktops, sanitary ware: fixed to the building when fitted."""
    APPLIANCE = "appliance"
    LABOUR = "labour"
    FINISHING = "finishing"
    DELIVERY = "delivery"


GOODS = (Category.FITTED, Category.APPLIANCE)
SERVICES = (Category.LABOUR, Category.FINISHING)
WORKS = (Kind.PRIVATE_RENOVATION, Kind.PRIVATE_NEW_BUILD, Kind.BUSINESS_WORKS)
DISCOUNTS = ("5", "10", "12.5", "15")
PRICE_ENDINGS = ("00", "00", "50", "95")


@dataclass(frozen=True, slots=True)
class Item:
    description: str
    low: Decimal
    high: Decimal
    category: Category
    quantities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Customer:
    party: Party
    kind: Kind
    weight: int
    """How often it buys; 0 for one with only a hand-made invoice."""
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Supplier:
    party: Party
    scenario: str
    weight: int
    number_prefix: str
    items: tuple[Item, ...]
    structured: bool = False
    """Prints a Belgian structured communication on its invoices."""


@dataclass(frozen=True, slots=True)
class Special:
    """A hand-made customer invoice, for a scenario chance would not give."""

    customer_ref: str
    days_ago: int
    description: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Country:
    """Everything that differs between the Belgian and the Dutch demo."""

    company: Company
    settings: AccountingSettings
    customers: tuple[Customer, ...]
    suppliers: tuple[Supplier, ...]
    items: tuple[Item, ...]
    specials: tuple[Special, ...]
    standard: str
    reduced: str
    reduced_categories: tuple[Category, ...]
    by_kind: Mapping[Kind, str]
    """Kinds whose every line takes one scenario."""
    descriptions: Mapping[Kind, str]
    service_gl: str | None
    reduced_gl: str | None
    payment_days: int
    exchange_rates: Mapping[str, Decimal]
    credit_reasons: tuple[str, ...]
    structured: bool
    words: Mapping[str, str]

    def scenario(self, kind: Kind, category: Category) -> str:
        if kind in self.by_kind:
            return self.by_kind[kind]
        if kind is Kind.PRIVATE_RENOVATION and category in self.reduced_categories:
            return self.reduced
        return self.standard

    def line_gl(self, category: Category, scenario: str) -> str | None:
        if category in SERVICES and self.service_gl:
            return self.service_gl
        return self.reduced_gl if scenario == self.reduced else None


def items(rows: Iterable[tuple[str, str, str, Category, str]]) -> tuple[Item, ...]:
    """Items from (description, lowest price, highest price, category,
    quantities separated by spaces)."""
    return tuple(
        Item(text, Decimal(low), Decimal(high), category, tuple(qty.split()))
        for text, low, high, category, qty in rows
    )


def people(
    country: str, rows: Iterable[tuple[str, str, str, str, Kind, str | None]]
) -> tuple[Customer, ...]:
    """Private customers c-1001, c-1002, ... from (name, street, postal code,
    city, kind, cost centre); those in `WITHOUT_CODE` have no code in Exact."""
    customers = []
    for number, (name, street, postal_code, city, kind, centre) in enumerate(
        rows, start=1001
    ):
        ref = f"c-{number}"
        code = None if ref in WITHOUT_CODE else str(number)
        slug = ".".join(name.lower().replace("'", "").split())
        party = Party(
            ref=ref,
            name=name,
            email=f"{slug}@mail.example",
            address=Address(street, postal_code, city, country),
            booking_codes=BookingCodes(exact_code=code, cost_centre=centre),
        )
        customers.append(Customer(party, kind, weight=4))
    return tuple(customers)


def business(
    ref: str,
    name: str,
    vat_number: str | None,
    where: tuple[str, str, str, str],
    kind: Kind,
    weight: int,
    codes: BookingCodes,
    currency: str | None = None,
) -> Customer:
    domain = "".join(c for c in name.lower().split()[0] if c.isalnum())
    party = Party(
        ref=ref,
        name=name,
        vat_number=vat_number,
        email=f"info@{domain}.example",
        address=Address(*where),
        booking_codes=codes,
    )
    return Customer(party, kind, weight, currency)


def supplier_party(
    ref: str,
    name: str,
    vat_number: str,
    where: tuple[str, str, str, str],
    codes: BookingCodes,
) -> Party:
    domain = "".join(c for c in name.lower().split()[0] if c.isalnum())
    return Party(
        ref=ref,
        name=name,
        vat_number=vat_number,
        email=f"facturatie@{domain}.example",
        address=Address(*where),
        booking_codes=codes,
    )


def settings(sales: ExportSettings, purchases: ExportSettings) -> AccountingSettings:
    return AccountingSettings(
        sales=sales,
        purchases=purchases,
        payments=PaymentImportSettings(enabled=True, daily=DailyRun(True, time(3))),
    )


def export(
    journal: str, gl_account: str, vat_codes: dict[str, str], daily: bool
) -> ExportSettings:
    # The sandbox's templates have no credit-note journal (charts.md §4.1):
    # credit notes go to the invoices' journal.
    return ExportSettings(
        enabled=True,
        daily=DailyRun(daily, time(2, 30)),
        journal=journal,
        credit_note_journal=journal,
        default_gl_account=gl_account,
        vat_codes=MappingProxyType(vat_codes),
        # The sandbox's divisions start without customers and suppliers.
        create_missing_parties=True,
        attach_pdf=True,
    )


F, A, L, FIN, D = (
    Category.FITTED,
    Category.APPLIANCE,
    Category.LABOUR,
    Category.FINISHING,
    Category.DELIVERY,
)

RENO, NEW, SHOP = Kind.PRIVATE_RENOVATION, Kind.PRIVATE_NEW_BUILD, Kind.PRIVATE_SHOP
WITHOUT_CODE = frozenset({"c-1013", "c-1014"})
"""Private customers left without a code in Exact, on purpose."""


def line(
    description: str, quantity: str, unit_price: str, scenario: str, gl: str = ""
) -> Line:
    return Line(
        description,
        Decimal(quantity),
        Decimal(unit_price),
        scenario,
        gl_account=gl or None,
    )
