"""Payments received on customer invoices or made on supplier invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledgerbridge.domain.documents import PaymentStatus


@dataclass(frozen=True, slots=True)
class Payment:
    document_number: str
    paid_on: date
    amount: Decimal
    currency: str
    exact_reference: str | None = None


def payment_status(total: Decimal, paid: Decimal, was_paid: bool) -> PaymentStatus:
    """Open, partly paid or paid; reopened when a paid document owes again."""
    if paid >= total:
        return PaymentStatus.PAID
    if was_paid:
        return PaymentStatus.REOPENED
    if paid > 0:
        return PaymentStatus.PARTLY_PAID
    return PaymentStatus.OPEN
