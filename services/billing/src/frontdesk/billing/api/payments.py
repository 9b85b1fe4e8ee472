"""/v1/payments: record a payment against an invoice, refund one, read, list."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.billing.api.common import (
    BillingManager,
    BillingReader,
    created_after,
    created_page,
    problem,
)
from frontdesk.billing.api.schemas import (
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    RefundCreate,
    RefundOut,
)
from frontdesk.billing.application import payments
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/payments", tags=["payments"])


def _out(view: payments.PaymentView) -> PaymentOut:
    out = PaymentOut.of(view.payment)
    out.refunds = [RefundOut.of(r) for r in view.refunds]
    out.refunded_minor = view.refunded_minor
    return out


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses={
        200: {"model": PaymentOut, "description": "Replay of an earlier payment (same key)"},
        409: problem("The invoice is not open, or the key was used for another payment"),
    },
)
async def record_payment(
    body: PaymentCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    idempotency_key: IdempotencyKey = None,
) -> PaymentOut:
    """Cash, card, transfer or online (recorded; no provider is called). A partial
    payment leaves the rest due; an overpayment is kept as the customer's credit."""
    outcome = await payments.record(
        uow,
        principal,
        payments.PaymentRequest(**body.model_dump()),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{outcome.value.id}"
    return _out(await payments.view(uow, principal, outcome.value.id))


@router.get("", response_model=PaymentPage)
async def list_payments(
    uow: UnitOfWorkDep,
    principal: BillingManager,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> PaymentPage:
    found = await payments.page(
        uow,
        principal,
        customer_id=customer_id,
        invoice_id=invoice_id,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = created_page(found, limit)
    return PaymentPage(items=[PaymentOut.of(p) for p in items], next_cursor=next_cursor)


@router.get("/{payment_id}", response_model=PaymentOut)
async def get_payment(
    payment_id: uuid.UUID, uow: UnitOfWorkDep, principal: BillingReader
) -> PaymentOut:
    return _out(await payments.view(uow, principal, payment_id))


@router.post(
    "/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses={
        200: {"model": RefundOut, "description": "Replay of an earlier refund (same key)"},
        409: problem("The key was used for another refund"),
    },
)
async def refund_payment(
    payment_id: uuid.UUID,
    body: RefundCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    idempotency_key: IdempotencyKey = None,
) -> RefundOut:
    """At most what is left of the payment. Drawn on the customer's credit first; the
    rest is owed on the payment's invoice again. Publishes ``billing.payment.refunded``."""
    outcome = await payments.refund(
        uow,
        principal,
        payment_id,
        payments.RefundRequest(**body.model_dump()),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return RefundOut.of(outcome.value)
