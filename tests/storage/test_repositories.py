"""Repositories: accounting settings and the company listing."""

from __future__ import annotations

from collections.abc import Collection
from datetime import time
from types import MappingProxyType

import pytest
from sqlalchemy import func, select

from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import CompanyRow, VatCodeMappingRow
from ledgerbridge.wiring import Database
from tests.storage.rows import add_company


def _settings(
    sales_codes: dict[str, str], purchase_codes: dict[str, str]
) -> AccountingSettings:
    return AccountingSettings(
        sales=ExportSettings(
            enabled=True,
            daily=DailyRun(True, time(6, 15)),
            journal="70",
            credit_note_journal="71",
            default_gl_account="700000",
            vat_codes=MappingProxyType(sales_codes),
            create_missing_parties=True,
            attach_pdf=True,
        ),
        purchases=ExportSettings(
            enabled=True,
            journal="60",
            vat_codes=MappingProxyType(purchase_codes),
        ),
        payments=PaymentImportSettings(True, DailyRun(True, time(23, 5))),
    )


def _save(database: Database, settings: AccountingSettings) -> None:
    with database.sessions() as session:
        company = repo.get_company(session, "acme")
        assert company is not None
        repo.save_settings(session, company, settings)
        session.commit()


def _load(database: Database) -> AccountingSettings:
    with database.sessions() as session:
        company = repo.get_company(session, "acme")
        assert company is not None
        return repo.load_settings(session, company)


def _mapping_count(database: Database) -> int:
    with database.sessions() as session:
        count = session.scalar(select(func.count()).select_from(VatCodeMappingRow))
    return count or 0


@pytest.fixture
def acme(database: Database) -> None:
    with database.sessions() as session:
        add_company(session, "acme")
        session.commit()


@pytest.mark.usefixtures("acme")
def test_load_settings_before_any_save_gives_defaults(database: Database) -> None:
    assert _load(database) == AccountingSettings()


@pytest.mark.usefixtures("acme")
def test_save_settings_round_trips(database: Database) -> None:
    settings = _settings({"BE-21": "1", "BE-06": "3"}, {"BE-21": "2"})

    _save(database, settings)

    loaded = _load(database)
    assert loaded == settings
    assert dict(loaded.sales.vat_codes) == {"BE-21": "1", "BE-06": "3"}
    assert dict(loaded.purchases.vat_codes) == {"BE-21": "2"}
    assert loaded.sales.daily == DailyRun(True, time(6, 15))
    assert loaded.payments.daily == DailyRun(True, time(23, 5))


@pytest.mark.usefixtures("acme")
def test_save_settings_twice_replaces_vat_codes(database: Database) -> None:
    _save(database, _settings({"BE-21": "1", "BE-06": "3"}, {"BE-21": "2"}))
    replacement = _settings({"BE-21": "4"}, {"BE-12": "5", "BE-06": "6"})

    _save(database, replacement)

    loaded = _load(database)
    assert loaded == replacement
    assert dict(loaded.sales.vat_codes) == {"BE-21": "4"}
    assert dict(loaded.purchases.vat_codes) == {"BE-12": "5", "BE-06": "6"}
    assert _mapping_count(database) == 3


@pytest.mark.usefixtures("acme")
def test_save_settings_same_twice_changes_nothing(database: Database) -> None:
    settings = _settings({"BE-21": "1"}, {"BE-21": "2"})

    _save(database, settings)
    _save(database, settings)

    assert _load(database) == settings
    assert _mapping_count(database) == 2


def test_save_settings_keeps_companies_apart(database: Database) -> None:
    with database.sessions() as session:
        add_company(session, "acme")
        other = add_company(session, "other")
        repo.save_settings(session, other, _settings({"BE-21": "9"}, {}))
        session.commit()
    settings = _settings({"BE-21": "1"}, {"BE-21": "2"})

    _save(database, settings)
    _save(database, settings)

    with database.sessions() as session:
        other_row = repo.get_company(session, "other")
        assert other_row is not None
        other_loaded = repo.load_settings(session, other_row)
    assert dict(other_loaded.sales.vat_codes) == {"BE-21": "9"}
    assert _load(database) == settings


REFS = ["delta", "alpha", "echo", "charlie", "bravo"]


@pytest.fixture
def five_companies(database: Database) -> None:
    with database.sessions() as session:
        for ref in REFS:
            add_company(session, ref)
        session.commit()


def _refs(
    database: Database, refs: Collection[str] | None, limit: int, offset: int
) -> tuple[list[str], int]:
    with database.sessions() as session:
        page = repo.list_companies(session, refs, limit, offset)
        return [row.ref for row in page.items], page.total


@pytest.mark.usefixtures("five_companies")
@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        (50, 0, ["alpha", "bravo", "charlie", "delta", "echo"]),
        (2, 0, ["alpha", "bravo"]),
        (2, 2, ["charlie", "delta"]),
        (2, 4, ["echo"]),
        (2, 5, []),
        (10, 99, []),
    ],
)
def test_list_companies_paginates_by_ref(
    database: Database, limit: int, offset: int, expected: list[str]
) -> None:
    refs, total = _refs(database, refs=None, limit=limit, offset=offset)

    assert refs == expected
    assert total == 5


@pytest.mark.usefixtures("five_companies")
def test_list_companies_page_echoes_limit_and_offset(database: Database) -> None:
    with database.sessions() as session:
        page = repo.list_companies(session, None, limit=3, offset=1)

    assert (page.limit, page.offset, page.total) == (3, 1, 5)
    assert all(isinstance(row, CompanyRow) for row in page.items)


@pytest.mark.usefixtures("five_companies")
def test_list_companies_filters_by_refs(database: Database) -> None:
    refs, total = _refs(database, refs={"echo", "bravo", "unknown"}, limit=50, offset=0)

    assert refs == ["bravo", "echo"]
    assert total == 2


@pytest.mark.usefixtures("five_companies")
def test_list_companies_filter_and_page_together(database: Database) -> None:
    refs, total = _refs(
        database, refs=frozenset({"alpha", "charlie", "echo"}), limit=1, offset=1
    )

    assert refs == ["charlie"]
    assert total == 3


@pytest.mark.usefixtures("five_companies")
def test_list_companies_empty_refs_lists_none(database: Database) -> None:
    refs, total = _refs(database, refs=frozenset(), limit=50, offset=0)

    assert refs == []
    assert total == 0
