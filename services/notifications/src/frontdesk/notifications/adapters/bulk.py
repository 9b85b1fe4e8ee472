"""Bulk requests (customers' ``bulk_message.requested``): one row each, its messages in
the log carry its id."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, select

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.tables import bulk_requests as r


class BulkRepository(TenantRepository):
    async def create(
        self, request_id: uuid.UUID, *, channel: str, total: int, requested_by: str
    ) -> bool:
        """False when the request is already known (a redelivery adds nothing)."""
        stmt = (
            insert(r)
            .values(
                tenant_id=self.tenant_id,
                id=request_id,
                channel=channel,
                total=total,
                requested_by=requested_by,
            )
            .on_conflict_do_nothing()
            .returning(r.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get(self, request_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(r).where(r.c.tenant_id == self.tenant_id, r.c.id == request_id)
        )
