"""Events published by the billing service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from frontdesk.contracts.base import Event

PaymentMethod = Literal["cash", "card", "transfer", "online"]


class InvoiceFacts(Event):
    TYPE = "billing.invoice.facts"

    invoice_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    total_minor: int
    currency: str
    issued_on: date | None = None


class InvoiceIssued(InvoiceFacts):
    TYPE = "billing.invoice.issued"


class InvoicePaid(InvoiceFacts):
    TYPE = "billing.invoice.paid"

    paid_minor: int


class InvoiceCancelled(InvoiceFacts):
    TYPE = "billing.invoice.cancelled"


class PaymentRefunded(Event):
    TYPE = "billing.payment.refunded"

    payment_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID
    amount_minor: int
    currency: str
    # Optional additions: the refund itself and its reference number (e.g. RF-2027-000001).
    refund_id: uuid.UUID | None = None
    reference: str | None = None
    method: PaymentMethod | None = None


class PaymentRecorded(Event):
    """Money received from a customer against an invoice (aggregate: the payment).

    ``applied_minor`` went to the invoice; the rest of ``amount_minor`` (an
    overpayment) is kept as the customer's credit.
    """

    TYPE = "billing.payment.recorded"

    payment_id: uuid.UUID
    reference: str
    invoice_id: uuid.UUID | None = None
    invoice_number: str | None = None
    customer_id: uuid.UUID
    amount_minor: int
    applied_minor: int
    currency: str
    method: PaymentMethod
    received_at: datetime


class CreditNoteIssued(Event):
    """A credit note (its own gapless series) corrects an issued invoice (aggregate: the
    credit note)."""

    TYPE = "billing.credit_note.issued"

    credit_note_id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    invoice_number: str
    customer_id: uuid.UUID
    total_minor: int
    tax_minor: int
    currency: str
    issued_on: date
    reason: str | None = None


class AccountChanged(Event):
    """The customer's ledger position after a change (aggregate: the customer).

    ``lifetime_spend_minor`` counts paid amounts only, less refunds (B8).
    """

    TYPE = "billing.account.changed"

    customer_id: uuid.UUID
    lifetime_spend_minor: int
    outstanding_minor: int
    currency: str
    # Optional addition: money held for the customer (overpayments, credit notes on
    # paid invoices) not yet applied or refunded.
    credit_minor: int = 0
