"""Payments and refunds.

A payment against an open invoice settles what is due on it; an overpayment is kept as
the customer's credit (not refused). A refund gives money of one payment back: it draws
on the customer's credit first, and what that does not cover is owed on the payment's
invoice again (a paid invoice opens again).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from frontdesk.billing.adapters.common import CreatedKey
from frontdesk.billing.adapters.invoices import InvoiceRepository
from frontdesk.billing.adapters.payments import PaymentRepository, RefundRepository
from frontdesk.billing.adapters.tables import idempotency_keys
from frontdesk.billing.application.books import Books, Outcome, profile_of, utcnow
from frontdesk.billing.domain import ledger
from frontdesk.billing.domain.numbering import PAYMENT_PREFIX, REFUND_PREFIX, Document
from frontdesk.billing.domain.payments import Method, Payment, Refund
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class PaymentRequest:
    invoice_id: uuid.UUID
    amount_minor: int
    method: Method
    currency: str | None = None  # the invoice's; given, it must match
    received_at: datetime | None = None
    external_reference: str | None = None
    note: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RefundRequest:
    amount_minor: int
    method: Method | None = None  # the payment's method unless given
    reason: str | None = None

    def fingerprint(self, payment_id: uuid.UUID) -> dict[str, Any]:
        return {"payment_id": payment_id, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class PaymentView:
    payment: Payment
    refunds: list[Refund]

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds)


async def record(
    uow: UnitOfWork,
    principal: Principal,
    request: PaymentRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome[Payment]:
    now = now or utcnow()
    tenant_id = principal.tenant_id
    payments = PaymentRepository(uow.session, tenant_id)
    payment_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "payment", idempotency_key, request.fingerprint(), payment_id, what="payment"
        )
        if earlier is not None:
            return Outcome(await payments.require(earlier), created=False)
    invoices = InvoiceRepository(uow.session, tenant_id)
    found = await invoices.get(request.invoice_id)
    if found is None:
        raise RuleBroken("invoice_id", "no such invoice")
    books = await Books.open(uow, tenant_id, found.customer_id, now)
    invoice = await invoices.require(request.invoice_id, for_update=True)
    invoice.require_payable()
    if request.currency is not None and request.currency != invoice.currency:
        raise RuleBroken("currency", f"the invoice is in {invoice.currency}")
    due = (await books.figures(invoice.id)).due_minor
    applied = max(0, min(request.amount_minor, due))
    profile = await profile_of(uow, tenant_id)
    reference = await books.number(Document.payment, PAYMENT_PREFIX, profile)
    payment = Payment.received(
        tenant_id=tenant_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        reference=reference,
        method=request.method,
        amount_minor=request.amount_minor,
        applied_minor=applied,
        currency=invoice.currency,
        received_at=request.received_at or now,
        actor=principal.sub,
        external_reference=request.external_reference,
        note=request.note,
        payment_id=payment_id,
    )
    await payments.add(payment)
    uow.publish_recorded(payment)
    await books.post(
        ledger.payment_received(
            payment_id=payment.id,
            reference=reference,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            currency=invoice.currency,
            method=payment.method.value,
            amount_minor=payment.amount_minor,
            applied_minor=applied,
            memo=f"payment of {invoice.number}",
        )
    )
    invoice.settle(await books.figures(invoice.id), now)
    await invoices.save(invoice)
    uow.publish_recorded(invoice)
    await books.close()
    await uow.commit()
    return Outcome(payment, created=True)


async def refund(
    uow: UnitOfWork,
    principal: Principal,
    payment_id: uuid.UUID,
    request: RefundRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome[Refund]:
    now = now or utcnow()
    tenant_id = principal.tenant_id
    refunds = RefundRepository(uow.session, tenant_id)
    refund_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "refund", idempotency_key, request.fingerprint(payment_id), refund_id, what="refund"
        )
        if earlier is not None:
            return Outcome(await refunds.require(earlier), created=False)
    payments = PaymentRepository(uow.session, tenant_id)
    found = await payments.require(payment_id)
    books = await Books.open(uow, tenant_id, found.customer_id, now)
    invoices = InvoiceRepository(uow.session, tenant_id)
    invoice = None
    if found.invoice_id is not None:
        invoice = await invoices.require(found.invoice_id, for_update=True)
    payment = await payments.require(payment_id, for_update=True)
    profile = await profile_of(uow, tenant_id)
    credit = (await books.position(payment.currency)).credit_minor
    refunded_before = await payments.refunded(payment.id)
    reference = await books.number(Document.refund, REFUND_PREFIX, profile)
    made = payment.refund(
        request.amount_minor,
        refunded_before_minor=refunded_before,
        reference=reference,
        actor=principal.sub,
        now=now,
        method=request.method,
        reason=request.reason,
        refund_id=refund_id,
    )
    await refunds.add(made)
    uow.publish_recorded(made)
    await books.post(
        ledger.refund_paid(
            refund_id=made.id,
            reference=reference,
            customer_id=payment.customer_id,
            invoice_id=payment.invoice_id,
            currency=payment.currency,
            method=made.method.value,
            amount_minor=made.amount_minor,
            from_credit_minor=min(made.amount_minor, max(credit, 0)),
            memo=request.reason or f"refund of {payment.reference}",
        )
    )
    if invoice is not None:
        invoice.settle(await books.figures(invoice.id), now)
        await invoices.save(invoice)
        uow.publish_recorded(invoice)
    await books.close()
    await uow.commit()
    return Outcome(made, created=True)


async def view(uow: UnitOfWork, principal: Principal, payment_id: uuid.UUID) -> PaymentView:
    payment = await PaymentRepository(uow.session, principal.tenant_id).require(payment_id)
    principal.ensure_sees(payment.customer_id, "payment")
    found = await RefundRepository(uow.session, principal.tenant_id).of_payment(payment_id)
    return PaymentView(payment, found)


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    after: CreatedKey | None = None,
    limit: int,
) -> list[Payment]:
    return await PaymentRepository(uow.session, principal.tenant_id).page(
        limit + 1, after, customer_id=principal.customer_scope(customer_id), invoice_id=invoice_id
    )
