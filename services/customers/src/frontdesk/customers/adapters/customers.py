"""The customer records: load and save the ``Customer`` aggregate, find-or-create's lookup,
likely duplicates, and the delete of everything the service keeps about a customer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from frontdesk.customers.adapters.summaries import lock_customer
from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_memberships,
    customer_summaries,
    customers,
    deleted_customers,
    notes,
)
from frontdesk.customers.domain.customer import Customer
from frontdesk.kit.db import AggregateRepository

DUPLICATES_SHOWN = 20
# Set by the database when a record is inserted.
SERVER_SET = ("version", "created_at", "updated_at")

c = customers.c


class CustomerRepository(AggregateRepository[Customer]):
    table = customers
    aggregate = Customer
    what = "customer"

    async def add(self, customer: Customer) -> Customer:
        """Insert the record, and its (empty) summary unless events already made one."""
        values = {k: v for k, v in customer.to_row().items() if k not in SERVER_SET}
        row = await self._one(insert(customers).values(**values).returning(customers))
        customer.saved(row)
        await self.session.execute(
            pg_insert(customer_summaries)
            .values(tenant_id=self.tenant_id, customer_id=customer.id)
            .on_conflict_do_nothing()
        )
        return customer

    async def get_many_for_update(self, ids: Sequence[uuid.UUID]) -> list[Customer]:
        """Records locked in id order (so concurrent bulk actions never deadlock)."""
        rows = await self._all(
            select(customers)
            .where(c.tenant_id == self.tenant_id, c.id.in_(list(ids)))
            .order_by(c.id)
            .with_for_update()
        )
        return [self.load(row) for row in rows]

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
            (customers, c.id),
        ):
            await self.session.execute(
                delete(table).where(table.c.tenant_id == self.tenant_id, column == customer_id)
            )

    async def possible_duplicates(self, customer: Customer) -> list[uuid.UUID]:
        """Others in the tenant with the same email or phone, or the same name (any case)."""
        if customer.erased:
            return []
        same = [
            and_(
                func.lower(c.first_name) == customer.first_name.lower(),
                func.lower(c.last_name) == customer.last_name.lower(),
            )
        ]
        if customer.email:
            same.append(c.email == customer.email)
        if customer.phone:
            same.append(c.phone == customer.phone)
        stmt = (
            select(c.id)
            .where(
                c.tenant_id == self.tenant_id,
                c.id != customer.id,
                c.erased_at.is_(None),
                or_(*same),
            )
            .order_by(c.created_at, c.id)
            .limit(DUPLICATES_SHOWN)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def lock_email(self, email: str) -> None:
        """Serialise find-or-create of one email in this tenant until the transaction ends."""
        key = f"customers:find-or-create:{self.tenant_id}:{email}"
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )

    async def oldest_with_email(self, email: str) -> Customer | None:
        row = await self._first(
            select(customers)
            .where(c.tenant_id == self.tenant_id, c.email == email)
            .order_by(c.created_at, c.id)
            .limit(1)
        )
        return None if row is None else self.load(row)
