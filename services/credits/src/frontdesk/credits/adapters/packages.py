"""Credit packages. Locks are taken in one order: packages by expiry, after the
customer's account (see ``accounts``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.credits.adapters.common import CreatedKey, created_page
from frontdesk.credits.adapters.tables import credit_packages as p
from frontdesk.credits.domain.packages import Package, PackageStatus
from frontdesk.kit.db import AggregateRepository, Prepared, session_writes


def _by_expiry(stmt: Select[tuple[object]]) -> Select[tuple[object]]:
    return stmt.order_by(p.c.expires_at.asc().nulls_last(), p.c.created_at, p.c.id)


_USABLE = Prepared(
    _by_expiry(
        select(p).where(
            p.c.tenant_id == bindparam("tenant_id"),
            p.c.customer_id == bindparam("customer_id"),
            p.c.status == PackageStatus.active,
            p.c.balance > 0,
            or_(p.c.expires_at.is_(None), p.c.expires_at > bindparam("now")),
        )
    ).with_for_update()
)


class PackageRepository(AggregateRepository[Package]):
    table = p
    aggregate = Package
    what = "package"

    def _of(self, customer_id: uuid.UUID) -> Select[tuple[object]]:
        return select(p).where(p.c.tenant_id == self.tenant_id, p.c.customer_id == customer_id)

    async def _locked(self, stmt: Select[tuple[object]]) -> list[Package]:
        return [self.load(row) for row in await self._all(stmt.with_for_update())]

    async def lock_usable(self, customer_id: uuid.UUID, now: datetime) -> list[Package]:
        """The customer's usable packages, locked, earliest expiry first (every booking's
        debit: one prepared statement)."""
        rows = await session_writes(self.session).rows(
            _USABLE, tenant_id=self.tenant_id, customer_id=customer_id, now=now
        )
        return [Package.from_row(row) for row in rows]

    async def lock_many(self, package_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Package]:
        stmt = select(p).where(p.c.tenant_id == self.tenant_id, p.c.id.in_(list(package_ids)))
        return {package.id: package for package in await self._locked(_by_expiry(stmt))}

    async def lock_open_of(self, customer_id: uuid.UUID) -> list[Package]:
        stmt = self._of(customer_id).where(
            p.c.status.in_((PackageStatus.active, PackageStatus.paused))
        )
        return await self._locked(_by_expiry(stmt))

    async def lock_due(self, customer_id: uuid.UUID, now: datetime) -> list[Package]:
        stmt = self._of(customer_id).where(
            p.c.status == PackageStatus.active, p.c.expires_at <= now
        )
        return await self._locked(stmt.order_by(p.c.expires_at, p.c.created_at, p.c.id))

    async def page(
        self,
        limit: int,
        after: CreatedKey | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        status: PackageStatus | None = None,
    ) -> list[Package]:
        stmt = select(p).where(p.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(p.c.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(p.c.status == status)
        return [self.load(row) for row in await self._all(created_page(stmt, p, limit, after))]

    async def scrub_custom_names(self, customer_id: uuid.UUID) -> None:
        """Custom grants carry a free-text name; erasure replaces it."""
        await self.session.execute(
            update(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.product_id.is_(None),
            )
            .values(name="Credit grant")
        )

    @staticmethod
    async def due_customers(
        session: AsyncSession, now: datetime, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant_id, customer_id) of customers with active packages past their expiry:
        the sweep's one query across tenants (the work then runs tenant by tenant)."""
        stmt = (
            select(p.c.tenant_id, p.c.customer_id)
            .where(p.c.status == PackageStatus.active, p.c.expires_at <= now)
            .group_by(p.c.tenant_id, p.c.customer_id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]
