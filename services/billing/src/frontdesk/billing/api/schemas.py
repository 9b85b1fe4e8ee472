"""Request and response bodies (never ORM rows on the wire).

Requests use the kit's input types: text without control, NUL, bidi or zero-width
characters; strict integers and booleans (``true``, ``"1"`` and ``1.0`` are not amounts);
ISO 4217 currencies; date-times with an offset and dates between 1900 and 2200.
Quantities are decimals (a JSON number or a string) with at most three places.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from frontdesk.billing.domain.payments import MAX_AMOUNT, Method
from frontdesk.billing.domain.pricing import (
    BASIS,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    LineKind,
)
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.types import (
    AwareDatetime,
    BoundedDate,
    Count,
    Line,
    MinorUnits,
    Multiline,
    Name,
    StrictBool,
    TimeZoneName,
)

Description = Annotated[Name, Field(min_length=1, max_length=500)]
Label = Annotated[Name, Field(min_length=1, max_length=100)]
Notes = Annotated[Multiline, Field(max_length=2000)]
Reason = Annotated[Multiline, Field(max_length=500)]
Address = Annotated[Multiline, Field(max_length=500)]
Email = Annotated[Line, Field(max_length=320)]
TaxId = Annotated[Line, Field(max_length=50)]
Prefix = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{0,8}-?$",
        max_length=9,
        description="capitals and digits, optionally ending in a dash (e.g. INV-); may be empty",
    ),
]
BasisPoints = Annotated[Count, Field(le=BASIS, description="basis points: 1900 = 19 %")]
UnitPrice = Annotated[MinorUnits, Field(le=MAX_UNIT_PRICE, description="integer minor units")]
Amount = Annotated[MinorUnits, Field(ge=1, le=MAX_AMOUNT, description="integer minor units")]
Quantity = Annotated[
    Decimal,
    Field(gt=0, le=MAX_QUANTITY, decimal_places=3, allow_inf_nan=False),
]


def _locale(value: str) -> str:
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ValueError("must be a known locale such as en, de or fr_CH") from None
    return value


LocaleCode = Annotated[
    str,
    Field(pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$", examples=["de"]),
    AfterValidator(_locale),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, found: Any) -> Self:
        if isinstance(found, Mapping):
            return cls.model_validate({k: found[k] for k in cls.model_fields if k in found})
        return cls.model_validate(found, from_attributes=True)


class PageOut(BaseModel):
    next_cursor: str | None = None


# --- invoices ------------------------------------------------------------------------


class LineIn(_In):
    description: Description
    quantity: Quantity = Decimal(1)
    unit_price_minor: UnitPrice
    tax_rate_bp: BasisPoints | None = Field(
        default=None, description="the business's default rate when left out"
    )
    discount_bp: BasisPoints = 0
    kind: LineKind = Field(
        default=LineKind.service,
        description="service and product lines get the active membership's discount",
    )
    service: Label | None = Field(
        default=None, description="the service, matched against a membership's included ones"
    )


class BillToIn(_In):
    name: Annotated[Name, Field(max_length=200)] | None = None
    address: Address | None = None
    email: Email | None = None
    tax_id: TaxId | None = None


class InvoiceCreate(_In):
    customer_id: uuid.UUID
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    currency: CurrencyCode | None = Field(default=None, description="the profile's if left out")
    prices_include_tax: StrictBool | None = None
    notes: Notes | None = None
    due_on: BoundedDate | None = None
    bill_to: BillToIn | None = None
    prefix: Prefix | None = None


class InvoicePatch(_In):
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=MAX_LINES)
    currency: CurrencyCode | None = None
    prices_include_tax: StrictBool | None = None
    notes: Notes | None = None
    due_on: BoundedDate | None = None
    bill_to: BillToIn | None = None
    prefix: Prefix | None = None


class CancelIn(_In):
    reason: Reason | None = None


class LineOut(_Out):
    position: int
    description: str
    kind: str
    service: str | None
    quantity: Decimal
    unit_price_minor: int
    tax_rate_bp: int
    discount_bp: int
    membership_plan: str | None
    membership_discount_bp: int
    included: bool = Field(description="an included service of the membership: priced at zero")
    amount_minor: int = Field(description="quantity * unit price, before discounts")
    discount_minor: int
    membership_discount_minor: int
    voucher_discount_minor: int = Field(
        default=0, description="this line's share of the loyalty vouchers used (gross)"
    )
    net_minor: int
    tax_minor: int
    total_minor: int


class TaxTotalOut(_Out):
    rate_bp: int
    net_minor: int
    tax_minor: int
    total_minor: int


class PartyOut(BaseModel):
    name: str | None = None
    address: str | None = None
    email: str | None = None
    tax_id: str | None = None


class VoucherUseOut(_Out):
    voucher_id: uuid.UUID
    amount_minor: int = Field(description="what the voucher took off this invoice")


class InvoiceOut(_Out):
    id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    number: str | None
    prefix: str
    currency: str
    prices_include_tax: bool
    lines: list[LineOut]
    tax_summary: list[TaxTotalOut]
    amount_minor: int
    discount_minor: int
    membership_discount_minor: int
    voucher_discount_minor: int = Field(description="loyalty vouchers used on it (gross)")
    vouchers: list[VoucherUseOut] = Field(description="the vouchers used, each a discount")
    net_minor: int
    tax_minor: int
    total_minor: int
    paid_minor: int = Field(description="paid on it (cash or credit), less refunds")
    credited_minor: int = Field(description="taken back by credit notes")
    due_minor: int = Field(description="what is still owed on it (a sum of postings)")
    overdue: bool
    bill_to: PartyOut | None
    seller: PartyOut | None
    locale: str | None
    timezone: str | None
    notes: str | None
    issued_at: datetime | None
    issued_on: date | None
    due_on: date | None
    cancelled_at: datetime | None
    source: str
    source_key: str | None
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of_view(cls, view: Any) -> InvoiceOut:
        invoice, figures = view.invoice, view.figures
        return cls.model_validate(
            {
                **{k: getattr(invoice, k) for k in cls.model_fields if hasattr(invoice, k)},
                "lines": invoice.lines,
                "tax_summary": invoice.tax_summary,
                "paid_minor": figures.paid_minor,
                "credited_minor": figures.credited_minor,
                "due_minor": figures.due_minor,
                "overdue": view.overdue,
                "source": invoice.source_kind.value,
            }
        )


class InvoicePage(PageOut):
    items: list[InvoiceOut]


# --- credit notes -------------------------------------------------------------------


class CreditLineIn(_In):
    position: Count = Field(description="the invoice line's position")
    quantity: Quantity | None = Field(default=None, description="all that is left if left out")


class CreditNoteCreate(_In):
    invoice_id: uuid.UUID
    lines: list[CreditLineIn] | None = Field(
        default=None, max_length=MAX_LINES, description="every line, in full, if left out"
    )
    reason: Reason | None = None


class CreditLineOut(_Out):
    invoice_position: int
    description: str
    quantity: Decimal
    unit_price_minor: int
    tax_rate_bp: int
    amount_minor: int
    discount_minor: int
    membership_discount_minor: int
    voucher_discount_minor: int = 0
    net_minor: int
    tax_minor: int
    total_minor: int


class CreditNoteOut(_Out):
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    customer_id: uuid.UUID
    number: str
    currency: str
    lines: list[CreditLineOut]
    tax_summary: list[TaxTotalOut]
    net_minor: int
    tax_minor: int
    total_minor: int
    voucher_discount_minor: int = Field(description="loyalty vouchers it gives back")
    reason: str | None
    bill_to: PartyOut | None
    seller: PartyOut | None
    issued_at: datetime
    issued_on: date
    created_by: str
    created_at: datetime


class CreditNotePage(PageOut):
    items: list[CreditNoteOut]


# --- loyalty vouchers -------------------------------------------------------------------


class VoucherOut(_Out):
    voucher_id: uuid.UUID
    customer_id: uuid.UUID
    points: int = Field(description="loyalty points redeemed for it")
    amount_minor: int = Field(description="what it was worth")
    used_minor: int = Field(description="used on invoices, less what credit notes gave back")
    remaining_minor: int = Field(description="left for the customer's next invoices")
    currency: str
    issued_by: str
    issued_at: datetime


class VoucherPage(PageOut):
    items: list[VoucherOut]


# --- payments -------------------------------------------------------------------------


class PaymentCreate(_In):
    invoice_id: uuid.UUID
    amount_minor: Amount
    method: Method
    currency: CurrencyCode | None = Field(default=None, description="must be the invoice's")
    received_at: AwareDatetime | None = None
    external_reference: Annotated[Line, Field(max_length=200)] | None = None
    note: Reason | None = None


class RefundCreate(_In):
    amount_minor: Amount
    method: Method | None = Field(default=None, description="the payment's if left out")
    reason: Reason | None = None


class RefundOut(_Out):
    id: uuid.UUID
    payment_id: uuid.UUID
    customer_id: uuid.UUID
    invoice_id: uuid.UUID | None
    reference: str
    amount_minor: int
    currency: str
    method: str
    reason: str | None
    refunded_at: datetime
    refunded_by: str
    created_at: datetime


class PaymentOut(_Out):
    id: uuid.UUID
    customer_id: uuid.UUID
    invoice_id: uuid.UUID | None
    reference: str
    method: str
    amount_minor: int
    currency: str
    received_at: datetime
    external_reference: str | None
    note: str | None
    recorded_by: str
    created_at: datetime
    refunded_minor: int = 0
    refunds: list[RefundOut] = Field(default_factory=list)


class PaymentPage(PageOut):
    items: list[PaymentOut]


# --- the ledger -----------------------------------------------------------------------


class StatementLineOut(_Out):
    seq: int
    entry_id: uuid.UUID
    kind: str
    reference: str
    occurred_at: datetime
    memo: str | None
    invoice_id: uuid.UUID | None
    document_id: uuid.UUID
    debit_minor: int
    credit_minor: int
    balance_minor: int


class StatementOut(_Out):
    customer_id: uuid.UUID
    currency: str
    opening_minor: int
    lines: list[StatementLineOut]
    closing_minor: int = Field(description="owed after the last line (negative: held for them)")
    next_cursor: str | None = None


class PositionOut(_Out):
    currency: str
    outstanding_minor: int
    credit_minor: int
    lifetime_spend_minor: int
    balance_minor: int


class PostingOut(_Out):
    account: str
    amount_minor: int = Field(description="debit > 0, credit < 0")
    customer_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    method: str | None
    tax_rate_bp: int | None


class EntryOut(_Out):
    seq: int
    id: uuid.UUID
    kind: str
    reference: str
    customer_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    document_id: uuid.UUID
    currency: str
    memo: str | None
    occurred_at: datetime
    postings: list[PostingOut]


class EntryPage(PageOut):
    items: list[EntryOut]


class AccountBalanceOut(_Out):
    currency: str
    account: str
    method: str | None
    tax_rate_bp: int | None
    balance_minor: int = Field(description="sum of postings: debit > 0, credit < 0")


# --- the profile and KPIs ----------------------------------------------------------------


class ProfilePatch(_In):
    seller_name: Annotated[Name, Field(max_length=200)] | None = None
    seller_address: Address | None = None
    seller_tax_id: TaxId | None = None
    seller_email: Email | None = None
    seller_phone: Annotated[Name, Field(max_length=40)] | None = None
    currency: CurrencyCode | None = None
    locale: LocaleCode | None = None
    timezone: TimeZoneName | None = None
    default_tax_rate_bp: BasisPoints | None = None
    prices_include_tax: StrictBool | None = None
    payment_terms_days: Annotated[Count, Field(le=365)] | None = None
    invoice_prefix: Prefix | None = None
    credit_note_prefix: Prefix | None = None


class ProfileOut(_Out):
    seller_name: str | None
    seller_address: str | None
    seller_tax_id: str | None
    seller_email: str | None
    seller_phone: str | None
    currency: str
    locale: str
    timezone: str
    default_tax_rate_bp: int
    prices_include_tax: bool
    payment_terms_days: int
    invoice_prefix: str
    credit_note_prefix: str
    version: int


class StatusOut(_Out):
    status: str
    count: int
    total_minor: int
    due_minor: int


class KpisOut(_Out):
    currency: str
    billed_minor: int
    credited_minor: int
    pending_minor: int
    overdue_minor: int
    paid_minor: int
    refunded_minor: int
    invoices: int
    billable_sessions: int
    by_status: list[StatusOut]

    @classmethod
    def of_kpis(cls, k: Any) -> KpisOut:
        return cls.model_validate(
            {
                **{f: getattr(k, f) for f in cls.model_fields if f != "by_status"},
                "by_status": [StatusOut.of(s) for s in k.by_status.values()],
            }
        )
