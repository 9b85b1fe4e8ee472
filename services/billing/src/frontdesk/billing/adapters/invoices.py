"""Invoices, and the sources (event business keys) closed before they were invoiced."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select, update

from frontdesk.billing.adapters.common import CreatedKey, created_page
from frontdesk.billing.adapters.tables import closed_sources
from frontdesk.billing.adapters.tables import invoices as i
from frontdesk.billing.domain.invoices import Invoice, InvoiceStatus, Source
from frontdesk.kit.db import AggregateRepository
from frontdesk.kit.upsert import insert


class InvoiceRepository(AggregateRepository[Invoice]):
    table = i
    aggregate = Invoice
    what = "invoice"

    async def by_source(self, kind: Source, key: str) -> Invoice | None:
        row = await self._first(
            select(i).where(
                i.c.tenant_id == self.tenant_id, i.c.source_kind == kind, i.c.source_key == key
            )
        )
        return None if row is None else self.load(row)

    async def page(
        self,
        limit: int,
        after: CreatedKey | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        status: InvoiceStatus | None = None,
        source: Source | None = None,
        source_key: str | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        exclude_drafts: bool = False,
    ) -> list[Invoice]:
        stmt = select(i).where(i.c.tenant_id == self.tenant_id)
        filters: list[Any] = []
        if customer_id is not None:
            filters.append(i.c.customer_id == customer_id)
        if status is not None:
            filters.append(i.c.status == status)
        if source is not None:
            filters.append(i.c.source_kind == source)
        if source_key is not None:
            filters.append(i.c.source_key == source_key)
        if issued_from is not None:
            filters.append(i.c.issued_on >= issued_from)
        if issued_to is not None:
            filters.append(i.c.issued_on <= issued_to)
        if exclude_drafts:
            filters.append(i.c.number.is_not(None))
        stmt = stmt.where(*filters)
        return [self.load(row) for row in await self._all(created_page(stmt, i, limit, after))]

    async def close_source(self, kind: Source, key: str) -> None:
        await self.session.execute(
            insert(closed_sources)
            .values(tenant_id=self.tenant_id, source_kind=kind, source_key=key)
            .on_conflict_do_nothing()
        )

    async def source_closed(self, kind: Source, key: str) -> bool:
        s = closed_sources
        row = await self._first(
            select(s.c.source_key).where(
                s.c.tenant_id == self.tenant_id, s.c.source_kind == kind, s.c.source_key == key
            )
        )
        return row is not None

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID, scrub: Any) -> None:
        """Erasure: the customer's invoices point at ``pseudonym``; ``scrub`` turns each
        bill-to into what the law requires to be kept."""
        rows = await self._all(
            select(i.c.id, i.c.bill_to).where(
                i.c.tenant_id == self.tenant_id, i.c.customer_id == customer_id
            )
        )
        for row in rows:
            await self.session.execute(
                update(i)
                .where(i.c.tenant_id == self.tenant_id, i.c.id == row["id"])
                .values(customer_id=pseudonym, bill_to=scrub(row["bill_to"]))
            )
