"""The demo seeder, on a throwaway SQLite database."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ledgerbridge import demo, intake, wiring
from ledgerbridge.demo import sandbox as demo_exact
from ledgerbridge.domain import structured_reference
from ledgerbridge.domain.documents import DocumentType, Side
from ledgerbridge.domain.parties import vat_number_is_valid
from ledgerbridge.domain.vat_catalogue import scenarios_for
from ledgerbridge.runner import Runner
from ledgerbridge.sandbox.app import create_app as create_sandbox
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.settings import MissingSetting, Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.database import make_engine, make_session_factory
from ledgerbridge.storage.migrate import upgrade
from ledgerbridge.storage.tables import (
    Base,
    CompanyRow,
    DocumentRow,
    ExactConnectionRow,
    PartyRow,
)
from tests.serving import serve

TODAY = date(2026, 3, 15)
COUNTRIES = {demo.BE_REF: "BE", demo.NL_REF: "NL"}


def _session(path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    yield from _session(tmp_path / "t.db")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A database seeded once for the read-only tests of this module."""
    path = tmp_path_factory.mktemp("demo") / "t.db"
    for session in _session(path):
        demo.seed(session, TODAY)
        session.commit()
        yield session


def _company(session: Session, ref: str) -> CompanyRow:
    company = repo.get_company(session, ref)
    assert company is not None
    return company


def _documents(session: Session, ref: str, side: Side | None = None):
    query = (
        select(DocumentRow)
        .join(CompanyRow)
        .where(CompanyRow.ref == ref)
        .options(
            selectinload(DocumentRow.lines),
            selectinload(DocumentRow.party),
            selectinload(DocumentRow.pdf),
        )
        .order_by(DocumentRow.side, DocumentRow.ref)
    )
    if side is not None:
        query = query.where(DocumentRow.side == side)
    return session.scalars(query).all()


def _snapshot(session: Session):
    counts = {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }
    documents = {
        (row.company_id, row.side, row.ref): (
            row.revision,
            row.fingerprint,
            row.updated_at,
        )
        for row in session.scalars(select(DocumentRow))
    }
    return counts, documents


# What is seeded


def test_seed_counts_per_company(seeded):
    summary = demo.seed(seeded, TODAY)

    assert [c.ref for c in summary.companies] == [demo.BE_REF, demo.NL_REF]
    for company in summary.companies:
        assert company.contacts == 20
        assert company.suppliers == 10
        customer_documents = company.customer_invoices + company.customer_credit_notes
        assert 140 <= customer_documents <= 160
        assert 3 <= company.customer_credit_notes <= 10
        assert 50 <= company.supplier_invoices + company.supplier_credit_notes <= 70
        assert 1 <= company.drafts <= 10
        assert company.with_pdf >= 5
        assert company.ref in str(summary)


def test_seed_summary_matches_the_rows(seeded):
    summary = demo.seed(seeded, TODAY)

    for company in summary.companies:
        documents = _documents(seeded, company.ref)
        sales = [d for d in documents if d.side == Side.SALES]
        assert len(sales) == company.customer_invoices + company.customer_credit_notes
        assert sum(not d.validated for d in documents) == company.drafts
        assert sum(d.pdf is not None for d in documents) == company.with_pdf


def test_companies_are_valid_with_settings(seeded):
    for ref, country in COUNTRIES.items():
        company = _company(seeded, ref)
        settings = repo.load_settings(seeded, company)

        assert company.country == country
        assert vat_number_is_valid(company.vat_number, country)
        assert settings.sales.enabled
        assert settings.sales.daily.enabled
        assert settings.sales.daily.at.isoformat() == "02:30:00"
        assert settings.sales.journal
        assert settings.purchases.enabled
        assert settings.purchases.journal
        assert settings.payments.enabled
    assert _company(seeded, demo.BE_REF).time_zone == "Europe/Brussels"
    assert _company(seeded, demo.NL_REF).time_zone == "Europe/Amsterdam"


@pytest.mark.parametrize(("ref", "country"), COUNTRIES.items())
def test_every_vat_scenario_on_customer_invoices(seeded, ref, country):
    used = {
        line.vat_scenario
        for document in _documents(seeded, ref, Side.SALES)
        if document.type == DocumentType.INVOICE
        for line in document.lines
    }

    assert used == {scenario.code for scenario in scenarios_for(country)}


@pytest.mark.parametrize("ref", COUNTRIES)
def test_reverse_charge_only_for_businesses(seeded, ref):
    for document in _documents(seeded, ref, Side.SALES):
        if any("REVERSE-CHARGE" in line.vat_scenario for line in document.lines):
            assert document.party.vat_number


@pytest.mark.parametrize("ref", COUNTRIES)
def test_credit_notes_are_positive(seeded, ref):
    notes = [
        d
        for d in _documents(seeded, ref, Side.SALES)
        if d.type == DocumentType.CREDIT_NOTE
    ]

    assert notes
    assert all(note.total > 0 for note in notes)
    assert all(line.quantity > 0 for note in notes for line in note.lines)


@pytest.mark.parametrize("ref", COUNTRIES)
def test_foreign_currency_invoice_has_a_rate(seeded, ref):
    foreign = [d for d in _documents(seeded, ref) if d.currency != "EUR"]

    assert foreign
    assert {d.currency for d in foreign} <= {"GBP", "USD"}
    assert all(d.exchange_rate is not None and d.exchange_rate > 0 for d in foreign)


@pytest.mark.parametrize("ref", COUNTRIES)
def test_dates_in_the_90_days_before_today(seeded, ref):
    for document in _documents(seeded, ref):
        assert TODAY - timedelta(days=90) <= document.issue_date < TODAY
        if document.due_date is not None:
            assert document.due_date >= document.issue_date


def test_belgian_invoices_carry_a_structured_communication(seeded):
    invoices = [
        d
        for d in _documents(seeded, demo.BE_REF, Side.SALES)
        if d.type == DocumentType.INVOICE
    ]

    assert invoices
    for invoice in invoices:
        reference = invoice.payment_reference
        assert reference is not None
        assert structured_reference.normalise(reference) == reference


def test_most_invoices_validated_a_few_drafts(seeded):
    for ref in COUNTRIES:
        documents = _documents(seeded, ref)
        drafts = [d for d in documents if not d.validated]

        assert 1 <= len(drafts) <= len(documents) // 10


@pytest.mark.parametrize("ref", COUNTRIES)
def test_totals_equal_their_lines(seeded, ref):
    for document in _documents(seeded, ref):
        nets = sum((line.net for line in document.lines), Decimal("0"))
        vats = sum((line.vat for line in document.lines), Decimal("0"))

        assert document.lines
        assert document.net_total == nets
        assert document.vat_total == vats
        assert document.total == nets + vats
        assert document.expected_total in (None, document.total)


@pytest.mark.parametrize("ref", COUNTRIES)
def test_pdfs_are_one_page_pdfs_with_the_number(seeded, ref):
    with_pdf = [d for d in _documents(seeded, ref) if d.pdf is not None]

    assert len(with_pdf) >= 5
    assert any(d.side == Side.SALES for d in with_pdf)
    for document in with_pdf:
        content = document.pdf.content
        assert content.startswith(b"%PDF-1.4\n")
        assert content.endswith(b"%%EOF\n")
        assert f"({document.number}".encode() in content or (
            f" {document.number})".encode() in content
        )
        assert content.count(b"/Type /Page ") == 1
        _assert_xref_points_at_objects(content)


def _assert_xref_points_at_objects(content: bytes) -> None:
    start = int(re.search(rb"startxref\n(\d+)\n", content).group(1))
    assert content[start:].startswith(b"xref\n0 ")
    offsets = re.findall(rb"(\d{10}) 00000 n \n", content[start:])
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert content[int(offset) :].startswith(b"%d 0 obj\n" % number)


# Broken on purpose


@pytest.mark.parametrize("ref", COUNTRIES)
def test_parties_without_exact_code_have_invoices(seeded, ref):
    company = _company(seeded, ref)
    missing = seeded.scalars(
        select(PartyRow).where(
            PartyRow.company_id == company.id, PartyRow.exact_code.is_(None)
        )
    ).all()

    assert sorted((p.role, p.ref) for p in missing) == [
        ("customer", "c-1013"),
        ("customer", "c-1014"),
        ("supplier", "s-2010"),
    ]
    parties_with_documents = {d.party.ref for d in _documents(seeded, ref)}
    assert {p.ref for p in missing} <= parties_with_documents


@pytest.mark.parametrize("ref", COUNTRIES)
def test_one_invoice_uses_an_unmapped_vat_scenario(seeded, ref):
    company = _company(seeded, ref)
    mapped = repo.load_settings(seeded, company).sales.vat_codes
    unmapped = [
        document
        for document in _documents(seeded, ref, Side.SALES)
        if any(line.vat_scenario not in mapped for line in document.lines)
    ]

    assert len(unmapped) == 1
    assert unmapped[0].validated
    assert len(set(mapped)) == len(scenarios_for(COUNTRIES[ref])) - 1


def test_other_codes_are_numeric(seeded):
    codes = seeded.scalars(
        select(PartyRow.exact_code).where(PartyRow.exact_code.is_not(None))
    ).all()

    assert codes
    assert all(code.isdigit() for code in codes)


# Seeding again


def test_is_seeded(session):
    assert not demo.is_seeded(session)

    demo.seed(session, TODAY)

    assert demo.is_seeded(session)


def test_seeding_twice_changes_nothing(session):
    first = demo.seed(session, TODAY)
    session.commit()
    before = _snapshot(session)

    second = demo.seed(session, TODAY)
    session.commit()

    assert first.added > 400
    assert second.added == 0
    assert second.companies == first.companies
    assert _snapshot(session) == before


def test_seeding_another_day_keeps_what_is_there(session):
    demo.seed(session, TODAY)
    session.commit()
    before = _snapshot(session)

    later = demo.seed(session, TODAY + timedelta(days=30))
    session.commit()

    assert later.added == 0
    assert _snapshot(session) == before


def test_same_day_same_data(tmp_path):
    fingerprints = []
    for name in ("a.db", "b.db"):
        for session in _session(tmp_path / name):
            demo.seed(session, TODAY)
            session.commit()
            rows = session.scalars(select(DocumentRow)).all()
            fingerprints.append(sorted((r.side, r.ref, r.fingerprint) for r in rows))

    assert fingerprints[0] == fingerprints[1]


# The demo's Exact Online sandbox (`demo.sandbox`)


def test_demo_app_file_is_private_and_commands_fall_back_to_it(tmp_path):
    app = demo_exact.DemoApp("client-1", "s3cret-value", "http://127.0.0.1:8765/cb")
    path = demo_exact.app_file(tmp_path)

    demo_exact.write_app(path, app, "http://127.0.0.1:8700")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cret-value" not in repr(app)
    assert demo_exact.read_app(path) == app
    assert Settings(data_dir=tmp_path).exact_credentials() == (
        "client-1",
        "s3cret-value",
    )
    # The environment wins; half of it set still names what is missing.
    assert Settings(
        data_dir=tmp_path,
        exact_client_id="env-id",
        exact_client_secret=SecretStr("env-secret"),
    ).exact_credentials() == ("env-id", "env-secret")
    with pytest.raises(MissingSetting, match="LEDGERBRIDGE_EXACT_CLIENT_SECRET"):
        Settings(data_dir=tmp_path, exact_client_id="env-id").exact_credentials()


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"client_id": "x"}'])
def test_unreadable_demo_app_file_is_no_credentials(tmp_path, content):
    demo_exact.app_file(tmp_path).write_text(content)

    with pytest.raises(MissingSetting, match="LEDGERBRIDGE_EXACT_CLIENT_ID"):
        Settings(data_dir=tmp_path).exact_credentials()


@pytest.fixture
def demo_world(database, database_url, tmp_path):
    """The demo companies in the real database, a sandbox served on a free
    port, and settings for both (no Exact variables set)."""
    with database.sessions() as session:
        # The companies and their settings are all the set-up reads.
        for country in demo.COUNTRIES:
            row = intake.upsert_company(session, country.company).row
            intake.save_settings(session, row, country.settings)
        session.commit()
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_keys=SecretStr(Fernet.generate_key().decode()),
    )
    with serve(create_sandbox(Sandbox())) as url:
        yield settings, database, url


def _set_up(settings, database, url):
    app, new = demo_exact.ensure_app(
        url, demo_exact.app_file(settings.data_dir), settings.exact_redirect_uri
    )
    runner = Runner(demo_exact.demo_settings(settings, app, url), database)
    try:
        return app, new, demo_exact.set_up(runner, url)
    finally:
        runner.close()


def _connections(settings, database):
    return {
        entry.company.ref: (
            entry.connection.division,
            entry.connection.base_url,
            entry.connection.connected and not entry.connection.needs_sign_in,
        )
        for entry in wiring.connection_overview(settings, database)
        if entry.connection is not None
    }


def test_set_up_connects_both_companies_through_the_sign_in(demo_world):
    settings, database, url = demo_world

    app, new, report = _set_up(settings, database, url)

    assert new
    assert report.created == [1001, 2001]
    assert report.connected == [demo.BE_REF, demo.NL_REF]
    assert report.accepted == [demo.BE_REF, demo.NL_REF]
    divisions = httpx2.get(f"{url}/_sandbox/divisions").json()
    assert sorted((d["code"], d["template"]) for d in divisions) == [
        (1001, "BE"),
        (2001, "NL"),
    ]
    assert _connections(settings, database) == {
        demo.BE_REF: (1001, url, True),
        demo.NL_REF: (2001, url, True),
    }
    # Other commands find the app without any Exact variable set.
    assert settings.exact_credentials() == (app.client_id, app.client_secret)


def test_set_up_again_adds_nothing_and_keeps_the_connections(demo_world):
    settings, database, url = demo_world
    first_app, _, _ = _set_up(settings, database, url)
    tokens_before = _tokens(database)

    app, new, report = _set_up(settings, database, url)

    assert (app, new) == (first_app, False)
    assert report.created == report.connected == report.accepted == []
    assert len(httpx2.get(f"{url}/_sandbox/divisions").json()) == 2
    assert _tokens(database) == tokens_before


def test_set_up_after_the_sandbox_forgot_everything_connects_again(demo_world):
    settings, database, url = demo_world
    first_app, _, _ = _set_up(settings, database, url)
    httpx2.post(f"{url}/_sandbox/reset")

    app, new, report = _set_up(settings, database, url)

    assert new
    assert app.client_id != first_app.client_id
    assert report.created == [1001, 2001]
    assert report.connected == [demo.BE_REF, demo.NL_REF]
    assert report.accepted == []
    assert all(ok for *_, ok in _connections(settings, database).values())


def _tokens(database):
    with database.sessions() as session:
        return sorted(
            (row.company_id, row.refresh_token)
            for row in session.scalars(select(ExactConnectionRow))
        )
