"""Demo data: two retailers with their customers, suppliers and invoices.

`seed` loads, through the same intake functions as the REST API (so the same
validation applies):

* **be-keukens**, a Belgian kitchen and bathroom retailer (Europe/Brussels),
  and **nl-badkamers**, a Dutch one (Europe/Amsterdam), each with its
  *Accounting settings*: sales and purchase journals, default GL accounts and
  a VAT mapping to the codes of the sandbox's division template
  (`exact-online/charts.md` §3-§5); customer invoice export on and daily at
  02:30, supplier invoice export on, payments import on and daily.
* per company 20 contacts (private people, and businesses with a VAT number)
  and 10 suppliers (wholesalers of cabinets, worktops, appliances and sanitary
  ware, an installer working as subcontractor, a German supplier, services),
  with their booking codes; some override the GL account, VAT scenario or
  cost centre.
* per company about 150 customer invoices and credit notes over the 90 days
  before `today`, using every VAT scenario of the country (6 % renovation
  next to 21 % appliances, reverse charge for works done for businesses,
  intra-EU and export), a few credit notes, invoices in GBP (BE) or USD (NL)
  with an exchange rate, some with a PDF, Belgian ones with a structured
  communication; and about 60 supplier invoices and credit notes. The most
  recent few are drafts (not validated).

Broken on purpose, so the export's error paths can be seen:

* contacts ``c-1013`` and ``c-1014`` and supplier ``s-2010`` of each company
  have no code in Exact (missing booking code) but do have invoices;
* one customer invoice per company uses a VAT scenario that the company's
  settings leave unmapped: ``BE-12`` (a social housing company) and ``NL-00``
  (a shipping company's seagoing vessel).

Seeding only adds what is missing: a company, party, setting or document
already stored under a demo ref is left as it is, so seeding again (on any
day) changes nothing, and what was done with the demo since survives. Nothing
is committed; the caller owns the transaction. The data comes from a
`random.Random` with a fixed seed, so the same `today` gives the same data.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from ledgerbridge import intake
from ledgerbridge.demo.belgium import BELGIUM
from ledgerbridge.demo.model import (
    BE_REF,
    DEMO_COMPANY_REFS,
    DISCOUNTS,
    GOODS,
    HISTORY_DAYS,
    NL_REF,
    PRICE_ENDINGS,
    PURCHASE_CREDIT_NOTES,
    PURCHASE_DRAFTS,
    PURCHASE_INVOICES,
    SALES_CREDIT_NOTES,
    SALES_DRAFTS,
    SALES_INVOICES,
    SEED,
    WORKS,
    Category,
    CompanySummary,
    Country,
    Customer,
    Item,
    Kind,
    SeedSummary,
    Special,
    Supplier,
)
from ledgerbridge.demo.netherlands import (
    NETHERLANDS,
)
from ledgerbridge.domain import structured_reference
from ledgerbridge.domain.documents import Document, DocumentType, Line, Side
from ledgerbridge.domain.parties import Party
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import (
    CompanyRow,
    DocumentPdfRow,
    DocumentRow,
    PartyRow,
)

__all__ = [
    "BE_REF",
    "DEMO_COMPANY_REFS",
    "NL_REF",
    "CompanySummary",
    "SeedSummary",
    "is_seeded",
    "seed",
]

COUNTRIES = (BELGIUM, NETHERLANDS)


# Seeding


def is_seeded(session: Session) -> bool:
    """Whether a demo company is stored."""
    found = session.scalar(
        select(CompanyRow.id).where(CompanyRow.ref.in_(DEMO_COMPANY_REFS)).limit(1)
    )
    return found is not None


def seed(session: Session, today: date) -> SeedSummary:
    """Store what is missing of the demo, dated in the 90 days before `today`.

    Does not commit. Raises `intake.InvalidInput` only if the demo data
    itself breaks a rule (a bug here).
    """
    added = 0
    summaries = []
    for country in COUNTRIES:
        added += seed_company(session, country, today)
        summaries.append(summarise(session, country.company.ref))
    return SeedSummary(tuple(summaries), added)


def seed_company(session: Session, country: Country, today: date) -> int:
    """Store one demo company and what it holds; how many rows were added."""
    rng = random.Random(f"{SEED}:{country.company.ref}")  # noqa: S311 - demo data
    company = repo.get_company(session, country.company.ref)
    added = 0
    if company is None:
        company = intake.upsert_company(session, country.company).row
        added += 1
    if company.settings is None:
        intake.save_settings(session, company, country.settings)

    added += add_parties(
        session, company, intake.CUSTOMER, [c.party for c in country.customers]
    )
    added += add_parties(
        session, company, intake.SUPPLIER, [s.party for s in country.suppliers]
    )

    plans = [*sales_plans(country, rng, today), *purchase_plans(country, rng, today)]
    added += add_documents(session, company, plans)
    return added


def add_parties(
    session: Session, company: CompanyRow, role: str, parties: Sequence[Party]
) -> int:
    added = 0
    for party in parties:
        if repo.get_party(session, company, role, party.ref) is None:
            intake.upsert_party(session, company, role, party)
            added += 1
    return added


@dataclass(frozen=True, slots=True)
class Plan:
    """A document to store under the application's `ref`."""

    ref: str
    document: Document
    pdf: intake.Pdf | None


def add_documents(session: Session, company: CompanyRow, plans: Iterable[Plan]) -> int:
    query = select(DocumentRow.side, DocumentRow.ref).where(
        DocumentRow.company_id == company.id
    )
    stored = {(side, ref) for side, ref in session.execute(query)}
    added = 0
    for plan in plans:
        if (plan.document.side, plan.ref) not in stored:
            intake.upsert_document(session, company, plan.ref, plan.document, plan.pdf)
            added += 1
    return added


def summarise(session: Session, ref: str) -> CompanySummary:
    company = repo.get_company(session, ref)
    assert company is not None  # seeded just before

    def parties(role: str) -> int:
        return count(
            session,
            select(func.count(PartyRow.id)).where(
                PartyRow.company_id == company.id, PartyRow.role == role
            ),
        )

    def documents(*where: ColumnElement[bool]) -> int:
        return count(
            session,
            select(func.count(DocumentRow.id)).where(
                DocumentRow.company_id == company.id, *where
            ),
        )

    invoice = DocumentRow.type == DocumentType.INVOICE
    credit = DocumentRow.type == DocumentType.CREDIT_NOTE
    sales = DocumentRow.side == Side.SALES
    purchase = DocumentRow.side == Side.PURCHASE
    with_pdf = DocumentRow.id.in_(select(DocumentPdfRow.document_id))
    return CompanySummary(
        ref=ref,
        contacts=parties(intake.CUSTOMER),
        suppliers=parties(intake.SUPPLIER),
        customer_invoices=documents(sales, invoice),
        customer_credit_notes=documents(sales, credit),
        supplier_invoices=documents(purchase, invoice),
        supplier_credit_notes=documents(purchase, credit),
        drafts=documents(DocumentRow.validated.is_(False)),
        with_pdf=documents(with_pdf),
    )


def count(session: Session, query: Select[int]) -> int:
    return session.scalar(query) or 0


# Customer invoices


@dataclass(frozen=True, slots=True)
class Draft:
    """A customer invoice before it is numbered (numbers follow the dates)."""

    ref: str
    customer: Customer
    issue_date: date
    description: str
    lines: tuple[Line, ...]
    rate: Decimal | None
    with_pdf: bool
    chance: bool
    """Drawn at random, not hand-made (only those may stay drafts)."""


def sales_plans(country: Country, rng: random.Random, today: date) -> list[Plan]:
    buyers = pick_buyers(country, rng)
    drafts = [
        sales_draft(country, rng, index, customer, today)
        for index, customer in enumerate(buyers, start=1)
    ]
    for index, special in enumerate(country.specials, start=len(drafts) + 1):
        drafts.append(special_draft(country, index, special, today))

    ordered = sorted(drafts, key=lambda d: (d.issue_date, d.ref))
    specials = {d.ref for d in ordered if not d.chance}
    by_chance = [d for d in ordered if d.chance]
    unvalidated = {d.ref for d in by_chance[-SALES_DRAFTS:]}
    invoices = [
        sales_invoice(country, draft, number, draft.ref not in unvalidated)
        for draft, number in zip(
            ordered, numbers((d.issue_date for d in ordered), "F"), strict=True
        )
    ]
    creditable = [plan for plan in invoices if plan.ref not in specials]
    return invoices + sales_credit_notes(country, rng, creditable, today)


def pick_buyers(country: Country, rng: random.Random) -> list[Customer]:
    """Every regular customer once, then the rest weighted by how often they buy."""
    regular = [c for c in country.customers if c.weight > 0]
    weights = [c.weight for c in regular]
    more = rng.choices(regular, weights, k=SALES_INVOICES - len(regular))
    return regular + more


def sales_draft(
    country: Country, rng: random.Random, index: int, customer: Customer, today: date
) -> Draft:
    issue_date = today - timedelta(days=rng.randint(1, HISTORY_DAYS))
    lines = sales_lines(country, rng, customer.kind)
    rate = None
    if customer.currency:
        jitter = Decimal(rng.randint(-150, 150)).scaleb(-4)
        rate = country.exchange_rates[customer.currency] + jitter
    return Draft(
        ref=f"s-{index:04d}",
        customer=customer,
        issue_date=issue_date,
        description=describe(country.descriptions[customer.kind], lines),
        lines=lines,
        rate=rate,
        with_pdf=rng.random() < 0.2,
        chance=True,
    )


def special_draft(country: Country, index: int, special: Special, today: date) -> Draft:
    customer = next(c for c in country.customers if c.party.ref == special.customer_ref)
    return Draft(
        ref=f"s-{index:04d}",
        customer=customer,
        issue_date=today - timedelta(days=special.days_ago),
        description=describe(special.description, special.lines),
        lines=special.lines,
        rate=None,
        with_pdf=True,
        chance=False,
    )


def sales_lines(country: Country, rng: random.Random, kind: Kind) -> tuple[Line, ...]:
    def pool(*categories: Category) -> list[Item]:
        return [item for item in country.items if item.category in categories]

    chosen = rng.sample(pool(*GOODS), rng.randint(1, 4))
    if kind in WORKS:
        chosen += rng.sample(pool(Category.LABOUR), rng.randint(1, 2))
        if rng.random() < 0.4:
            chosen.append(rng.choice(pool(Category.FINISHING)))
    if rng.random() < 0.5:
        chosen.append(rng.choice(pool(Category.DELIVERY)))

    lines = []
    for item in chosen:
        scenario = country.scenario(kind, item.category)
        gl_account = country.line_gl(item.category, scenario)
        lines.append(make_line(rng, item, scenario, gl_account))
    return tuple(lines)


def make_line(
    rng: random.Random, item: Item, scenario: str, gl_account: str | None = None
) -> Line:
    discount = Decimal("0")
    if item.category in GOODS and rng.random() < 0.2:
        discount = Decimal(rng.choice(DISCOUNTS))
    return Line(
        description=item.description,
        quantity=Decimal(rng.choice(item.quantities)),
        unit_price=price(rng, item),
        vat_scenario=scenario,
        discount_percent=discount,
        gl_account=gl_account,
    )


def price(rng: random.Random, item: Item) -> Decimal:
    if item.low == item.high:
        return item.low.quantize(Decimal("0.01"))
    euros = rng.randint(int(item.low), int(item.high))
    return Decimal(f"{euros}.{rng.choice(PRICE_ENDINGS)}")


def describe(subject: str, lines: Iterable[Line]) -> str:
    """The subject and the VAT mentions the invoice must carry, once each."""
    mentions = dict.fromkeys(
        VAT_SCENARIOS[line.vat_scenario].invoice_mention for line in lines
    )
    return ". ".join([subject, *(m for m in mentions if m)])


def numbers(dates: Iterable[date], prefix: str, digits: int = 4) -> Iterator[str]:
    """Numbers for documents of `dates` (in order), restarting each year:
    F2026-0001, F2026-0002, ..."""
    counters: dict[int, int] = {}
    for issue_date in dates:
        year = issue_date.year
        counters[year] = counters.get(year, 0) + 1
        yield f"{prefix}{year}-{counters[year]:0{digits}d}"


def sales_invoice(country: Country, draft: Draft, number: str, validated: bool) -> Plan:
    customer = draft.customer
    document = Document(
        side=Side.SALES,
        type=DocumentType.INVOICE,
        number=number,
        party_ref=customer.party.ref,
        issue_date=draft.issue_date,
        due_date=draft.issue_date + timedelta(days=country.payment_days),
        currency=customer.currency or country.company.base_currency,
        exchange_rate=draft.rate,
        payment_reference=payment_reference(country, draft.issue_date, number),
        description=draft.description,
        lines=draft.lines,
        validated=validated,
    )
    document = with_total(document)
    pdf = None
    if draft.with_pdf and validated:
        pdf = document_pdf(document, country.company.name, customer.party.name, country)
    return Plan(draft.ref, document, pdf)


def payment_reference(country: Country, issue_date: date, number: str) -> str:
    """A structured communication in Belgium (year, journal 70, sequence:
    2500700042, as in charts.md §7.7), the invoice number in the Netherlands."""
    if not country.structured:
        return number
    sequence = int(number.rsplit("-", 1)[1])
    return structured_reference.generate(
        (issue_date.year % 100) * 10**8 + 70 * 10**4 + sequence
    )


def with_total(document: Document) -> Document:
    """The document with the total it prints, as the application sends it."""
    return dataclasses.replace(document, expected_total=document.amounts().total)


def sales_credit_notes(
    country: Country, rng: random.Random, invoices: Sequence[Plan], today: date
) -> list[Plan]:
    """Credit notes on older validated `invoices`: part of their lines back."""
    latest = today - timedelta(days=14)
    candidates = [
        plan
        for plan in invoices
        if plan.document.validated and plan.document.issue_date <= latest
    ]
    originals = rng.sample(candidates, SALES_CREDIT_NOTES)
    notes = sorted(
        (
            (credit_note(country, rng, original.document, today), f"cn-{index:03d}")
            for index, original in enumerate(originals, start=1)
        ),
        key=lambda pair: (pair[0].issue_date, pair[1]),
    )
    dates = (note.issue_date for note, _ in notes)

    plans: list[Plan] = []
    for (note, ref), number in zip(notes, numbers(dates, "CN", 3), strict=True):
        numbered = dataclasses.replace(note, number=number)
        pdf = None
        if len(plans) % 2 == 0:
            name = party_name(country, numbered)
            pdf = document_pdf(numbered, country.company.name, name, country)
        plans.append(Plan(ref, numbered, pdf))
    return plans


def credit_note(
    country: Country, rng: random.Random, original: Document, today: date
) -> Document:
    """Part of `original` credited: one or two of its lines, one piece each."""
    picked = rng.sample(original.lines, rng.randint(1, min(2, len(original.lines))))
    lines = tuple(
        dataclasses.replace(line, quantity=min(line.quantity, Decimal(1)))
        if line.quantity == line.quantity.to_integral_value()
        else line
        for line in picked
    )
    later = original.issue_date + timedelta(days=rng.randint(3, 12))
    reason = rng.choice(country.credit_reasons)
    document = dataclasses.replace(
        original,
        type=DocumentType.CREDIT_NOTE,
        issue_date=min(later, today - timedelta(days=1)),
        due_date=None,
        payment_reference=None,
        description=f"{country.words['credit']} {original.number}: {reason}",
        lines=lines,
        validated=True,
    )
    return with_total(document)


def party_name(country: Country, document: Document) -> str:
    parties = [c.party for c in country.customers] + [
        s.party for s in country.suppliers
    ]
    return next(p.name for p in parties if p.ref == document.party_ref)


# Supplier invoices


def purchase_plans(country: Country, rng: random.Random, today: date) -> list[Plan]:
    """Supplier invoices, numbered in each supplier's own series."""
    suppliers = list(country.suppliers)
    starts = {s.party.ref: rng.randint(100, 8999) for s in suppliers}
    picked = suppliers + rng.choices(
        suppliers, [s.weight for s in suppliers], k=PURCHASE_INVOICES - len(suppliers)
    )
    drafts = [
        (today - timedelta(days=rng.randint(1, HISTORY_DAYS)), index, supplier)
        for index, supplier in enumerate(picked, start=1)
    ]
    drafts.sort(key=lambda d: (d[0], d[1]))

    plans = []
    for position, (issue_date, index, supplier) in enumerate(drafts):
        starts[supplier.party.ref] += 1
        number = f"{supplier.number_prefix}{starts[supplier.party.ref]}"
        validated = position < len(drafts) - PURCHASE_DRAFTS
        document = purchase_invoice(country, rng, supplier, number, issue_date)
        document = dataclasses.replace(document, validated=validated)
        pdf = None
        if rng.random() < 0.25:
            pdf = document_pdf(
                document, supplier.party.name, country.company.name, country
            )
        plans.append(Plan(f"p-{index:04d}", document, pdf))
    return plans + purchase_credit_notes(country, rng, plans, today)


def purchase_invoice(
    country: Country,
    rng: random.Random,
    supplier: Supplier,
    number: str,
    issue_date: date,
) -> Document:
    how_many = min(len(supplier.items), rng.randint(1, 3))
    lines = tuple(
        make_line(rng, item, supplier.scenario)
        for item in rng.sample(supplier.items, how_many)
    )
    reference = None
    if supplier.structured:
        reference = structured_reference.generate(rng.randrange(10**10))
    document = Document(
        side=Side.PURCHASE,
        type=DocumentType.INVOICE,
        number=number,
        party_ref=supplier.party.ref,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=30),
        currency=country.company.base_currency,
        payment_reference=reference,
        description=describe(f"{supplier.party.name} {number}", lines),
        lines=lines,
    )
    return with_total(document)


def purchase_credit_notes(
    country: Country, rng: random.Random, invoices: Sequence[Plan], today: date
) -> list[Plan]:
    goods = {
        s.party.ref
        for s in country.suppliers
        if s.scenario == country.standard and s.items[0].category in GOODS
    }
    candidates = [
        plan
        for plan in invoices
        if plan.document.party_ref in goods
        and plan.document.validated
        and plan.document.issue_date <= today - timedelta(days=14)
    ]
    notes = []
    for index, original in enumerate(rng.sample(candidates, PURCHASE_CREDIT_NOTES), 1):
        note = credit_note(country, rng, original.document, today)
        note = dataclasses.replace(note, number=f"{original.document.number}-C")
        notes.append(Plan(f"pcn-{index:03d}", note, None))
    return notes


# A one-page PDF, written by hand


def document_pdf(
    document: Document, issuer: str, recipient: str, country: Country
) -> intake.Pdf:
    words = country.words
    title = words["invoice" if document.type is DocumentType.INVOICE else "credit_note"]
    total = document.amounts().total
    text = [
        issuer,
        f"{title} {document.number}",
        f"{words['date']}: {document.issue_date.isoformat()}",
        f"{words['to']}: {recipient}",
        f"{words['total']}: {document.currency} {total}",
    ]
    if document.payment_reference:
        text.append(f"{words['reference']}: {document.payment_reference}")
    return intake.Pdf(f"{document.number}.pdf", one_page_pdf(text))


def one_page_pdf(text: Sequence[str]) -> bytes:
    """A valid PDF 1.4 of one A4 page showing `text`, a line each, in Helvetica."""
    shown = b" T* ".join(b"(" + pdf_string(line) + b") Tj" for line in text)
    content = b"BT /F1 12 Tf 16 TL 56 780 Td " + shown + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_string(text: str) -> bytes:
    """`text` as the inside of a PDF literal string in WinAnsiEncoding."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
