"""The VAT scenarios ledgerbridge knows, as data.

A company picks among the scenarios of its own country and maps each one to a
VAT code of its Exact administration; ledgerbridge never assumes a code. The
rates and categories come from `charts.md` §2, §5 and §7 (Belgian VAT code,
Dutch Wet OB) and EN 16931's category list.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from ledgerbridge.domain.vat import VatCategory, VatScenario

S, Z, AE, K, G = (
    VatCategory.STANDARD,
    VatCategory.ZERO,
    VatCategory.REVERSE_CHARGE,
    VatCategory.INTRA_EU,
    VatCategory.EXPORT,
)

# code, country, rate %, category, label, mention the invoice must carry
_ROWS: tuple[tuple[str, str, str, VatCategory, str, str], ...] = (
    ("BE-21", "BE", "21", S, "21 % standard rate", ""),
    ("BE-12", "BE", "12", S, "12 % intermediate rate", ""),
    ("BE-06", "BE", "6", S, "6 % reduced rate", ""),
    (
        "BE-06-RENOVATION",
        "BE",
        "6",
        S,
        "6 % renovation of a private home of 10 years or older",
        "6 % renovation statement (KB nr. 20, table A, XXXI)",
    ),
    (
        "BE-00-INTRA-EU",
        "BE",
        "0",
        K,
        "0 % intra-EU supply of goods",
        "Exempt intra-community supply, art. 39bis",
    ),
    (
        "BE-00-EXPORT",
        "BE",
        "0",
        G,
        "0 % export outside the EU",
        "Exempt export, art. 39",
    ),
    (
        "BE-REVERSE-CHARGE",
        "BE",
        "0",
        AE,
        "Reverse charge for works on immovable property (medecontractant)",
        "Verlegging van heffing (art. 20 KB nr. 1)",
    ),
    ("NL-21", "NL", "21", S, "21 % standard rate", ""),
    ("NL-09", "NL", "9", S, "9 % reduced rate", ""),
    ("NL-00", "NL", "0", Z, "0 % rate", ""),
    ("NL-REVERSE-CHARGE", "NL", "0", AE, "Reverse charge (verlegd)", "BTW verlegd"),
    ("NL-INTRA-EU", "NL", "0", K, "Intra-EU supply", "Intracommunautaire levering"),
    ("NL-EXPORT", "NL", "0", G, "Export outside the EU", "Export buiten de EU"),
)

VAT_SCENARIOS: Mapping[str, VatScenario] = MappingProxyType(
    {
        code: VatScenario(code, country, label, Decimal(rate), category, mention)
        for code, country, rate, category, label, mention in _ROWS
    }
)

SUPPORTED_COUNTRIES = frozenset(s.country for s in VAT_SCENARIOS.values())


def scenarios_for(country: str) -> list[VatScenario]:
    return [s for s in VAT_SCENARIOS.values() if s.country == country]
