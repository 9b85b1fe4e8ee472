"""Every query of the credits service lives here; each one filters by tenant.

The sweep's "what is due" queries are the only ones across tenants; they
return (tenant, id) pairs and the work itself then runs tenant by tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Table,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.credits.adapters.tables import (
    booking_debits,
    credit_accounts,
    credit_history,
    credit_packages,
    credit_products,
    membership_history,
    membership_plans,
    memberships,
)
from frontdesk.kit.db import TenantRepository


class Page:
    """Keyset page bounds: rows after ``after`` (a sort key tuple), at most ``limit``."""

    def __init__(self, limit: int, after: tuple[Any, ...] | None = None) -> None:
        self.limit = limit
        self.after = after


def _keyset(table: Table, page: Page) -> ColumnElement[bool] | None:
    if page.after is None:
        return None
    created_at, row_id = page.after
    return or_(
        table.c.created_at > created_at,
        and_(table.c.created_at == created_at, table.c.id > row_id),
    )


class CatalogueRepository(TenantRepository):
    """Credit products and membership plans (same shape of queries)."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, table: Table) -> None:
        super().__init__(session, tenant_id)
        self.table = table

    @classmethod
    def products(cls, session: AsyncSession, tenant_id: uuid.UUID) -> CatalogueRepository:
        return cls(session, tenant_id, credit_products)

    @classmethod
    def plans(cls, session: AsyncSession, tenant_id: uuid.UUID) -> CatalogueRepository:
        return cls(session, tenant_id, membership_plans)

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id, t.c.id == item_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def add(self, values: dict[str, Any]) -> RowMapping:
        t = self.table
        return await self._one(insert(t).values(tenant_id=self.tenant_id, **values).returning(t))

    async def update(self, item_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        t = self.table
        stmt = (
            update(t)
            .where(t.c.tenant_id == self.tenant_id, t.c.id == item_id)
            .values(**values, version=t.c.version + 1, updated_at=func.now())
            .returning(t)
        )
        return await self._one(stmt)

    async def list(self, page: Page, *, active: bool | None = None) -> Sequence[RowMapping]:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id)
        if active is not None:
            stmt = stmt.where(t.c.active.is_(active))
        if (cond := _keyset(t, page)) is not None:
            stmt = stmt.where(cond)
        return await self._all(stmt.order_by(t.c.created_at, t.c.id).limit(page.limit))


class AccountRepository(TenantRepository):
    async def lock(self, customer_id: uuid.UUID) -> RowMapping:
        """The customer's account row, created if missing, locked for this transaction.

        Every change to a customer's credits takes this lock first, so changes
        of one customer run one after another and always lock in the same order
        (booking debit row, account, packages by expiry).
        """
        await self.session.execute(
            pg_insert(credit_accounts)
            .values(tenant_id=self.tenant_id, customer_id=customer_id)
            .on_conflict_do_nothing()
        )
        stmt = (
            select(credit_accounts)
            .where(
                credit_accounts.c.tenant_id == self.tenant_id,
                credit_accounts.c.customer_id == customer_id,
            )
            .with_for_update()
        )
        return await self._one(stmt)

    async def get(self, customer_id: uuid.UUID) -> RowMapping | None:
        stmt = select(credit_accounts).where(
            credit_accounts.c.tenant_id == self.tenant_id,
            credit_accounts.c.customer_id == customer_id,
        )
        return await self._first(stmt)

    async def refresh(
        self,
        customer_id: uuid.UUID,
        now: datetime,
        *,
        purchased: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> RowMapping:
        """Recount available and paused from the packages; bump the version."""
        p = credit_packages
        mine = and_(p.c.tenant_id == self.tenant_id, p.c.customer_id == customer_id)
        available = (
            select(func.coalesce(func.sum(p.c.balance), 0))
            .where(
                mine, p.c.status == "active", or_(p.c.expires_at.is_(None), p.c.expires_at > now)
            )
            .scalar_subquery()
        )
        paused = (
            select(func.coalesce(func.sum(p.c.balance), 0))
            .where(mine, p.c.status == "paused")
            .scalar_subquery()
        )
        a = credit_accounts
        stmt = (
            update(a)
            .where(a.c.tenant_id == self.tenant_id, a.c.customer_id == customer_id)
            .values(
                available=available,
                paused=paused,
                purchased_total=a.c.purchased_total + purchased,
                version=a.c.version + 1,
                updated_at=func.now(),
                **(extra or {}),
            )
            .returning(a)
        )
        return await self._one(stmt)

    async def mark(self, customer_id: uuid.UUID, values: dict[str, Any]) -> None:
        a = credit_accounts
        await self.session.execute(
            update(a)
            .where(a.c.tenant_id == self.tenant_id, a.c.customer_id == customer_id)
            .values(**values)
        )


class PackageRepository(TenantRepository):
    async def get(self, package_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        p = credit_packages
        stmt = select(p).where(p.c.tenant_id == self.tenant_id, p.c.id == package_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def add(self, values: dict[str, Any]) -> RowMapping:
        p = credit_packages
        return await self._one(insert(p).values(tenant_id=self.tenant_id, **values).returning(p))

    async def update(self, package_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        p = credit_packages
        stmt = (
            update(p)
            .where(p.c.tenant_id == self.tenant_id, p.c.id == package_id)
            .values(**values, version=p.c.version + 1, updated_at=func.now())
            .returning(p)
        )
        return await self._one(stmt)

    async def lock_usable(self, customer_id: uuid.UUID, now: datetime) -> Sequence[RowMapping]:
        """The customer's usable packages, locked, earliest expiry first."""
        p = credit_packages
        stmt = (
            select(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.status == "active",
                p.c.balance > 0,
                or_(p.c.expires_at.is_(None), p.c.expires_at > now),
            )
            .order_by(p.c.expires_at.asc().nulls_last(), p.c.created_at, p.c.id)
            .with_for_update()
        )
        return await self._all(stmt)

    async def lock_many(self, package_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RowMapping]:
        p = credit_packages
        stmt = (
            select(p)
            .where(p.c.tenant_id == self.tenant_id, p.c.id.in_(list(package_ids)))
            .order_by(p.c.expires_at.asc().nulls_last(), p.c.created_at, p.c.id)
            .with_for_update()
        )
        return {row["id"]: row for row in await self._all(stmt)}

    async def lock_open_of(self, customer_id: uuid.UUID) -> Sequence[RowMapping]:
        p = credit_packages
        stmt = (
            select(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.status.in_(("active", "paused")),
            )
            .order_by(p.c.expires_at.asc().nulls_last(), p.c.created_at, p.c.id)
            .with_for_update()
        )
        return await self._all(stmt)

    async def lock_due(self, customer_id: uuid.UUID, now: datetime) -> Sequence[RowMapping]:
        p = credit_packages
        stmt = (
            select(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.status == "active",
                p.c.expires_at <= now,
            )
            .order_by(p.c.expires_at, p.c.created_at, p.c.id)
            .with_for_update()
        )
        return await self._all(stmt)

    async def list(
        self, page: Page, *, customer_id: uuid.UUID | None = None, status: str | None = None
    ) -> Sequence[RowMapping]:
        p = credit_packages
        stmt = select(p).where(p.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(p.c.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(p.c.status == status)
        if (cond := _keyset(p, page)) is not None:
            stmt = stmt.where(cond)
        return await self._all(stmt.order_by(p.c.created_at, p.c.id).limit(page.limit))

    async def scrub_custom_names(self, customer_id: uuid.UUID) -> None:
        """Custom grants carry a free-text name; erasure replaces it."""
        p = credit_packages
        await self.session.execute(
            update(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.product_id.is_(None),
            )
            .values(name="Credit grant")
        )


async def due_packages(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(tenant_id, customer_id) of customers with active packages past their expiry."""
    p = credit_packages
    stmt = (
        select(p.c.tenant_id, p.c.customer_id)
        .where(p.c.status == "active", p.c.expires_at <= now)
        .group_by(p.c.tenant_id, p.c.customer_id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def due_memberships(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(tenant_id, id) of active memberships past their expiry."""
    m = memberships
    stmt = (
        select(m.c.tenant_id, m.c.id)
        .where(m.c.status == "active", m.c.expires_at <= now)
        .order_by(m.c.expires_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


class _AppendOnlyHistory(TenantRepository):
    """What the credit and membership histories share: pages in ``seq`` order, and the
    one change the append-only trigger allows (erasure removes the free-text reasons)."""

    history_table: Table

    async def _history_page(
        self, limit: int, after_seq: int | None, **filters: uuid.UUID | None
    ) -> Sequence[RowMapping]:
        h = self.history_table
        stmt = select(h).where(h.c.tenant_id == self.tenant_id)
        for column, value in filters.items():
            if value is not None:
                stmt = stmt.where(h.c[column] == value)
        if after_seq is not None:
            stmt = stmt.where(h.c.seq > after_seq)
        return await self._all(stmt.order_by(h.c.seq).limit(limit))

    async def scrub_reasons(self, customer_id: uuid.UUID) -> None:
        h = self.history_table
        await self.session.execute(
            update(h)
            .where(
                h.c.tenant_id == self.tenant_id,
                h.c.customer_id == customer_id,
                h.c.reason.is_not(None),
            )
            .values(reason=None)
        )


class HistoryRepository(_AppendOnlyHistory):
    history_table = credit_history

    async def add_many(self, entries: list[dict[str, Any]]) -> None:
        if entries:
            await self.session.execute(
                insert(credit_history), [{"tenant_id": self.tenant_id, **e} for e in entries]
            )

    async def list(
        self,
        *,
        limit: int,
        after_seq: int | None,
        customer_id: uuid.UUID | None = None,
        package_id: uuid.UUID | None = None,
        booking_id: uuid.UUID | None = None,
    ) -> Sequence[RowMapping]:
        return await self._history_page(
            limit, after_seq, customer_id=customer_id, package_id=package_id, booking_id=booking_id
        )


class BookingDebitRepository(TenantRepository):
    async def claim(self, booking_id: uuid.UUID, values: dict[str, Any]) -> RowMapping | None:
        """Insert the booking's row; None if one already exists (then read it with ``lock``)."""
        b = booking_debits
        stmt = (
            pg_insert(b)
            .values(tenant_id=self.tenant_id, booking_id=booking_id, **values)
            .on_conflict_do_nothing()
            .returning(b)
        )
        return await self._first(stmt)

    async def lock(self, booking_id: uuid.UUID) -> RowMapping | None:
        b = booking_debits
        stmt = (
            select(b)
            .where(b.c.tenant_id == self.tenant_id, b.c.booking_id == booking_id)
            .with_for_update()
        )
        return await self._first(stmt)

    async def update(self, booking_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        b = booking_debits
        stmt = (
            update(b)
            .where(b.c.tenant_id == self.tenant_id, b.c.booking_id == booking_id)
            .values(**values)
            .returning(b)
        )
        return await self._one(stmt)


class MembershipRepository(_AppendOnlyHistory):
    history_table = membership_history

    async def get(self, membership_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        m = memberships
        stmt = select(m).where(m.c.tenant_id == self.tenant_id, m.c.id == membership_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def current_of(self, customer_id: uuid.UUID) -> RowMapping | None:
        m = memberships
        stmt = select(m).where(
            m.c.tenant_id == self.tenant_id,
            m.c.customer_id == customer_id,
            m.c.status.in_(("active", "frozen")),
        )
        return await self._first(stmt)

    async def lock_current_of(self, customer_id: uuid.UUID) -> Sequence[RowMapping]:
        m = memberships
        stmt = (
            select(m)
            .where(
                m.c.tenant_id == self.tenant_id,
                m.c.customer_id == customer_id,
                m.c.status.in_(("active", "frozen")),
            )
            .with_for_update()
        )
        return await self._all(stmt)

    async def add(self, values: dict[str, Any]) -> RowMapping:
        m = memberships
        return await self._one(insert(m).values(tenant_id=self.tenant_id, **values).returning(m))

    async def update(self, membership_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        m = memberships
        stmt = (
            update(m)
            .where(m.c.tenant_id == self.tenant_id, m.c.id == membership_id)
            .values(**values, version=m.c.version + 1, updated_at=func.now())
            .returning(m)
        )
        return await self._one(stmt)

    async def list(
        self, page: Page, *, customer_id: uuid.UUID | None = None, status: str | None = None
    ) -> Sequence[RowMapping]:
        m = memberships
        stmt = select(m).where(m.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(m.c.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(m.c.status == status)
        if (cond := _keyset(m, page)) is not None:
            stmt = stmt.where(cond)
        return await self._all(stmt.order_by(m.c.created_at, m.c.id).limit(page.limit))

    async def add_history(self, values: dict[str, Any]) -> None:
        await self.session.execute(
            insert(membership_history).values(tenant_id=self.tenant_id, id=uuid.uuid4(), **values)
        )

    async def history(
        self,
        *,
        limit: int,
        after_seq: int | None,
        membership_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
    ) -> Sequence[RowMapping]:
        return await self._history_page(
            limit, after_seq, membership_id=membership_id, customer_id=customer_id
        )
