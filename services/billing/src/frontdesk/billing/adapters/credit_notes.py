"""Credit notes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from frontdesk.billing.adapters.common import CreatedKey, created_page
from frontdesk.billing.adapters.tables import credit_notes as n
from frontdesk.billing.domain.credit_notes import CreditNote
from frontdesk.kit.db import AggregateRepository


class CreditNoteRepository(AggregateRepository[CreditNote]):
    table = n
    aggregate = CreditNote
    what = "credit note"

    async def of_invoice(self, invoice_id: uuid.UUID) -> list[CreditNote]:
        rows = await self._all(
            select(n)
            .where(n.c.tenant_id == self.tenant_id, n.c.invoice_id == invoice_id)
            .order_by(n.c.created_at, n.c.id)
        )
        return [self.load(row) for row in rows]

    async def page(
        self,
        limit: int,
        after: CreatedKey | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        invoice_id: uuid.UUID | None = None,
    ) -> list[CreditNote]:
        stmt = select(n).where(n.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(n.c.customer_id == customer_id)
        if invoice_id is not None:
            stmt = stmt.where(n.c.invoice_id == invoice_id)
        return [self.load(row) for row in await self._all(created_page(stmt, n, limit, after))]

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID, scrub: Any) -> None:
        rows = await self._all(
            select(n.c.id, n.c.bill_to).where(
                n.c.tenant_id == self.tenant_id, n.c.customer_id == customer_id
            )
        )
        for row in rows:
            await self.session.execute(
                update(n)
                .where(n.c.tenant_id == self.tenant_id, n.c.id == row["id"])
                .values(customer_id=pseudonym, bill_to=scrub(row["bill_to"]))
            )
