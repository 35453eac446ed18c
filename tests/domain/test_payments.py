from datetime import date
from decimal import Decimal

import pytest

from ledgerbridge.domain.documents import PaymentStatus
from ledgerbridge.domain.payments import Payment, payment_status

TOTAL = Decimal("121.00")


def test_payment_status_open():
    assert payment_status(TOTAL, Decimal("0.00"), was_paid=False) is PaymentStatus.OPEN


def test_payment_status_partly_paid():
    status = payment_status(TOTAL, Decimal("21.00"), was_paid=False)

    assert status is PaymentStatus.PARTLY_PAID


def test_payment_status_paid():
    assert payment_status(TOTAL, TOTAL, was_paid=False) is PaymentStatus.PAID


def test_payment_status_reopened_when_paid_document_owes_again():
    status = payment_status(TOTAL, Decimal("100.00"), was_paid=True)

    assert status is PaymentStatus.REOPENED


@pytest.mark.parametrize(
    ("paid", "was_paid", "status"),
    [
        ("0.01", False, PaymentStatus.PARTLY_PAID),
        ("120.99", False, PaymentStatus.PARTLY_PAID),
        ("121.00", True, PaymentStatus.PAID),  # paid again after reopening
        ("150.00", False, PaymentStatus.PAID),  # overpaid is still paid
        ("0.00", True, PaymentStatus.REOPENED),  # the whole payment reversed
    ],
)
def test_payment_status_boundaries(paid, was_paid, status):
    assert payment_status(TOTAL, Decimal(paid), was_paid) is status


def test_payment_holds_exact_reference():
    payment = Payment("2025-0042", date(2025, 4, 1), Decimal("121.00"), "EUR", "X1")

    assert payment.exact_reference == "X1"
    assert Payment("2025-0042", date(2025, 4, 1), TOTAL, "EUR").exact_reference is None
