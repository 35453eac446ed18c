"""VAT scenarios and the per-rate VAT of a document.

A VAT *scenario* says what the business means ("6 % renovation", "intra-EU
supply"); each company maps it to a VAT code of its own Exact administration.
Scenarios are rows of data in `vat_catalogue.py`, not branches in code.

VAT follows EN 16931 rule BR-CO-17 (the Peppol invoices Belgian businesses
exchange since 2026): per VAT category and rate, VAT = taxable amount × rate,
rounded half up to the cent, on the *total* of that rate. Exact computes VAT
per line, so the total is then spread over the lines (largest remainder) and
each line's share is sent with it; the lines of a rate add up to the rate's
VAT to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.domain.money import CENT, round_cents


class VatCategory(StrEnum):
    """The EN 16931 VAT category of a scenario (UNCL 5305 codes)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"


@dataclass(frozen=True, slots=True)
class VatScenario:
    code: str
    country: str
    label: str
    rate: Decimal
    """Percentage charged on the invoice itself: 0 for reverse charge."""
    category: VatCategory
    invoice_mention: str = ""


@dataclass(frozen=True, slots=True)
class VatGroup:
    """The VAT breakdown of one category and rate (EN 16931 BG-23)."""

    category: VatCategory
    rate: Decimal
    taxable: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class DocumentAmounts:
    """Net and VAT per line, in line order, and the breakdown per rate."""

    line_nets: tuple[Decimal, ...]
    line_vats: tuple[Decimal, ...]
    groups: tuple[VatGroup, ...]

    @property
    def net_total(self) -> Decimal:
        return sum(self.line_nets, Decimal("0.00"))

    @property
    def vat_total(self) -> Decimal:
        return sum((g.vat for g in self.groups), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.net_total + self.vat_total


def compute_amounts(
    lines: Sequence[tuple[Decimal, VatScenario]],
) -> DocumentAmounts:
    """VAT per rate on the total, spread over `(net, scenario)` lines."""
    by_group: dict[tuple[VatCategory, Decimal], list[int]] = {}
    for index, (_, scenario) in enumerate(lines):
        by_group.setdefault((scenario.category, scenario.rate), []).append(index)

    nets = [round_cents(net) for net, _ in lines]
    vats = [Decimal("0.00")] * len(lines)
    groups: list[VatGroup] = []
    for (category, rate), indexes in by_group.items():
        taxable = sum((nets[i] for i in indexes), Decimal("0.00"))
        vat = round_cents(taxable * rate / 100)
        shares = spread(vat, [nets[i] * rate / 100 for i in indexes])
        for i, share in zip(indexes, shares, strict=True):
            vats[i] = share
        groups.append(VatGroup(category, rate, taxable, vat))

    return DocumentAmounts(tuple(nets), tuple(vats), tuple(groups))


def spread(total: Decimal, exact_shares: Sequence[Decimal]) -> list[Decimal]:
    """Round `exact_shares` to cents so that they add up to `total` exactly.

    Each share is rounded half up, then the cents still missing (or in excess)
    go one at a time to the shares that rounding moved furthest the other way,
    the largest share first on a tie. `total` must be the rounded sum of the
    shares, so no share moves by more than one cent.
    """
    rounded = [round_cents(share) for share in exact_shares]
    missing = int((total - sum(rounded, Decimal("0.00"))) / CENT)
    if missing == 0:
        return rounded

    step = CENT if missing > 0 else -CENT
    order = sorted(
        range(len(rounded)),
        key=lambda i: (
            -(exact_shares[i] - rounded[i]) * Decimal(1).copy_sign(step),
            -abs(exact_shares[i]),
            i,
        ),
    )
    for i in order[: abs(missing)]:
        rounded[i] += step
    return rounded
