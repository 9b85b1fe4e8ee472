"""Every query of the customers service lives here; each one filters by tenant."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.customers.adapters.tables import customers


class CustomerRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def get(self, customer_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        stmt = select(customers).where(
            customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).mappings().first()

    async def add(self, values: dict[str, Any]) -> RowMapping:
        stmt = insert(customers).values(tenant_id=self.tenant_id, **values).returning(customers)
        return (await self.session.execute(stmt)).mappings().one()

    async def update(self, customer_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        stmt = (
            update(customers)
            .where(customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id)
            .values(**values, version=customers.c.version + 1, updated_at=func.now())
            .returning(customers)
        )
        return (await self.session.execute(stmt)).mappings().one()

    async def delete(self, customer_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(customers).where(
                customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id
            )
        )

