"""Accounting settings of a company: the three tabs of *Accounting settings*.

*Customer invoice* and *Supplier invoice* tabs: *Accountancy export* on or off,
*Export automatically daily* and its time, journals, the default GL account,
the VAT scenario to Exact VAT code mapping, whether missing customers or
suppliers are created in Exact, whether the invoice PDF is attached.
*Payments* tab: *Payments Import* on or off, and importing daily.
Unticking a flow's main box switches it off, manual and automatic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from types import MappingProxyType

from ledgerbridge.domain.parties import Company, check_scenario
from ledgerbridge.domain.problems import Problem

DEFAULT_DAILY_TIME = time(2, 30)


@dataclass(frozen=True, slots=True)
class DailyRun:
    enabled: bool = False
    at: time = DEFAULT_DAILY_TIME
    """Local time of the company's time zone."""


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """One of the *Customer invoice* / *Supplier invoice* tabs."""

    enabled: bool = False
    daily: DailyRun = field(default_factory=DailyRun)
    journal: str | None = None
    credit_note_journal: str | None = None
    default_gl_account: str | None = None
    vat_codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """VAT scenario code -> VAT code in the Exact administration."""
    create_missing_parties: bool = False
    attach_pdf: bool = False


@dataclass(frozen=True, slots=True)
class PaymentImportSettings:
    """The *Payments* tab."""

    enabled: bool = False
    daily: DailyRun = field(default_factory=DailyRun)


@dataclass(frozen=True, slots=True)
class AccountingSettings:
    sales: ExportSettings = field(default_factory=ExportSettings)
    purchases: ExportSettings = field(default_factory=ExportSettings)
    payments: PaymentImportSettings = field(default_factory=PaymentImportSettings)


def check_settings(settings: AccountingSettings, company: Company) -> list[Problem]:
    problems: list[Problem] = []
    for tab, export in (("sales", settings.sales), ("purchases", settings.purchases)):
        for scenario, vat_code in export.vat_codes.items():
            reason = check_scenario(scenario, company.country)
            if reason:
                problems.append(Problem(f"{tab}.vat_codes.{scenario}", reason))
            elif not 0 < len(vat_code) <= 3:
                problems.append(
                    Problem(
                        f"{tab}.vat_codes.{scenario}",
                        f"{vat_code!r} is not an Exact VAT code (1 to 3 characters)",
                    )
                )
    return problems
