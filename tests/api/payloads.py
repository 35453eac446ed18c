"""Builders for API payloads."""

from __future__ import annotations

from typing import Any

COMPANY = "/api/v1/companies/acme"


def company_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Acme Keukens", "country": "BE", "vat_number": "BE0403170701"} | (
        changes
    )


def line(**changes: Any) -> dict[str, Any]:
    return {
        "description": "Keukenkast 60 cm",
        "quantity": "2",
        "unit_price": "100.00",
        "vat_scenario": "BE-21",
    } | changes


def invoice(**changes: Any) -> dict[str, Any]:
    return {
        "customer": "c1",
        "issue_date": "2026-11-02",
        "due_date": "2026-12-02",
        "lines": [line()],
        "validated": True,
    } | changes


def supplier_invoice(**changes: Any) -> dict[str, Any]:
    return {
        "supplier": "s1",
        "number": "INV-77",
        "issue_date": "2026-11-03",
        "lines": [line(description="Werkblad", unit_price="250.00")],
        "validated": True,
    } | changes
