"""Payments and refunds."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from frontdesk.billing.adapters.common import CreatedKey, created_page
from frontdesk.billing.adapters.tables import payments as p
from frontdesk.billing.adapters.tables import refunds as r
from frontdesk.billing.domain.payments import Payment, Refund
from frontdesk.kit.db import AggregateRepository


class PaymentRepository(AggregateRepository[Payment]):
    table = p
    aggregate = Payment
    what = "payment"

    async def page(
        self,
        limit: int,
        after: CreatedKey | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        invoice_id: uuid.UUID | None = None,
    ) -> list[Payment]:
        stmt = select(p).where(p.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(p.c.customer_id == customer_id)
        if invoice_id is not None:
            stmt = stmt.where(p.c.invoice_id == invoice_id)
        return [self.load(row) for row in await self._all(created_page(stmt, p, limit, after))]

    async def refunded(self, payment_id: uuid.UUID) -> int:
        """What was refunded of the payment so far (its refund documents)."""
        row = await self._one(
            select(func.coalesce(func.sum(r.c.amount_minor), 0).label("total")).where(
                r.c.tenant_id == self.tenant_id, r.c.payment_id == payment_id
            )
        )
        return int(row["total"])

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
        for table in (p, r):
            await self.session.execute(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.customer_id == customer_id)
                .values(customer_id=pseudonym)
            )


class RefundRepository(AggregateRepository[Refund]):
    table = r
    aggregate = Refund
    what = "refund"

    async def of_payment(self, payment_id: uuid.UUID) -> list[Refund]:
        rows = await self._all(
            select(r)
            .where(r.c.tenant_id == self.tenant_id, r.c.payment_id == payment_id)
            .order_by(r.c.created_at, r.c.id)
        )
        return [self.load(row) for row in rows]
