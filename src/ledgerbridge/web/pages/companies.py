"""The company a page is about: chosen with `?company=REF`, else the first
company the user may see; a company the user may not see is not found."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ledgerbridge import users
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.web.pages.errors import PageError
from ledgerbridge.web.pages.sessions import PageUser


def chosen_company(session: Session, page: PageUser, ref: str | None) -> CompanyRow:
    """The company `ref` names when `page.user` may see it; without `ref`,
    the first company they may see. Refuses (404) a company that does not
    exist or that the user may not see, without telling the two apart."""
    if ref:
        row = users.visible_company(session, page.user, ref)
        if row is None:
            raise PageError(
                404,
                "Company not found",
                f"There is no company {ref!r} that you may see. The companies "
                "you may see are listed on the start page.",
            )
        return row
    visible = users.visible_companies(session, page.user)
    if not visible:
        raise PageError(
            404,
            "No company",
            "No company has been given to you yet. Ask an admin to give you one.",
        )
    return visible[0]


def company_choices(session: Session, page: PageUser) -> list[CompanyRow]:
    """The companies for the page's company picker."""
    return users.visible_companies(session, page.user)


def company_today(company: CompanyRow) -> date:
    """Today where the company is."""
    return datetime.now(ZoneInfo(company.time_zone)).date()
