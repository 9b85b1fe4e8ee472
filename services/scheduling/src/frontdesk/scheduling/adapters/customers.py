"""What customers told us of each customer (its status), for the one booking rule."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import bindparam, func, select

from frontdesk.kit.db import Prepared, TenantRepository, session_writes
from frontdesk.kit.upsert import insert as pg_insert
from frontdesk.scheduling.adapters.tables import customer_states
from frontdesk.scheduling.domain.customers import BARRED, CustomerStanding

_STATUS = Prepared(
    select(customer_states.c.status).where(
        customer_states.c.tenant_id == bindparam("tenant_id"),
        customer_states.c.customer_id == bindparam("customer_id"),
    )
)


class CustomerRepository(TenantRepository):
    async def standing(self, customer_id: uuid.UUID) -> CustomerStanding:
        """Whether the customer may book (every booking asks: a prepared statement)."""
        status = await session_writes(self.session).value(
            _STATUS, tenant_id=self.tenant_id, customer_id=customer_id
        )
        return CustomerStanding(customer_id, None if status is None else str(status))

    async def barred(self, customer_ids: Collection[uuid.UUID | None]) -> set[uuid.UUID]:
        """Those of ``customer_ids`` that may not book (blocked or deleted)."""
        ids = [c for c in customer_ids if c is not None]
        if not ids:
            return set()
        rows = await self._all(
            select(customer_states.c.customer_id).where(
                customer_states.c.tenant_id == self.tenant_id,
                customer_states.c.customer_id.in_(ids),
                customer_states.c.status.in_(BARRED),
            )
        )
        return {row["customer_id"] for row in rows}

    async def record_status(self, customer_id: uuid.UUID, status: str, version: int) -> None:
        """Upsert, dropping stale events (an older aggregate_version never wins)."""
        stmt = pg_insert(customer_states).values(
            tenant_id=self.tenant_id, customer_id=customer_id, status=status, version=version
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[customer_states.c.tenant_id, customer_states.c.customer_id],
            set_={
                "status": stmt.excluded.status,
                "version": stmt.excluded.version,
                "updated_at": func.now(),
            },
            where=customer_states.c.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)
