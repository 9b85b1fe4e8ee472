"""Bookings of sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, and_, func, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import AggregateRepository
from frontdesk.scheduling.adapters.base import conflicts
from frontdesk.scheduling.adapters.tables import bookings, sessions
from frontdesk.scheduling.domain.bookings import Booking

ACTIVE = ("pending", "confirmed")
ENDED = ("cancelled", "rejected")


class BookingRepository(AggregateRepository[Booking]):
    table = bookings
    aggregate = Booking
    what = "booking"

    async def add(self, booking: Booking) -> Booking:
        """One active booking per customer (or guest email) and session: a second is a
        conflict naming ``customer_id`` (``guest.email``)."""
        with conflicts():
            return await super().add(booking)

    async def save(self, booking: Booking) -> Booking:
        """Every change of a booking is an event its readers order by version, so a save
        always gives it a new version (also when only its session moved)."""
        values = {name: getattr(booking, name) for name in booking.changed}
        with conflicts():
            saved = await self.update(booking.id, values, expected_version=booking.version)
        booking.saved(saved.to_row())
        return booking

    async def active_of(
        self, session_id: uuid.UUID, customer_id: uuid.UUID, *, exclude: uuid.UUID
    ) -> Booking | None:
        row = await self._first(
            select(bookings).where(
                bookings.c.tenant_id == self.tenant_id,
                bookings.c.session_id == session_id,
                bookings.c.customer_id == customer_id,
                bookings.c.status.not_in(ENDED),
                bookings.c.id != exclude,
            )
        )
        return None if row is None else self.load(row)

    async def of_session(self, session_id: uuid.UUID, *, for_update: bool = False) -> list[Booking]:
        stmt = select(bookings).where(
            bookings.c.tenant_id == self.tenant_id, bookings.c.session_id == session_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        rows = await self._all(stmt.order_by(bookings.c.created_at, bookings.c.id))
        return [self.load(row) for row in rows]

    async def page(
        self,
        *,
        customer_id: uuid.UUID | None,
        session_id: uuid.UUID | None = None,
        status: str | None = None,
        when: str | None = None,
        at: datetime,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int,
    ) -> Sequence[RowMapping]:
        """Bookings joined with their session's title and times, keyset-paginated.

        ``upcoming``: starts now or later and still pending or confirmed, soonest first;
        ``past``: everything else, most recent first; otherwise by start time.
        """
        stmt = (
            select(
                bookings,
                sessions.c.title,
                sessions.c.starts_at,
                sessions.c.ends_at,
                sessions.c.location_id,
                sessions.c.kind.label("session_kind"),
            )
            .join(
                sessions,
                and_(
                    sessions.c.id == bookings.c.session_id,
                    sessions.c.tenant_id == bookings.c.tenant_id,
                ),
            )
            .where(bookings.c.tenant_id == self.tenant_id)
        )
        if customer_id is not None:
            stmt = stmt.where(bookings.c.customer_id == customer_id)
        if session_id is not None:
            stmt = stmt.where(bookings.c.session_id == session_id)
        if status is not None:
            stmt = stmt.where(bookings.c.status == status)
        key = tuple_(sessions.c.starts_at, bookings.c.id)
        descending = when == "past"
        if when == "upcoming":
            stmt = stmt.where(sessions.c.starts_at >= at, bookings.c.status.in_(ACTIVE))
        elif when == "past":
            stmt = stmt.where(or_(sessions.c.starts_at < at, bookings.c.status.not_in(ACTIVE)))
        if after is not None:
            cursor = tuple_(literal(after[0]), literal(after[1]))
            stmt = stmt.where(key < cursor if descending else key > cursor)
        order = (
            (sessions.c.starts_at.desc(), bookings.c.id.desc())
            if descending
            else (sessions.c.starts_at, bookings.c.id)
        )
        return await self._all(stmt.order_by(*order).limit(limit))

    async def scrub_customer(self, customer_id: uuid.UUID) -> None:
        """GDPR: drop personal data, keep the anonymous booking records."""
        await self.session.execute(
            update(bookings)
            .where(bookings.c.tenant_id == self.tenant_id, bookings.c.customer_id == customer_id)
            .values(
                guest_first_name=None,
                guest_last_name=None,
                guest_email=None,
                guest_phone=None,
                notes=None,
                updated_at=func.now(),
            )
        )


async def expired_pending(
    session: AsyncSession, older_than: datetime, limit: int = 200
) -> Sequence[RowMapping]:
    """(id, tenant_id) of pending bookings of every tenant older than ``older_than``
    (the saga's timeout sweep)."""
    result = await session.execute(
        select(bookings.c.id, bookings.c.tenant_id)
        .where(bookings.c.status == "pending", bookings.c.created_at < older_than)
        .order_by(bookings.c.created_at)
        .limit(limit)
    )
    return result.mappings().all()
