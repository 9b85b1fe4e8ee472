"""Events published by the billing service."""

from __future__ import annotations

import uuid
from datetime import date

from frontdesk.contracts.base import Event


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


class AccountChanged(Event):
    """The customer's ledger position after a change (aggregate: the customer).

    ``lifetime_spend_minor`` counts paid amounts only, less refunds (B8).
    """

    TYPE = "billing.account.changed"

    customer_id: uuid.UUID
    lifetime_spend_minor: int
    outstanding_minor: int
    currency: str
