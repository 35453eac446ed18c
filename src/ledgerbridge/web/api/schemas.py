"""What the API accepts and returns.

Amounts travel as decimal strings ("121.00"), never floats. Every text field
has the length its column allows and refuses control characters, so bad input
gets a 422 that names the field instead of failing in the database.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ledgerbridge.storage.repositories import Page

ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN)]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9.-]+$")
]


def text(max_length: int, min_length: int = 0) -> StringConstraints:
    """One line of text of bounded length."""
    return StringConstraints(
        min_length=min_length, max_length=max_length, pattern=ONE_LINE
    )


Amount = Annotated[
    Decimal,
    Field(ge=Decimal("-1e9"), le=Decimal("1e9"), max_digits=19, decimal_places=4),
]
Money = Annotated[
    Decimal,
    Field(ge=Decimal("-1e13"), le=Decimal("1e13"), max_digits=17, decimal_places=2),
]

T = TypeVar("T")
R = TypeVar("R")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Errors


class ProblemOut(BaseModel):
    field: str = Field(description="Where: a path such as lines[2].quantity.")
    message: str = Field(description="What to fix, in a sentence.")


class ErrorOut(BaseModel):
    error: str = Field(description="A stable code: invalid_input, not_found, ...")
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)


# Pages


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Page[R], convert: Callable[[R], T]) -> PageOut[T]:
        """One page of rows, each turned into its schema by `convert`."""
        return cls(
            items=[convert(row) for row in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
        )


# Companies


class CompanyIn(Input):
    name: Annotated[str, text(200, 1)]
    country: Literal["BE", "NL"] = Field(
        description="ISO 3166 code; Belgium and the Netherlands so far."
    )
    vat_number: Annotated[str, text(20, 1)]
    base_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"
    time_zone: Annotated[str, text(64, 1)] = "Europe/Brussels"


class CompanyOut(Output):
    ref: str
    name: str
    country: str
    vat_number: str
    base_currency: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


# Accounting settings


class DailyRunSchema(Input):
    enabled: bool = False
    at: Annotated[
        str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    ] = Field(default="02:30", description="Local time of the company, HH:MM.")


class ExportSettingsSchema(Input):
    enabled: bool = Field(default=False, description="*Accountancy export*.")
    daily: DailyRunSchema = Field(
        default_factory=DailyRunSchema, description="*Export automatically daily*."
    )
    journal: Code | None = None
    credit_note_journal: Code | None = None
    default_gl_account: Code | None = None
    vat_codes: dict[
        Annotated[str, StringConstraints(max_length=32, pattern=r"^[A-Z0-9-]+$")],
        Annotated[str, StringConstraints(min_length=1, max_length=3, pattern=r"^\S+$")],
    ] = Field(default_factory=dict, description="VAT scenario -> Exact VAT code.")
    create_missing_parties: bool = False
    attach_pdf: bool = False


class PaymentSettingsSchema(Input):
    enabled: bool = Field(default=False, description="*Payments Import*.")
    daily: DailyRunSchema = Field(default_factory=DailyRunSchema)


class AccountingSettingsSchema(Input):
    sales: ExportSettingsSchema = Field(default_factory=ExportSettingsSchema)
    purchases: ExportSettingsSchema = Field(default_factory=ExportSettingsSchema)
    payments: PaymentSettingsSchema = Field(default_factory=PaymentSettingsSchema)


# Contacts and suppliers


class AddressSchema(Input):
    street: Annotated[str, text(200)] = ""
    postal_code: Annotated[str, text(20)] = ""
    city: Annotated[str, text(100)] = ""
    country: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")] = ""


class BookingCodesSchema(Input):
    exact_code: Annotated[str, text(18)] | None = Field(
        default=None, description="The customer's or supplier's code in Exact."
    )
    gl_account: Annotated[str, text(20)] | None = None
    vat_scenario: Annotated[str, text(32)] | None = None
    cost_centre: Annotated[str, text(8)] | None = None


class PartyIn(Input):
    name: Annotated[str, text(200, 1)]
    vat_number: Annotated[str, text(20)] | None = None
    email: Annotated[str, text(200)] | None = None
    address: AddressSchema = Field(default_factory=AddressSchema)
    booking_codes: BookingCodesSchema = Field(default_factory=BookingCodesSchema)


class PartyOut(Output):
    ref: str
    name: str
    vat_number: str | None
    email: str | None
    address: AddressSchema
    booking_codes: BookingCodesSchema
    created_at: datetime
    updated_at: datetime


# Documents


class LineIn(Input):
    description: Annotated[str, text(2000)] = ""
    quantity: Amount
    unit_price: Amount
    discount_percent: Annotated[
        Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)
    ] = Decimal("0")
    vat_scenario: Annotated[str, text(32, 1)]
    gl_account: Code | None = Field(
        default=None, description="Overrides the booking code's GL account."
    )


class PdfIn(Input):
    filename: Annotated[str, text(200, 1)] = "invoice.pdf"
    content_base64: str = Field(max_length=14_000_000)

    @field_validator("content_base64")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the PDF must be base64-encoded") from exc
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class DocumentIn(Input):
    type: Literal["invoice", "credit_note"] = "invoice"
    issue_date: date
    due_date: date | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="Default: the company's base currency."
    )
    exchange_rate: (
        Annotated[Decimal, Field(gt=0, le=Decimal("1e6"), decimal_places=6)] | None
    ) = Field(default=None, description="Required when the currency is foreign.")
    payment_reference: Annotated[str, text(64)] | None = Field(
        default=None, description="Structured communication, e.g. +++123/4567/89002+++."
    )
    description: Annotated[
        str, StringConstraints(max_length=2000, pattern=MULTI_LINE)
    ] = ""
    validated: bool = Field(
        default=False, description="A validated document is locked."
    )
    total: Money | None = Field(
        default=None,
        description="The total printed on the document; refused if the lines "
        "make another.",
    )
    lines: list[LineIn] = Field(max_length=1000)
    pdf: PdfIn | None = None


class CustomerInvoiceIn(DocumentIn):
    customer: Ref = Field(description="The contact's reference.")


class SupplierInvoiceIn(DocumentIn):
    supplier: Ref = Field(description="The supplier's reference.")
    number: Annotated[str, text(64, 1)] = Field(
        description="The supplier's own invoice number."
    )


def _plain(value: Decimal, places: int = 0) -> Decimal:
    """Without trailing zeros beyond `places` decimals: 2.0000 -> 2, 100 -> 100.00."""
    exponent = value.normalize().as_tuple().exponent
    wanted = max(places, -exponent if isinstance(exponent, int) else 0)
    return value.quantize(Decimal(1).scaleb(-wanted))


class LineOut(Output):
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal

    @field_validator("quantity", "discount_percent")
    @classmethod
    def _no_trailing_zeros(cls, value: Decimal) -> Decimal:
        return _plain(value)

    @field_validator("unit_price")
    @classmethod
    def _price(cls, value: Decimal) -> Decimal:
        return _plain(value, 2)

    vat_scenario: str
    gl_account: str | None
    net: Decimal
    vat: Decimal


class VatGroupOut(BaseModel):
    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal


class TotalsOut(BaseModel):
    net: Decimal
    vat: Decimal
    total: Decimal
    vat_breakdown: list[VatGroupOut]


class BookingOut(BaseModel):
    status: Literal[
        "not_booked", "pending", "booked", "linked", "failed", "changed_after_booking"
    ]
    entry_number: int | None
    entry_id: str | None
    reason: str | None


class PaymentStateOut(BaseModel):
    status: Literal["open", "partly_paid", "paid", "reopened"]
    paid: Decimal


class DocumentOut(BaseModel):
    ref: str
    type: Literal["invoice", "credit_note"]
    number: str
    party: str = Field(description="The customer's or supplier's reference.")
    issue_date: date
    due_date: date | None
    currency: str
    exchange_rate: Decimal | None
    payment_reference: str | None
    description: str
    validated: bool
    lines: list[LineOut]
    totals: TotalsOut
    has_pdf: bool
    revision: int = Field(description="Goes up by one each time the document changes.")
    booking: BookingOut
    payment: PaymentStateOut
    created_at: datetime
    updated_at: datetime


class PaymentOut(BaseModel):
    id: int
    side: Literal["sales", "purchase"]
    document_ref: str
    document_number: str
    paid_on: date
    amount: Decimal
    currency: str
    exact_reference: str | None


class VatScenarioOut(BaseModel):
    code: str
    country: str
    label: str
    rate: Decimal
    category: str
    invoice_mention: str
