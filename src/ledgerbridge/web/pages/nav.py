"""The navigation every page shows, with the screen names users know from
the original (PRODUCT.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str
    about: str = ""
    """What the screen holds, in a sentence (the company page lists them)."""


@dataclass(frozen=True, slots=True)
class Section:
    label: str | None
    links: tuple[Link, ...]


START = Link("Companies", "/")

NAV: tuple[Section, ...] = (
    Section(
        None,
        (
            START,
            Link(
                "Dashboard",
                "/dashboard",
                "Per company: documents booked and failed per day, payments "
                "imported, and Exact calls used against the daily limit.",
            ),
        ),
    ),
    Section(
        "Financial",
        (
            Link(
                "Customer invoices",
                "/financial/customer-invoices",
                "The customer invoices and credit notes with their booking "
                "status, and Export > Export Accounting information.",
            ),
            Link(
                "Supplier invoices",
                "/financial/supplier-invoices",
                "The supplier invoices and credit notes with their booking "
                "status, and Accounting export > Export Accounting information.",
            ),
            Link(
                "Payments",
                "/financial/payments",
                "The payments brought back from Exact, and Payments Import.",
            ),
        ),
    ),
    Section(
        "Financial settings",
        (
            Link(
                "Accounting settings",
                "/financial-settings/accounting-settings",
                "The connection to Exact Online and the Customer invoice, "
                "Supplier invoice and Payments tabs.",
            ),
        ),
    ),
    Section(
        "Leads/Prospect",
        (
            Link(
                "Contact",
                "/leads-prospect/contacts",
                "The contacts and their Accountancy booking codes.",
            ),
        ),
    ),
    Section(
        "Purchase",
        (
            Link(
                "Supplier",
                "/purchase/suppliers",
                "The suppliers and their Specific booking codes.",
            ),
        ),
    ),
    Section(
        None,
        (
            Link(
                "History",
                "/history",
                "Every run with its documents and outcomes; failed documents "
                "with the reason, Retry and Mark as handled.",
            ),
        ),
    ),
)


def screen_links() -> list[tuple[Section, Link]]:
    """The screens that are about one company, with their sentence."""
    return [(section, link) for section in NAV for link in section.links if link.about]
