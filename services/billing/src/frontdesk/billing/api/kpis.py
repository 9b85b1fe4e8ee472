"""/v1/billing-kpis: finance figures of the business or one customer for a period."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from frontdesk.billing.api.common import BillingReader
from frontdesk.billing.api.ledger import From, To
from frontdesk.billing.api.schemas import KpisOut
from frontdesk.billing.application import kpis
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/billing-kpis", tags=["billing KPIs"])


@router.get("", response_model=list[KpisOut])
async def billing_kpis(
    uow: UnitOfWorkDep,
    principal: BillingReader,
    customer_id: uuid.UUID | None = None,
    start: From = None,
    end: To = None,
) -> list[KpisOut]:
    """Per currency: billed, credited, pending (still due), overdue, paid and refunded,
    invoices and billable sessions, and invoices by payment status (open, partially
    paid, overdue, paid, cancelled). Issued in the period (local days ``from`` to
    ``to``); paid and refunded: cash moved in it. A customer reads its own."""
    found = await kpis.kpis(uow, principal, customer_id=customer_id, start=start, end=end)
    return [KpisOut.of_kpis(k) for k in found]
