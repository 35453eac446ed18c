"""Synthetic load: one Belgian company with many customers and invoices, fast.

For the fault drill (`tests/sync/test_fault_drill.py`) and the benchmarks
(`bench/`): `load_company` stores a company whose *Customer invoice* tab
books into the sandbox's BE template (journal 70, GL account 700000, the
template's V21/V12/V06/VMC/VIB/VEX codes, missing customers created in
Exact), `customers` customers with a code each, and `invoices` validated
customer invoices and credit notes with a few lines of mixed VAT scenarios;
`add_invoices` adds more to a company already loaded (a later day's work).

The rows are the ones intake writes: the company and its settings go through
`intake` itself; each party and document is checked with the domain rules
and copied onto its row by `repositories.write_party` / `write_document`
(amounts, VAT per rate spread over the lines, `Document.fingerprint()`).
Only the writing differs: documents and lines are inserted in bulk, a batch
per transaction, instead of one unit of work per document, so 100,000
invoices take a minute or two rather than an hour. Nothing here runs in the
application itself.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge import intake
from ledgerbridge.demo import one_page_pdf
from ledgerbridge.domain.accounting import (
    AccountingSettings,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.domain.documents import (
    Document,
    DocumentType,
    Line,
    Side,
    check_document,
)
from ledgerbridge.domain.parties import (
    Address,
    BookingCodes,
    Company,
    Party,
    check_party,
)
from ledgerbridge.domain.problems import InvalidInput
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import Base, DocumentRow, PartyRow

JOURNAL = "70"
REVENUE = "700000"
SALES_VAT_CODES = MappingProxyType(
    {
        "BE-21": "V21",
        "BE-12": "V12",
        "BE-06": "V06",
        "BE-06-RENOVATION": "V06",
        "BE-00-INTRA-EU": "VIB",
        "BE-00-EXPORT": "VEX",
        "BE-REVERSE-CHARGE": "VMC",
    }
)
"""VAT scenario -> a code of the sandbox's BE template (templates.json)."""

BATCH = 2_000
FIRST_CODE = 100_001

# (scenario of each line, weight): what a customer's invoices are made of.
PROFILES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("BE-21",), 40),
    (("BE-06-RENOVATION", "BE-21"), 20),
    (("BE-06",), 5),
    (("BE-12", "BE-21"), 5),
    (("BE-REVERSE-CHARGE",), 15),
    (("BE-00-INTRA-EU",), 10),
    (("BE-00-EXPORT",), 5),
)
ITEMS = (
    "Keukenkast onderbouw 60 cm",
    "Composiet werkblad 20 mm, per lopende meter",
    "Inbouwoven multifunctie 71 l",
    "Plaatsing en montage",
    "Badmeubel 100 cm met dubbele wastafel",
    "Levering en transport",
)
QUANTITIES = ("1", "1", "2", "3", "2.5", "0.75")
DISCOUNTS = ("0", "0", "0", "5", "10", "12.5")


def load_settings(*, attach_pdf: bool = False) -> AccountingSettings:
    """Customer invoice export on, into the sandbox's BE template."""
    return AccountingSettings(
        sales=ExportSettings(
            enabled=True,
            journal=JOURNAL,
            credit_note_journal=JOURNAL,
            default_gl_account=REVENUE,
            vat_codes=SALES_VAT_CODES,
            create_missing_parties=True,
            attach_pdf=attach_pdf,
        ),
        payments=PaymentImportSettings(enabled=True),
    )


@dataclass(frozen=True, slots=True)
class Loaded:
    company_ref: str
    company_id: int
    customers: int
    invoices: int
    credit_notes: int
    first: date
    last: date
    numbers: tuple[str, ...] = ()
    """The documents' numbers (their `YourRef` in Exact), when kept."""


def load_company(
    sessions: sessionmaker[Session],
    ref: str = "load-be",
    *,
    customers: int = 50,
    invoices: int = 1_000,
    last: date,
    days: int = 60,
    credit_note_share: float = 0.05,
    pdf_share: float = 0.0,
    seed: int = 1,
    batch: int = BATCH,
    keep_numbers: bool = False,
) -> Loaded:
    """Store the company `ref` with `customers` customers, then `invoices`
    documents as `add_invoices` does; the tab's *attach PDF* is ticked when
    a `pdf_share` of them get a PDF."""
    company = Company(
        ref=ref,
        name=f"Load {ref}",
        country="BE",
        vat_number="BE0579483443",
        time_zone="Europe/Brussels",
    )
    with sessions.begin() as session:
        row = intake.upsert_company(session, company).row
        intake.save_settings(session, row, load_settings(attach_pdf=pdf_share > 0))
        company_id = row.id
        for index in range(customers):
            party = customer_party(FIRST_CODE + index)
            problems = check_party(party, company)
            if problems:
                raise InvalidInput(problems)
            party_row = PartyRow(company_id=company_id, role=intake.CUSTOMER)
            repo.write_party(party_row, party)
            session.add(party_row)
    return add_invoices(
        sessions,
        ref,
        invoices=invoices,
        last=last,
        days=days,
        credit_note_share=credit_note_share,
        pdf_share=pdf_share,
        seed=seed,
        batch=batch,
        keep_numbers=keep_numbers,
    )


def add_invoices(
    sessions: sessionmaker[Session],
    ref: str,
    *,
    invoices: int,
    last: date,
    days: int = 60,
    credit_note_share: float = 0.05,
    pdf_share: float = 0.0,
    seed: int = 1,
    batch: int = BATCH,
    keep_numbers: bool = False,
) -> Loaded:
    """Store `invoices` more validated documents of the company `ref`, dated
    in the `days` days up to `last`, numbered after those it has: the first
    ones go to each customer in turn (so every customer has one), the rest
    to customers drawn at random; a `credit_note_share` of them are credit
    notes and a `pdf_share` have a small PDF. Commits a batch at a time."""
    with sessions() as session:
        row = repo.get_company(session, ref)
        if row is None:
            raise intake.UnknownCompany(ref)
        company, company_id = repo.company_from_row(row), row.id
        parties = list(
            session.scalars(
                select(PartyRow)
                .where(
                    PartyRow.company_id == company_id,
                    PartyRow.role == intake.CUSTOMER,
                )
                .order_by(PartyRow.id)
            )
        )
        stored = (
            session.scalar(
                select(func.count()).where(DocumentRow.company_id == company_id)
            )
            or 0
        )
        session.expunge_all()  # detached: documents may point at them freely
    by_ref = {party.ref: party for party in parties}
    profiles = [_profile(party) for party in parties]
    rng = random.Random(f"{seed}:{ref}:{stored}")  # noqa: S311 - synthetic data

    first = last - timedelta(days=days - 1)
    numbers: list[str] = []
    credit_notes = 0
    for start in range(0, invoices, batch):
        documents = []
        with_pdf: list[bool] = []
        for index in range(start, min(start + batch, invoices)):
            chosen = index if index < len(parties) else rng.randrange(len(parties))
            credit = rng.random() < credit_note_share
            credit_notes += credit
            number = f"LG{'C' if credit else 'F'}{stored + index + 1:07d}"
            day = first + timedelta(days=rng.randrange(days))
            documents.append(
                _document(rng, number, parties[chosen], profiles[chosen], day, credit)
            )
            with_pdf.append(rng.random() < pdf_share)
            if keep_numbers:
                numbers.append(number)
        _insert_documents(sessions, company, company_id, documents, by_ref, with_pdf)
    return Loaded(
        company_ref=ref,
        company_id=company_id,
        customers=len(parties),
        invoices=invoices - credit_notes,
        credit_notes=credit_notes,
        first=first,
        last=last,
        numbers=tuple(numbers),
    )


# Customers


def customer_party(code: int) -> Party:
    """The synthetic customer whose code in Exact is `code`."""
    return Party(
        ref=f"c-{code}",
        name=f"Klant {code}",
        email=f"klant{code}@mail.example",
        address=Address(f"Kerkstraat {code % 200 + 1}", "9000", "Gent", "BE"),
        booking_codes=BookingCodes(exact_code=str(code)),
    )


def _profile(party: PartyRow) -> tuple[str, ...]:
    """The VAT scenarios of a customer's lines, fixed by its code."""
    rng = random.Random(party.exact_code)  # noqa: S311 - synthetic data
    chosen: tuple[str, ...] = rng.choices(
        [scenarios for scenarios, _ in PROFILES],
        [weight for _, weight in PROFILES],
    )[0]
    return chosen


# Documents


def _document(
    rng: random.Random,
    number: str,
    party: PartyRow,
    profile: tuple[str, ...],
    day: date,
    credit: bool,
) -> Document:
    lines = []
    for _ in range(rng.randint(1, 4)):
        cents = rng.randint(1_000, 250_000)
        lines.append(
            Line(
                description=rng.choice(ITEMS),
                quantity=Decimal(rng.choice(QUANTITIES)),
                unit_price=Decimal(cents).scaleb(-2),
                vat_scenario=rng.choice(profile),
                discount_percent=Decimal(rng.choice(DISCOUNTS)),
            )
        )
    return Document(
        side=Side.SALES,
        type=DocumentType.CREDIT_NOTE if credit else DocumentType.INVOICE,
        number=number,
        party_ref=party.ref,
        issue_date=day,
        currency="EUR",
        lines=tuple(lines),
        description=f"{'Creditnota' if credit else 'Factuur'} {number}",
        validated=True,
    )


TABLES = Base.metadata.tables
_DOCUMENT_COLUMNS = tuple(column.key for column in TABLES["document"].columns)
_LINE_COLUMNS = tuple(
    column.key
    for column in TABLES["document_line"].columns
    if column.key not in {"id", "document_id"}
)


def _insert_documents(
    sessions: sessionmaker[Session],
    company: Company,
    company_id: int,
    documents: Sequence[Document],
    parties: Mapping[str, PartyRow],
    with_pdf: Sequence[bool],
) -> None:
    """One batch: each document checked and copied onto a (transient) row by
    `write_document`, then its columns inserted in bulk."""
    document_values: list[dict[str, Any]] = []
    line_values: list[list[dict[str, Any]]] = []
    pdfs: list[tuple[str, bytes] | None] = []
    for document, pdf in zip(documents, with_pdf, strict=True):
        problems = check_document(document, company)
        if problems:
            raise InvalidInput(problems)
        party = parties[document.party_ref]
        row = DocumentRow(company_id=company_id, ref=document.number)
        repo.write_document(row, document, party)
        values = _set_columns(row, _DOCUMENT_COLUMNS)
        values["party_id"] = party.id
        document_values.append(values)
        line_values.append([_set_columns(line, _LINE_COLUMNS) for line in row.lines])
        pdfs.append(_pdf(document, company) if pdf else None)

    with sessions.begin() as session:
        table = TABLES["document"]
        ids = session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            document_values,
        ).all()
        lines = [
            {**values, "document_id": document_id}
            for document_id, rows in zip(ids, line_values, strict=True)
            for values in rows
        ]
        session.execute(insert(TABLES["document_line"]), lines)
        attached = [
            {
                "document_id": document_id,
                "filename": filename,
                "sha256": hashlib.sha256(content).hexdigest(),
                "content": content,
            }
            for document_id, found in zip(ids, pdfs, strict=True)
            if found is not None
            for filename, content in (found,)
        ]
        if attached:
            session.execute(insert(TABLES["document_pdf"]), attached)


def _set_columns(row: Any, columns: Sequence[str]) -> dict[str, Any]:
    """The columns `write_document` set on a transient row (the others take
    their defaults, as on a flush)."""
    state = vars(row)
    return {name: state[name] for name in columns if name in state}


def _pdf(document: Document, company: Company) -> tuple[str, bytes]:
    total = document.amounts().total
    text = [company.name, f"Factuur {document.number}", f"Totaal: EUR {total}"]
    return f"{document.number}.pdf", one_page_pdf(text)
