"""Writes of the read models kept from other services' events (summary, bookings,
memberships, activity). Each write is version-checked so a stale event changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert

from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_memberships,
    customer_summaries,
)
from frontdesk.kit.db import TenantRepository

# Bookings that count towards the customer's bookings (a rejected or cancelled one does not).
COUNTED = ("confirmed", "attended", "no_show")


class ReadModel(TenantRepository):
    async def apply_balance(
        self,
        customer_id: uuid.UUID,
        version: int,
        *,
        available: int,
        paused: int,
        purchased: int,
    ) -> bool:
        return await self._upsert_summary(
            customer_id,
            "credits_version",
            version,
            credits_available=available,
            credits_paused=paused,
            credits_purchased=purchased,
        )

    async def apply_account(
        self,
        customer_id: uuid.UUID,
        version: int,
        *,
        lifetime_spend_minor: int,
        outstanding_minor: int,
        currency: str,
    ) -> bool:
        return await self._upsert_summary(
            customer_id,
            "billing_version",
            version,
            lifetime_spend_minor=lifetime_spend_minor,
            outstanding_minor=outstanding_minor,
            currency=currency,
        )

    async def _upsert_summary(
        self, customer_id: uuid.UUID, version_column: str, version: int, **values: Any
    ) -> bool:
        table = customer_summaries
        stmt = insert(table).values(
            tenant_id=self.tenant_id,
            customer_id=customer_id,
            **{version_column: version},
            **values,
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.customer_id],
            set_={
                **{k: stmt.excluded[k] for k in values},
                version_column: version,
                "updated_at": func.now(),
            },
            where=table.c[version_column] < stmt.excluded[version_column],
        ).returning(table.c.customer_id)
        return (await self.session.execute(upsert)).first() is not None

    async def apply_membership(self, values: dict[str, Any], version: int) -> bool:
        table = customer_memberships
        stmt = insert(table).values(tenant_id=self.tenant_id, version=version, **values)
        upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.membership_id],
            set_={**{k: stmt.excluded[k] for k in values}, "version": version},
            where=table.c.version < stmt.excluded.version,
        ).returning(table.c.membership_id)
        return (await self.session.execute(upsert)).first() is not None

    async def apply_booking(
        self,
        booking_id: uuid.UUID,
        version: int,
        values: dict[str, Any],
        *,
        keep_status: bool = False,
    ) -> set[uuid.UUID] | None:
        """Upsert the booking's latest state; None if stale, else the customers to recompute.

        An event without a customer (a guest not linked yet) keeps the customer already known.
        """
        b = customer_bookings.c
        current = (
            await self.session.execute(
                select(b.customer_id, b.version)
                .where(b.tenant_id == self.tenant_id, b.booking_id == booking_id)
                .with_for_update()
            )
        ).first()
        if current is not None and current.version >= version:
            return None
        stmt = insert(customer_bookings).values(
            tenant_id=self.tenant_id, booking_id=booking_id, version=version, **values
        )
        kept = {"customer_id", "status"} if keep_status else {"customer_id"}
        set_: dict[str, Any] = {k: stmt.excluded[k] for k in values if k not in kept}
        set_["customer_id"] = func.coalesce(stmt.excluded.customer_id, b.customer_id)
        set_["version"] = stmt.excluded.version
        upsert = stmt.on_conflict_do_update(
            index_elements=[b.tenant_id, b.booking_id],
            set_=set_,
            where=b.version < stmt.excluded.version,
        ).returning(b.customer_id)
        row = (await self.session.execute(upsert)).first()
        if row is None:
            return None
        affected = {row.customer_id} if row.customer_id else set()
        if current is not None and current.customer_id:
            affected.add(current.customer_id)
        return affected

    async def recompute_bookings(self, customer_id: uuid.UUID) -> None:
        """Bookings count, first/last booking and last activity, from the bookings table.

        The summary row is locked first: two bookings of one customer handled at once
        would otherwise each count without the other's (uncommitted) row. Under READ
        COMMITTED the counting statement, run after the lock, sees the other's commit.
        """
        summary = customer_summaries.c
        await self.session.execute(
            insert(customer_summaries)
            .values(tenant_id=self.tenant_id, customer_id=customer_id)
            .on_conflict_do_nothing()
        )
        await self.session.execute(
            select(summary.customer_id)
            .where(summary.tenant_id == self.tenant_id, summary.customer_id == customer_id)
            .with_for_update()
        )
        b = customer_bookings.c
        counted = b.status.in_(COUNTED)
        source = select(
            literal(self.tenant_id).label("tenant_id"),
            literal(customer_id).label("customer_id"),
            func.count().filter(counted).label("bookings_count"),
            func.min(b.starts_at).filter(counted).label("first_booking_at"),
            func.max(b.starts_at).filter(counted).label("last_booking_at"),
            func.max(b.last_event_at).label("last_activity_at"),
        ).where(b.tenant_id == self.tenant_id, b.customer_id == customer_id)
        names = [
            "tenant_id",
            "customer_id",
            "bookings_count",
            "first_booking_at",
            "last_booking_at",
            "last_activity_at",
        ]
        stmt = insert(customer_summaries).from_select(names, source)
        stmt = stmt.on_conflict_do_update(
            index_elements=[customer_summaries.c.tenant_id, customer_summaries.c.customer_id],
            set_={n: stmt.excluded[n] for n in names[2:]} | {"updated_at": func.now()},
        )
        await self.session.execute(stmt)

    async def add_activity(
        self,
        *,
        event_id: uuid.UUID,
        customer_id: uuid.UUID,
        kind: str,
        event: str,
        occurred_at: datetime,
        subject_id: uuid.UUID,
        summary: str,
        details: dict[str, Any],
    ) -> None:
        await self.session.execute(
            insert(customer_activity)
            .values(
                id=event_id,
                tenant_id=self.tenant_id,
                customer_id=customer_id,
                kind=kind,
                event=event,
                occurred_at=occurred_at,
                subject_id=subject_id,
                summary=summary,
                details=details,
            )
            .on_conflict_do_nothing()
        )
