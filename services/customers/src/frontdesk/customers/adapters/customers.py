"""The customer records: load and save the ``Customer`` aggregate, find-or-create's lookup,
likely duplicates, and the delete of everything the service keeps about a customer."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from frontdesk.customers.adapters.summaries import lock_customer
from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_assets,
    customer_bookings,
    customer_memberships,
    customer_summaries,
    customers,
    deleted_customers,
    household_links,
    notes,
)
from frontdesk.customers.domain.customer import Customer
from frontdesk.kit.db import AggregateRepository, Prepared, Reads
from frontdesk.kit.upsert import insert as pg_insert

DUPLICATES_SHOWN = 20
# Set by the database when a record is inserted.
SERVER_SET = ("version", "created_at", "updated_at")
# What the record's detail shows of its summary, next session and membership (each read
# under its own prefix by ``record_statement``).
SUMMARY_FIELDS = (
    "credits_available",
    "credits_paused",
    "credits_purchased",
    "lifetime_spend_minor",
    "outstanding_minor",
    "currency",
    "bookings_count",
    "first_booking_at",
    "last_booking_at",
    "last_activity_at",
)
NEXT_SESSION_FIELDS = ("booking_id", "title", "starts_at")
MEMBERSHIP_FIELDS = ("membership_id", "plan_name", "status", "starts_at", "expires_at")

c = customers.c


@functools.cache
def record_statement(*, duplicates: bool) -> Select[Any]:
    """The record with its summary, next session, current membership and (``duplicates``)
    likely duplicates: one statement, one round trip, built once (its values are bound:
    ``tenant_id``, ``customer_id``, ``now``). Columns of the summary are prefixed
    ``summary_`` (with ``has_summary``), of the session ``next_``, of the membership
    ``membership_``."""
    s, b, m = customer_summaries.c, customer_bookings.c, customer_memberships.c
    tenant_id = bindparam("tenant_id", type_=Uuid)
    customer_id = bindparam("customer_id", type_=Uuid)
    now = bindparam("now", type_=DateTime(timezone=True))
    next_session = (
        select(*(b[name] for name in NEXT_SESSION_FIELDS))
        .where(
            b.tenant_id == tenant_id,
            b.customer_id == customer_id,
            b.status == "confirmed",
            b.starts_at > now,
        )
        .order_by(b.starts_at)
        .limit(1)
        .lateral("next_session")
    )
    membership = (
        select(*(m[name] for name in MEMBERSHIP_FIELDS))
        .where(
            m.tenant_id == tenant_id,
            m.customer_id == customer_id,
            or_(m.status == "active", m.status == "frozen"),
            m.expires_at > now,
        )
        .order_by(m.expires_at.desc())
        .limit(1)
        .lateral("membership")
    )
    columns: list[Any] = [
        *customers.c,
        s.customer_id.is_not(None).label("has_summary"),
        *(s[name].label(f"summary_{name}") for name in SUMMARY_FIELDS),
        *(next_session.c[name].label(f"next_{name}") for name in NEXT_SESSION_FIELDS),
        *(membership.c[name].label(f"membership_{name}") for name in MEMBERSHIP_FIELDS),
    ]
    # 0006: the household (C14) and the assets (C15) the record shows.
    h, a = household_links.c, customer_assets.c
    columns.append(
        select(h.payer_id)
        .where(h.tenant_id == tenant_id, h.member_id == customer_id)
        .scalar_subquery()
        .label("household_payer_id")
    )
    columns.append(
        func.array(
            select(h.member_id)
            .where(h.tenant_id == tenant_id, h.payer_id == customer_id)
            .order_by(h.created_at, h.member_id)
            .scalar_subquery()
        ).label("household_member_ids")
    )
    columns.append(
        select(
            func.coalesce(
                func.jsonb_agg(
                    aggregate_order_by(
                        func.to_jsonb(literal_column("customer_assets")), a.created_at, a.id
                    )
                ),
                text("'[]'::jsonb"),
            )
        )
        .select_from(customer_assets)
        .where(a.tenant_id == tenant_id, a.customer_id == customer_id)
        .scalar_subquery()
        .label("assets")
    )
    if duplicates:
        columns.append(_duplicates_of(tenant_id).label("possible_duplicates"))
    return (
        select(*columns)
        .select_from(
            customers.outerjoin(
                customer_summaries,
                and_(s.tenant_id == tenant_id, s.customer_id == customer_id),
            )
            .outerjoin(next_session, true())
            .outerjoin(membership, true())
        )
        .where(c.tenant_id == tenant_id, c.id == customer_id)
    )


@functools.cache
def _prepared_record(duplicates: bool) -> Prepared:
    return Prepared(record_statement(duplicates=duplicates))


def _duplicates_of(tenant_id: Any) -> Any:
    """Others in the tenant with the record's email or phone, or its name (any case), oldest
    first; none for an erased record (as ``possible_duplicates``)."""
    other = customers.alias("other")
    o = other.c
    same = or_(
        and_(
            func.lower(o.first_name) == func.lower(c.first_name),
            func.lower(o.last_name) == func.lower(c.last_name),
        ),
        o.email == c.email,
        o.phone == c.phone,
    )
    found = (
        select(o.id)
        .where(
            o.tenant_id == tenant_id,
            o.id != c.id,
            o.erased_at.is_(None),
            c.erased_at.is_(None),
            o.merged_into.is_(None),
            c.merged_into.is_(None),
            same,
        )
        .order_by(o.created_at, o.id)
        .limit(DUPLICATES_SHOWN)
        .correlate(customers)
        .scalar_subquery()
    )
    return func.array(found)  # ARRAY(SELECT ...): in the order found, [] when none


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
            (customer_assets, customer_assets.c.customer_id),
            (household_links, household_links.c.member_id),
            (household_links, household_links.c.payer_id),
            (customers, c.id),
        ):
            await self.session.execute(
                delete(table).where(table.c.tenant_id == self.tenant_id, column == customer_id)
            )

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
            .order_by(c.merged_into.is_not(None), c.created_at, c.id)
            .limit(1)
        )
        return None if row is None else self.load(row)


class CustomerRecords:
    """The record as its detail shows it (``record_statement``), read through the driver
    (``kit.db.Reads``): the service's hottest read builds, compiles and processes nothing
    per request, and borrows a connection only for the one round trip."""

    def __init__(self, reads: Reads, tenant_id: uuid.UUID) -> None:
        self.reads = reads
        self.tenant_id = tenant_id

    async def record(
        self, customer_id: uuid.UUID, now: datetime, *, duplicates: bool
    ) -> Mapping[str, Any] | None:
        return await self.reads.row(
            _prepared_record(duplicates),
            tenant_id=self.tenant_id,
            customer_id=customer_id,
            now=now,
        )
