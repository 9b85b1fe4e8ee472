"""Webhook endpoints, deliveries and the log of attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.gateway.adapters.common import CreatedKey, created_page
from frontdesk.gateway.adapters.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from frontdesk.gateway.domain.webhooks import PENDING, Delivery, WebhookEndpoint
from frontdesk.kit.db import AggregateRepository, TenantRepository
from frontdesk.kit.upsert import insert as pg_insert


class EndpointRepository(AggregateRepository[WebhookEndpoint]):
    table = webhook_endpoints
    aggregate = WebhookEndpoint
    what = "webhook endpoint"

    async def page(self, limit: int, after: CreatedKey | None) -> Sequence[WebhookEndpoint]:
        stmt = select(self.table).where(self.table.c.tenant_id == self.tenant_id)
        return [self.load(r) for r in await self._all(created_page(stmt, self.table, limit, after))]

    async def wanting(self, event_type: str) -> Sequence[WebhookEndpoint]:
        t = self.table
        rows = await self._all(
            select(t).where(
                t.c.tenant_id == self.tenant_id,
                t.c.active.is_(True),
                t.c.event_types.any(event_type),
            )
        )
        return [self.load(r) for r in rows]

    async def remove(self, endpoint_id: uuid.UUID) -> bool:
        t = self.table
        row = await self._first(t.delete().where(self._where(endpoint_id)).returning(t.c.id))
        return row is not None


class DeliveryRepository(AggregateRepository[Delivery]):
    table = webhook_deliveries
    aggregate = Delivery
    what = "webhook delivery"

    async def add_once(self, delivery: Delivery) -> bool:
        """Insert unless this endpoint has this event already (a redelivered event)."""
        values = {k: v for k, v in delivery.to_row().items() if v is not None}
        stmt = (
            pg_insert(self.table)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(self.table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def of_endpoint(
        self,
        endpoint_id: uuid.UUID,
        limit: int,
        after: CreatedKey | None,
        status: str | None = None,
    ) -> Sequence[Delivery]:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id, t.c.endpoint_id == endpoint_id)
        if status is not None:
            stmt = stmt.where(t.c.status == status)
        return [self.load(r) for r in await self._all(created_page(stmt, t, limit, after))]


class AttemptRepository(TenantRepository):
    async def add(
        self,
        delivery_id: uuid.UUID,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        at: datetime,
    ) -> None:
        await self.session.execute(
            webhook_attempts.insert().values(
                tenant_id=self.tenant_id,
                delivery_id=delivery_id,
                status_code=status_code,
                error=(error or "")[:500] or None,
                duration_ms=duration_ms,
                attempted_at=at,
            )
        )

    async def of(self, delivery_id: uuid.UUID) -> Sequence[RowMapping]:
        t = webhook_attempts
        return await self._all(
            select(t)
            .where(t.c.tenant_id == self.tenant_id, t.c.delivery_id == delivery_id)
            .order_by(t.c.id)
        )


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> Sequence[tuple[Delivery, WebhookEndpoint]]:
    """Due deliveries of every tenant, each with its endpoint, leased to this worker until
    ``lease_until`` (another worker skips them; a crash lets the lease run out and the
    delivery is tried again)."""
    d, e = webhook_deliveries, webhook_endpoints
    due = (
        select(d.c.id)
        .where(d.c.status == PENDING, d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = (
        (
            await session.execute(
                update(d)
                .where(d.c.id.in_(due))
                .values(next_attempt_at=lease_until, updated_at=func.now())
                .returning(d)
            )
        )
        .mappings()
        .all()
    )
    if not rows:
        return []
    endpoints = {
        (r["tenant_id"], r["id"]): WebhookEndpoint.from_row(r)
        for r in (
            await session.execute(
                select(e).where(
                    or_(
                        *(
                            and_(e.c.tenant_id == r["tenant_id"], e.c.id == r["endpoint_id"])
                            for r in rows
                        )
                    )
                )
            )
        )
        .mappings()
        .all()
    }
    found = []
    for row in rows:
        delivery = Delivery.from_row(row)
        endpoint = endpoints.get((row["tenant_id"], row["endpoint_id"]))
        if endpoint is not None:
            found.append((delivery, endpoint))
    return found
