"""Every query of the customers service lives here; each one filters by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from frontdesk.customers.adapters.readmodel import lock_customer
from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_memberships,
    customer_summaries,
    customers,
    deleted_customers,
    notes,
)
from frontdesk.kit.db import TenantRepository

DUPLICATES_SHOWN = 20


class CustomerRepository(TenantRepository):
    async def get(self, customer_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        stmt = select(customers).where(
            customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).mappings().first()

    async def get_many_for_update(self, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
        """Rows locked in id order (so concurrent bulk actions never deadlock)."""
        stmt = (
            select(customers)
            .where(customers.c.tenant_id == self.tenant_id, customers.c.id.in_(list(ids)))
            .order_by(customers.c.id)
            .with_for_update()
        )
        return list((await self.session.execute(stmt)).mappings().all())

    async def add(self, values: dict[str, Any]) -> RowMapping:
        stmt = insert(customers).values(tenant_id=self.tenant_id, **values).returning(customers)
        row: RowMapping = (await self.session.execute(stmt)).mappings().one()
        # The summary may already exist: events can arrive before the record.
        await self.session.execute(
            pg_insert(customer_summaries)
            .values(tenant_id=self.tenant_id, customer_id=row["id"])
            .on_conflict_do_nothing()
        )
        return row

    async def update(self, customer_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        stmt = (
            update(customers)
            .where(customers.c.tenant_id == self.tenant_id, customers.c.id == customer_id)
            .values(**values, version=customers.c.version + 1, updated_at=func.now())
            .returning(customers)
        )
        row: RowMapping = (await self.session.execute(stmt)).mappings().one()
        return row

    async def delete(self, customer_id: uuid.UUID) -> None:
        """The record and everything this service keeps about it, leaving a tombstone so
        that events still in flight about the customer keep nothing again."""
        await lock_customer(self.session, self.tenant_id, customer_id, shared=False)
        await self.session.execute(
            pg_insert(deleted_customers)
            .values(tenant_id=self.tenant_id, customer_id=customer_id)
            .on_conflict_do_nothing()
        )
        for table, column in (
            (notes, notes.c.customer_id),
            (customer_activity, customer_activity.c.customer_id),
            (customer_bookings, customer_bookings.c.customer_id),
            (customer_memberships, customer_memberships.c.customer_id),
            (customer_summaries, customer_summaries.c.customer_id),
            (customers, customers.c.id),
        ):
            await self.session.execute(
                delete(table).where(table.c.tenant_id == self.tenant_id, column == customer_id)
            )

    async def possible_duplicates(self, row: Any) -> list[uuid.UUID]:
        """Others in the tenant with the same email or phone, or the same name (any case)."""
        if row["erased_at"] is not None:
            return []
        same = [
            and_(
                func.lower(customers.c.first_name) == row["first_name"].lower(),
                func.lower(customers.c.last_name) == row["last_name"].lower(),
            )
        ]
        if row["email"]:
            same.append(customers.c.email == row["email"])
        if row["phone"]:
            same.append(customers.c.phone == row["phone"])
        stmt = (
            select(customers.c.id)
            .where(
                customers.c.tenant_id == self.tenant_id,
                customers.c.id != row["id"],
                customers.c.erased_at.is_(None),
                or_(*same),
            )
            .order_by(customers.c.created_at, customers.c.id)
            .limit(DUPLICATES_SHOWN)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def lock_email(self, email: str) -> None:
        """Serialise find-or-create of one email in this tenant until the transaction ends."""
        key = f"customers:find-or-create:{self.tenant_id}:{email}"
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )

    async def oldest_with_email(self, email: str) -> RowMapping | None:
        stmt = (
            select(customers)
            .where(customers.c.tenant_id == self.tenant_id, customers.c.email == email)
            .order_by(customers.c.created_at, customers.c.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).mappings().first()

    # -- what the detail view shows besides the record --------------------------------

    async def summary(self, customer_id: uuid.UUID) -> RowMapping | None:
        stmt = select(customer_summaries).where(
            customer_summaries.c.tenant_id == self.tenant_id,
            customer_summaries.c.customer_id == customer_id,
        )
        return (await self.session.execute(stmt)).mappings().first()

    async def next_session(self, customer_id: uuid.UUID, now: datetime) -> RowMapping | None:
        b = customer_bookings.c
        stmt = (
            select(b.booking_id, b.title, b.starts_at)
            .where(
                b.tenant_id == self.tenant_id,
                b.customer_id == customer_id,
                b.status == "confirmed",
                b.starts_at > now,
            )
            .order_by(b.starts_at)
            .limit(1)
        )
        return (await self.session.execute(stmt)).mappings().first()

    async def active_membership(self, customer_id: uuid.UUID, now: datetime) -> RowMapping | None:
        m = customer_memberships.c
        stmt = (
            select(m.membership_id, m.plan_name, m.status, m.starts_at, m.expires_at)
            .where(
                m.tenant_id == self.tenant_id,
                m.customer_id == customer_id,
                m.status.in_(["active", "frozen"]),
                m.expires_at > now,
            )
            .order_by(m.expires_at.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).mappings().first()

    async def bookings(self, customer_id: uuid.UUID) -> list[RowMapping]:
        b = customer_bookings.c
        stmt = (
            select(customer_bookings)
            .where(b.tenant_id == self.tenant_id, b.customer_id == customer_id)
            .order_by(b.starts_at)
        )
        return list((await self.session.execute(stmt)).mappings().all())

    async def memberships(self, customer_id: uuid.UUID) -> list[RowMapping]:
        m = customer_memberships.c
        stmt = (
            select(customer_memberships)
            .where(m.tenant_id == self.tenant_id, m.customer_id == customer_id)
            .order_by(m.starts_at)
        )
        return list((await self.session.execute(stmt)).mappings().all())
