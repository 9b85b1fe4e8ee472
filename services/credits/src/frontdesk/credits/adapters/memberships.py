"""Memberships and their history. At most one current (active or frozen) membership per
customer: a partial unique index holds it, and a clash is a conflict naming its field."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.credits.adapters.common import (
    AppendOnlyHistory,
    CreatedKey,
    created_page,
)
from frontdesk.credits.adapters.tables import membership_history
from frontdesk.credits.adapters.tables import memberships as m
from frontdesk.credits.domain.memberships import CURRENT, Membership, MembershipStatus
from frontdesk.kit.db import AggregateRepository
from frontdesk.kit.errors import ConflictError


class MembershipRepository(AggregateRepository[Membership], AppendOnlyHistory):
    table = m
    aggregate = Membership
    what = "membership"
    history_table = membership_history

    async def add(self, aggregate: Membership) -> Membership:
        try:
            return await super().add(aggregate)
        except IntegrityError:
            raise ConflictError(
                "the customer already has a current membership", field="customer_id"
            ) from None

    async def save(self, aggregate: Membership) -> Membership:
        try:
            return await super().save(aggregate)
        except IntegrityError:
            raise ConflictError(
                "the customer already has another current membership", field="status"
            ) from None

    async def current_of(self, customer_id: uuid.UUID, *, lock: bool = False) -> list[Membership]:
        stmt = select(m).where(
            m.c.tenant_id == self.tenant_id,
            m.c.customer_id == customer_id,
            m.c.status.in_(CURRENT),
        )
        if lock:
            stmt = stmt.with_for_update()
        return [self.load(row) for row in await self._all(stmt)]

    async def page(
        self,
        limit: int,
        after: CreatedKey | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        status: MembershipStatus | None = None,
    ) -> list[Membership]:
        stmt = select(m).where(m.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(m.c.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(m.c.status == status)
        return [self.load(row) for row in await self._all(created_page(stmt, m, limit, after))]

    async def add_steps(self, membership: Membership) -> None:
        """Its history lines for what was done to it since it was loaded."""
        for step in membership.collect_steps():
            await self.session.execute(
                insert(membership_history).values(
                    tenant_id=self.tenant_id,
                    id=uuid.uuid4(),
                    membership_id=membership.id,
                    customer_id=membership.customer_id,
                    action=step.action,
                    plan_id=step.plan_id,
                    plan_name=step.plan_name,
                    previous_plan_id=step.previous_plan_id,
                    starts_at=step.starts_at,
                    expires_at=step.expires_at,
                    status=step.status,
                    actor=step.actor,
                    reason=step.reason,
                )
            )

    async def history(
        self,
        limit: int,
        after_seq: int | None = None,
        *,
        membership_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
    ) -> Sequence[RowMapping]:
        return await self.history_page(
            limit, after_seq, membership_id=membership_id, customer_id=customer_id
        )

    @staticmethod
    async def due(
        session: AsyncSession, now: datetime, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant_id, id) of active memberships past their expiry: the sweep's one query
        across tenants (each is then expired in its own tenant's transaction)."""
        stmt = (
            select(m.c.tenant_id, m.c.id)
            .where(m.c.status == MembershipStatus.active, m.c.expires_at <= now)
            .order_by(m.c.expires_at)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]
