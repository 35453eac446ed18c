"""Errors the sandbox answers, with Exact's own texts in Dutch and English.

Exact reports business-rule failures as HTTP 500 with its normal error JSON
(API.md §6.7) and writes the message in the user's language; several
messages are joined with newlines (§6.8). Texts marked [C] in §6.8 are
Exact's; the others follow the same pattern and are marked [I] in
docs/sandbox.md.
"""

from __future__ import annotations

from collections.abc import Mapping

# key -> (Dutch, English); `{}` placeholders are filled in order.
MESSAGES: Mapping[str, tuple[str, str]] = {
    "journal_missing": ("Verplicht: Dagboek", "Mandatory: Diary"),
    "journal_unknown": (
        "Ongeldige referentie: Journals",
        "Invalid reference: Journals",
    ),
    "journal_type": ("Ongeldig: Dagboek", "Invalid: Diary"),
    "customer_missing": ("Verplicht: Relatie", "Mandatory: Relationship"),
    "supplier_missing": ("Verplicht: Relatie", "Mandatory: Relationship"),
    "account_unknown": (
        "Ongeldige referentie: Relatie",
        "Invalid reference: Relationship",
    ),
    "not_customer": ("Ongeldig: Klant (Type)", "Invalid: Customer (Type)"),
    "not_supplier": ("Ongeldig: Leverancier (Type)", "Invalid: Supplier (Type)"),
    "lines_missing": ("Verplicht: Boekingsregels", "Mandatory: Entry lines"),
    "gl_missing": ("Verplicht: Grootboekrekening", "Mandatory: G/L account"),
    "gl_unknown": (
        "Ongeldige referentie: Grootboekrekening",
        "Invalid reference: G/L account",
    ),
    "gl_type": ("Ongeldig: Grootboekrekeningtype", "Invalid: G/L account type"),
    "vat_unknown": ("Ongeldige referentie: Btw-code", "Invalid reference: VAT code"),
    "vat_side": ("Ongeldig: Btw-code", "Invalid: VAT code"),
    "vat_mismatch": (
        "Invoer {}: Het bedrag van de BTW regel met BTW code {} komt niet overeen "
        "met het totaal aan BTW-bedragen in de grondslagregels.",
        "Entry {}: The amount of the VAT line with VAT code {} does not match the "
        "total of VAT amounts in the base lines.",
    ),
    "not_balanced": (
        "De boeking is niet in evenwicht op: {} / {} (Type: {}) - Verschil: {} {}",
        "This entry is not balanced on: {} / {} (Type: {}) - Difference: {} {}",
    ),
    "period_closed": (
        "Periode is afgesloten: {}-{:02d}",
        "Period is closed: {}-{:02d}",
    ),
    "period_missing": ("Ongeldig: Periode {}-{:02d}", "Invalid: Period {}-{:02d}"),
    "entry_number_used": ("In gebruik: Boekstuknummer", "In use: Entry number"),
    "already_exists": ("Gegeven bestaat reeds.", "Data already exists."),
    "payment_condition_unknown": (
        "Ongeldige referentie: Betalingsconditie",
        "Invalid reference: Payment condition",
    ),
    "payment_condition_missing": (
        "Verplicht: Betalingsconditie",
        "Mandatory: Payment condition",
    ),
    "document_unknown": (
        "Ongeldige referentie: Document",
        "Invalid reference: Document",
    ),
    "guid_format": ("Niet herkende GUID-indeling.", "Unrecognized Guid format."),
    "mandatory": ("Verplicht: {}", "Mandatory: {}"),
    "processed": ("Reeds verwerkt", "Already processed"),
    "attachment_too_large": (
        "Bijlage is groter dan 10 MB",
        "Attachment is larger than 10 MB",
    ),
}

ENTRY_TYPE_NAMES = {
    ("nl", 20): "Verkoopboeking",
    ("nl", 21): "Verkoopcreditnota",
    ("nl", 30): "Inkoopboeking",
    ("nl", 31): "Inkoopcreditnota",
    ("en", 20): "Sales entry",
    ("en", 21): "Sales credit note",
    ("en", 30): "Purchase entry",
    ("en", 31): "Purchase credit note",
}


class ExactError(Exception):
    """An answer in Exact's error shape: status, message text, extra headers."""

    def __init__(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class BusinessError(ExactError):
    """A business rule refused the write: HTTP 500, as Exact answers it."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(500, "\n".join(messages))


def text(key: str, language: str, *args: object) -> str:
    """The message `key` in `language` ("nl-NL", "en-GB", ...)."""
    dutch, english = MESSAGES[key]
    template = dutch if language.lower().startswith("nl") else english
    return template.format(*args)


def bad_request(message: str = "Bad Request - Error in query syntax.") -> ExactError:
    return ExactError(400, message)
