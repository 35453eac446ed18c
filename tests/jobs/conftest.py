"""The daily scheduler against the sync tests' world: both demo companies
connected to an in-process sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ledgerbridge.storage.tables import (
    AccountingSettingsRow,
    CompanyRow,
    DailyRunClaimRow,
    NoticeRow,
    RunRow,
)
from tests.sync.conftest import BE, NL, Env, env

__all__ = ["BE", "NL", "Env", "env"]

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(env: Env, hour: int, minute: int = 0, day: date | None = None) -> datetime:
    """That local time (Brussels and Amsterdam agree) on the sandbox's
    today, in UTC."""
    moment = datetime.combine(day or env.today, time(hour, minute), tzinfo=BRUSSELS)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Run:
    company: str
    flow: str
    trigger: str
    status: str
    first: date
    last: date
    started_by: str
    message: str | None


@dataclass(frozen=True)
class Notice:
    company: str
    kind: str
    run_id: int | None
    message: str
    emailed: bool


def runs(env: Env) -> list[Run]:
    with env.database.sessions() as session:
        rows = session.execute(
            select(RunRow, CompanyRow.ref)
            .join(CompanyRow, CompanyRow.id == RunRow.company_id)
            .order_by(RunRow.id)
        ).all()
        return [
            Run(
                ref,
                row.flow,
                row.trigger,
                row.status,
                row.first_day,
                row.last_day,
                row.started_by,
                row.message,
            )
            for row, ref in rows
        ]


def notices(env: Env) -> list[Notice]:
    with env.database.sessions() as session:
        rows = session.execute(
            select(NoticeRow, CompanyRow.ref)
            .join(CompanyRow, CompanyRow.id == NoticeRow.company_id)
            .order_by(NoticeRow.id)
        ).all()
        return [
            Notice(ref, row.kind, row.run_id, row.message, row.emailed_at is not None)
            for row, ref in rows
        ]


def claims(env: Env) -> list[tuple[str, str, date, bool]]:
    """(company, flow, day, has a run) of every claim."""
    with env.database.sessions() as session:
        rows = session.execute(
            select(DailyRunClaimRow, CompanyRow.ref)
            .join(CompanyRow, CompanyRow.id == DailyRunClaimRow.company_id)
            .order_by(CompanyRow.ref, DailyRunClaimRow.flow, DailyRunClaimRow.day)
        ).all()
        return [(ref, row.flow, row.day, row.run_id is not None) for row, ref in rows]


def add_claim(env: Env, company: str, flow: str, day: date) -> None:
    with env.database.sessions.begin() as session:
        company_id = session.scalar(
            select(CompanyRow.id).where(CompanyRow.ref == company)
        )
        session.add(DailyRunClaimRow(company_id=company_id, flow=flow, day=day))


def set_settings(env: Env, company: str, **values: object) -> None:
    """Set the company's *Accounting settings* columns, e.g.
    `payments_daily=False`."""
    with env.database.sessions.begin() as session:
        company_id = session.scalar(
            select(CompanyRow.id).where(CompanyRow.ref == company)
        )
        session.execute(
            update(AccountingSettingsRow)
            .where(AccountingSettingsRow.company_id == company_id)
            .values(**values)
        )
