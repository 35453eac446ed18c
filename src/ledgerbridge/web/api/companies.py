"""Companies and their accounting settings."""

from __future__ import annotations

from datetime import time

from fastapi import APIRouter, Response

from ledgerbridge import intake
from ledgerbridge.domain.accounting import (
    AccountingSettings,
    DailyRun,
    ExportSettings,
    PaymentImportSettings,
)
from ledgerbridge.domain.parties import Company
from ledgerbridge.storage import repositories as repo
from ledgerbridge.web.api.deps import (
    CompanyDep,
    CompanyRef,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    check_reach,
    errors,
)
from ledgerbridge.web.api.schemas import (
    AccountingSettingsSchema,
    CompanyIn,
    CompanyOut,
    DailyRunSchema,
    ExportSettingsSchema,
    PageOut,
    PaymentSettingsSchema,
)

router = APIRouter(tags=["companies"])


@router.get("/companies", responses=errors(401, 422))
def list_companies(
    principal: PrincipalDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> PageOut[CompanyOut]:
    page = repo.list_companies(session, principal.companies, limit, offset)
    return PageOut[CompanyOut].of(page, CompanyOut.model_validate)


@router.get("/companies/{company}", responses=errors(401, 403, 404, 422))
def get_company(company: CompanyDep) -> CompanyOut:
    return CompanyOut.model_validate(company)


@router.put(
    "/companies/{company}",
    responses=errors(400, 401, 403, 409, 422, created=CompanyOut),
)
def put_company(
    company: CompanyRef,
    body: CompanyIn,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> CompanyOut:
    """Create or update a company under the application's own reference."""
    check_reach(principal, company)
    result = intake.upsert_company(
        session,
        Company(
            ref=company,
            name=body.name,
            country=body.country,
            vat_number=body.vat_number,
            base_currency=body.base_currency,
            time_zone=body.time_zone,
        ),
    )
    session.commit()
    if result.created:
        response.status_code = 201
    return CompanyOut.model_validate(result.row)


@router.get(
    "/companies/{company}/accounting-settings", responses=errors(401, 403, 404, 422)
)
def get_settings(company: CompanyDep, session: SessionDep) -> AccountingSettingsSchema:
    return settings_out(repo.load_settings(session, company))


@router.put(
    "/companies/{company}/accounting-settings",
    responses=errors(400, 401, 403, 404, 422),
)
def put_settings(
    company: CompanyDep, body: AccountingSettingsSchema, session: SessionDep
) -> AccountingSettingsSchema:
    """Replace the three tabs of *Accounting settings*."""
    intake.save_settings(session, company, settings_in(body))
    session.commit()
    return settings_out(repo.load_settings(session, company))


def settings_in(body: AccountingSettingsSchema) -> AccountingSettings:
    def daily(schema: DailyRunSchema) -> DailyRun:
        return DailyRun(schema.enabled, time.fromisoformat(schema.at))

    def export(schema: ExportSettingsSchema) -> ExportSettings:
        return ExportSettings(
            enabled=schema.enabled,
            daily=daily(schema.daily),
            journal=schema.journal,
            credit_note_journal=schema.credit_note_journal,
            default_gl_account=schema.default_gl_account,
            vat_codes=dict(schema.vat_codes),
            create_missing_parties=schema.create_missing_parties,
            attach_pdf=schema.attach_pdf,
        )

    return AccountingSettings(
        sales=export(body.sales),
        purchases=export(body.purchases),
        payments=PaymentImportSettings(
            enabled=body.payments.enabled, daily=daily(body.payments.daily)
        ),
    )


def settings_out(settings: AccountingSettings) -> AccountingSettingsSchema:
    def daily(run: DailyRun) -> DailyRunSchema:
        return DailyRunSchema(enabled=run.enabled, at=run.at.strftime("%H:%M"))

    def export(tab: ExportSettings) -> ExportSettingsSchema:
        return ExportSettingsSchema(
            enabled=tab.enabled,
            daily=daily(tab.daily),
            journal=tab.journal,
            credit_note_journal=tab.credit_note_journal,
            default_gl_account=tab.default_gl_account,
            vat_codes=dict(tab.vat_codes),
            create_missing_parties=tab.create_missing_parties,
            attach_pdf=tab.attach_pdf,
        )

    return AccountingSettingsSchema(
        sales=export(settings.sales),
        purchases=export(settings.purchases),
        payments=PaymentSettingsSchema(
            enabled=settings.payments.enabled, daily=daily(settings.payments.daily)
        ),
    )
