"""Fixtures of the domain tests: a valid company per country and documents."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.domain.documents import Document, DocumentType, Line, Side
from ledgerbridge.domain.parties import Company


@pytest.fixture
def be_company() -> Company:
    return Company(
        ref="acme-be", name="Acme Keukens BV", country="BE", vat_number="BE0403170701"
    )


@pytest.fixture
def nl_company() -> Company:
    return Company(
        ref="acme-nl",
        name="Acme Keukens B.V.",
        country="NL",
        vat_number="NL004495445B01",
        time_zone="Europe/Amsterdam",
    )


@pytest.fixture
def make_line() -> Callable[..., Line]:
    """A line of 2 × 50.00 at 21 % in Belgium, with any field overridden."""

    def make(**changes: Any) -> Line:
        line = Line(
            description="Worktop",
            quantity=Decimal("2"),
            unit_price=Decimal("50.00"),
            vat_scenario="BE-21",
        )
        return dataclasses.replace(line, **changes)

    return make


@pytest.fixture
def make_document(make_line: Callable[..., Line]) -> Callable[..., Document]:
    """A valid Belgian sales invoice (100.00 + 21.00 VAT), any field overridden."""

    def make(**changes: Any) -> Document:
        document = Document(
            side=Side.SALES,
            type=DocumentType.INVOICE,
            number="2025-0042",
            party_ref="C-001",
            issue_date=date(2025, 3, 14),
            currency="EUR",
            lines=(make_line(),),
            due_date=date(2025, 4, 13),
        )
        return dataclasses.replace(document, **changes)

    return make
