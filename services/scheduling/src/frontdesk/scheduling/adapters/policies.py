"""A tenant's own booking policy (free cancellation hours), when it set one."""

from __future__ import annotations

from sqlalchemy import func, select

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert as pg_insert
from frontdesk.scheduling.adapters.tables import booking_policies


class PolicyRepository(TenantRepository):
    async def free_cancel_hours(self) -> int | None:
        row = await self._first(
            select(booking_policies.c.free_cancel_hours).where(
                booking_policies.c.tenant_id == self.tenant_id
            )
        )
        return None if row is None else int(row["free_cancel_hours"])

    async def set_free_cancel_hours(self, hours: int) -> None:
        stmt = pg_insert(booking_policies).values(tenant_id=self.tenant_id, free_cancel_hours=hours)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[booking_policies.c.tenant_id],
                set_={"free_cancel_hours": hours, "updated_at": func.now()},
            )
        )
