"""A payment received against an invoice, and refunds of it.

Overpayment is kept, not refused: what exceeds the invoice's amount due becomes the
customer's credit (the ledger's ``customer_credit``), applied to the customer's next
invoice or refunded. A refund never exceeds what is left of its payment.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from frontdesk.contracts.billing import PaymentRecorded, PaymentRefunded
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.types import in_bounds

MAX_AMOUNT = 10**12


class Method(StrEnum):
    cash = "cash"
    card = "card"
    transfer = "transfer"
    online = "online"  # recorded as received; no payment provider is called yet


def require_amount(field: str, amount: int) -> None:
    if not 0 < amount <= MAX_AMOUNT:
        raise RuleBroken(field, f"must be above 0 and at most {MAX_AMOUNT}")


@dataclasses.dataclass(kw_only=True, eq=False)
class Payment(Aggregate):
    customer_id: uuid.UUID
    invoice_id: uuid.UUID | None
    reference: str
    method: Method
    amount_minor: int
    currency: str
    received_at: datetime
    external_reference: str | None = None
    note: str | None = None
    recorded_by: str
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.method = Method(self.method)

    def saved(self, row: Mapping[str, Any] | Any) -> None:
        super().saved(row)
        self.__post_init__()  # the row gives text back; the enums stay enums

    @classmethod
    def received(
        cls,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        invoice_id: uuid.UUID,
        invoice_number: str | None,
        reference: str,
        method: Method,
        amount_minor: int,
        applied_minor: int,
        currency: str,
        received_at: datetime,
        actor: str,
        external_reference: str | None = None,
        note: str | None = None,
        payment_id: uuid.UUID | None = None,
    ) -> Payment:
        require_amount("amount_minor", amount_minor)
        if received_at.tzinfo is None or not in_bounds(received_at):
            raise RuleBroken("received_at", "must carry an offset and lie between 1900 and 2200")
        payment = cls(
            id=payment_id or uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            reference=reference,
            method=method,
            amount_minor=amount_minor,
            currency=currency,
            received_at=received_at,
            external_reference=external_reference,
            note=note,
            recorded_by=actor,
        )
        payment.record(
            PaymentRecorded(
                payment_id=payment.id,
                reference=reference,
                invoice_id=invoice_id,
                invoice_number=invoice_number,
                customer_id=customer_id,
                amount_minor=amount_minor,
                applied_minor=applied_minor,
                currency=currency,
                method=method.value,
                received_at=received_at,
            )
        )
        return payment

    def refund(
        self,
        amount_minor: int,
        *,
        refunded_before_minor: int,
        reference: str,
        actor: str,
        now: datetime,
        method: Method | None = None,
        reason: str | None = None,
        refund_id: uuid.UUID | None = None,
    ) -> Refund:
        """Money of this payment given back (at most what is left of it)."""
        require_amount("amount_minor", amount_minor)
        left = self.amount_minor - refunded_before_minor
        if amount_minor > left:
            raise RuleBroken("amount_minor", f"at most {left} of this payment is left to refund")
        refund = Refund(
            id=refund_id or uuid.uuid4(),
            tenant_id=self.tenant_id,
            payment_id=self.id,
            customer_id=self.customer_id,
            invoice_id=self.invoice_id,
            reference=reference,
            amount_minor=amount_minor,
            currency=self.currency,
            method=method or self.method,
            reason=reason,
            refunded_at=now,
            refunded_by=actor,
        )
        refund.record(
            PaymentRefunded(
                payment_id=self.id,
                invoice_id=self.invoice_id,
                customer_id=self.customer_id,
                amount_minor=amount_minor,
                currency=self.currency,
                refund_id=refund.id,
                reference=reference,
                method=refund.method.value,
            )
        )
        return refund


@dataclasses.dataclass(kw_only=True, eq=False)
class Refund(Aggregate):
    payment_id: uuid.UUID
    customer_id: uuid.UUID
    invoice_id: uuid.UUID | None
    reference: str
    amount_minor: int
    currency: str
    method: Method
    reason: str | None = None
    refunded_at: datetime
    refunded_by: str
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.method = Method(self.method)

    def saved(self, row: Mapping[str, Any] | Any) -> None:
        super().saved(row)
        self.__post_init__()  # the row gives text back; the enums stay enums
