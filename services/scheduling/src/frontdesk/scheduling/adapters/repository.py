"""Every query of the scheduling service lives here; each one filters by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    RowMapping,
    and_,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from frontdesk.kit.db import TenantRepository
from frontdesk.scheduling.adapters.tables import (
    appointments,
    booking_policies,
    bookings,
    calendar_feeds,
    customer_states,
    locations,
    occupancy,
    rooms,
    sessions,
    staff,
)


class Repository(TenantRepository):
    """Queries of one tenant; the session belongs to the caller's unit of work."""

    # locations, rooms, staff ----------------------------------------------------------
    async def add_location(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(locations).values(tenant_id=self.tenant_id, **values).returning(locations)
        )

    async def location(self, location_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(locations).where(
                locations.c.tenant_id == self.tenant_id, locations.c.id == location_id
            )
        )

    async def list_locations(self) -> Sequence[RowMapping]:
        return await self._all(
            select(locations)
            .where(locations.c.tenant_id == self.tenant_id)
            .order_by(locations.c.name, locations.c.id)
        )

    async def add_room(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(rooms).values(tenant_id=self.tenant_id, **values).returning(rooms)
        )

    async def room(self, room_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(rooms).where(rooms.c.tenant_id == self.tenant_id, rooms.c.id == room_id)
        )

    async def list_rooms(self, location_id: uuid.UUID | None) -> Sequence[RowMapping]:
        stmt = select(rooms).where(rooms.c.tenant_id == self.tenant_id)
        if location_id is not None:
            stmt = stmt.where(rooms.c.location_id == location_id)
        return await self._all(stmt.order_by(rooms.c.name, rooms.c.id))

    async def add_staff(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(staff).values(tenant_id=self.tenant_id, **values).returning(staff)
        )

    async def staff_member(self, staff_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(staff).where(staff.c.tenant_id == self.tenant_id, staff.c.id == staff_id)
        )

    async def update_staff(self, staff_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            update(staff)
            .where(staff.c.tenant_id == self.tenant_id, staff.c.id == staff_id)
            .values(**values, updated_at=func.now())
            .returning(staff)
        )

    async def list_staff(self, location_id: uuid.UUID | None) -> Sequence[RowMapping]:
        stmt = select(staff).where(staff.c.tenant_id == self.tenant_id)
        if location_id is not None:
            stmt = stmt.where(staff.c.location_id == location_id)
        return await self._all(stmt.order_by(staff.c.name, staff.c.id))

    # sessions ---------------------------------------------------------------------------
    async def add_session(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(sessions).values(tenant_id=self.tenant_id, **values).returning(sessions)
        )

    async def session_row(
        self, session_id: uuid.UUID, *, for_update: bool = False
    ) -> RowMapping | None:
        stmt = select(sessions).where(
            sessions.c.tenant_id == self.tenant_id, sessions.c.id == session_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def list_sessions(
        self,
        *,
        location_id: uuid.UUID | None,
        staff_id: uuid.UUID | None,
        room_id: uuid.UUID | None,
        starts_from: datetime | None,
        starts_before: datetime | None,
        include_cancelled: bool = True,
        booked_by: uuid.UUID | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int,
    ) -> Sequence[RowMapping]:
        """By (starts_at, id), keyset-paginated: those after ``after``, at most ``limit``.
        ``booked_by``: only sessions that customer holds a booking of (not cancelled
        or rejected)."""
        stmt = select(sessions).where(sessions.c.tenant_id == self.tenant_id)
        if booked_by is not None:
            stmt = stmt.where(
                sessions.c.id.in_(
                    select(bookings.c.session_id).where(
                        bookings.c.tenant_id == self.tenant_id,
                        bookings.c.customer_id == booked_by,
                        bookings.c.status.not_in(("cancelled", "rejected")),
                    )
                )
            )
        if location_id is not None:
            stmt = stmt.where(sessions.c.location_id == location_id)
        if staff_id is not None:
            stmt = stmt.where(sessions.c.staff_id == staff_id)
        if room_id is not None:
            stmt = stmt.where(sessions.c.room_id == room_id)
        if starts_from is not None:
            stmt = stmt.where(sessions.c.ends_at > starts_from)
        if starts_before is not None:
            stmt = stmt.where(sessions.c.starts_at < starts_before)
        if not include_cancelled:
            stmt = stmt.where(sessions.c.status == "scheduled")
        if after is not None:
            stmt = stmt.where(
                tuple_(sessions.c.starts_at, sessions.c.id)
                > tuple_(literal(after[0]), literal(after[1]))
            )
        return await self._all(stmt.order_by(sessions.c.starts_at, sessions.c.id).limit(limit))

    async def take_seats(self, session_id: uuid.UUID, seats: int) -> RowMapping | None:
        """Atomically take seats if they are free; None when the session is full."""
        stmt = (
            update(sessions)
            .where(
                sessions.c.tenant_id == self.tenant_id,
                sessions.c.id == session_id,
                sessions.c.seats_taken + seats <= sessions.c.capacity,
            )
            .values(seats_taken=sessions.c.seats_taken + seats)
            .returning(sessions)
        )
        return await self._first(stmt)

    async def free_seats(self, session_id: uuid.UUID, seats: int) -> None:
        if seats:
            await self.session.execute(
                update(sessions)
                .where(sessions.c.tenant_id == self.tenant_id, sessions.c.id == session_id)
                .values(seats_taken=sessions.c.seats_taken - seats)
            )

    async def update_session(self, session_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            update(sessions)
            .where(sessions.c.tenant_id == self.tenant_id, sessions.c.id == session_id)
            .values(**values, version=sessions.c.version + 1, updated_at=func.now())
            .returning(sessions)
        )

    # bookings ---------------------------------------------------------------------------
    async def add_booking(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(bookings).values(tenant_id=self.tenant_id, **values).returning(bookings)
        )

    async def booking(self, booking_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(bookings).where(
                bookings.c.tenant_id == self.tenant_id, bookings.c.id == booking_id
            )
        )

    async def lock_booking(self, booking_id: uuid.UUID) -> tuple[RowMapping, RowMapping] | None:
        """The booking and its session, both locked: always the session first (no deadlocks)."""
        found = await self.booking(booking_id)
        if found is None:
            return None
        session = await self.session_row(found["session_id"], for_update=True)
        assert session is not None
        row = await self._first(
            select(bookings)
            .where(bookings.c.tenant_id == self.tenant_id, bookings.c.id == booking_id)
            .with_for_update()
        )
        assert row is not None
        return row, session

    async def update_booking(self, booking_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            update(bookings)
            .where(bookings.c.tenant_id == self.tenant_id, bookings.c.id == booking_id)
            .values(**values, version=bookings.c.version + 1, updated_at=func.now())
            .returning(bookings)
        )

    async def active_booking_of(
        self, session_id: uuid.UUID, customer_id: uuid.UUID, exclude: uuid.UUID | None = None
    ) -> RowMapping | None:
        stmt = select(bookings).where(
            bookings.c.tenant_id == self.tenant_id,
            bookings.c.session_id == session_id,
            bookings.c.customer_id == customer_id,
            bookings.c.status.not_in(("cancelled", "rejected")),
        )
        if exclude is not None:
            stmt = stmt.where(bookings.c.id != exclude)
        return await self._first(stmt)

    async def bookings_of_session(
        self, session_id: uuid.UUID, *, for_update: bool = False
    ) -> Sequence[RowMapping]:
        stmt = select(bookings).where(
            bookings.c.tenant_id == self.tenant_id, bookings.c.session_id == session_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self._all(stmt.order_by(bookings.c.created_at, bookings.c.id))

    async def list_bookings(
        self,
        *,
        customer_id: uuid.UUID | None,
        session_id: uuid.UUID | None,
        status: str | None,
        when: str | None,
        at: datetime,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[RowMapping]:
        """Bookings joined with their session's time and title, keyset-paginated.

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
            stmt = stmt.where(
                sessions.c.starts_at >= at, bookings.c.status.in_(("pending", "confirmed"))
            )
        elif when == "past":
            stmt = stmt.where(
                or_(sessions.c.starts_at < at, bookings.c.status.not_in(("pending", "confirmed")))
            )
        if after is not None:
            cursor = tuple_(literal(after[0]), literal(after[1]))
            stmt = stmt.where(key < cursor if descending else key > cursor)
        order = (
            (sessions.c.starts_at.desc(), bookings.c.id.desc())
            if descending
            else (sessions.c.starts_at, bookings.c.id)
        )
        return await self._all(stmt.order_by(*order).limit(limit))

    async def expired_pending(self, older_than: datetime, limit: int = 200) -> Sequence[RowMapping]:
        """Pending bookings of every tenant older than the saga timeout (for the sweeper)."""
        return await self._all(
            select(bookings.c.id, bookings.c.tenant_id)
            .where(bookings.c.status == "pending", bookings.c.created_at < older_than)
            .order_by(bookings.c.created_at)
            .limit(limit)
        )

    async def scrub_customer(self, customer_id: uuid.UUID) -> None:
        """GDPR: drop personal data, keep the anonymous booking and appointment records."""
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
        await self.session.execute(
            update(appointments)
            .where(
                appointments.c.tenant_id == self.tenant_id,
                appointments.c.customer_id == customer_id,
            )
            .values(notes=None, updated_at=func.now())
        )

    # appointments -----------------------------------------------------------------------
    async def add_appointment(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(appointments).values(tenant_id=self.tenant_id, **values).returning(appointments)
        )

    async def appointment(
        self, appointment_id: uuid.UUID, *, for_update: bool = False
    ) -> RowMapping | None:
        stmt = select(appointments).where(
            appointments.c.tenant_id == self.tenant_id, appointments.c.id == appointment_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def update_appointment(
        self, appointment_id: uuid.UUID, values: dict[str, Any]
    ) -> RowMapping:
        return await self._one(
            update(appointments)
            .where(appointments.c.tenant_id == self.tenant_id, appointments.c.id == appointment_id)
            .values(**values, version=appointments.c.version + 1, updated_at=func.now())
            .returning(appointments)
        )

    async def list_appointments(
        self,
        *,
        location_id: uuid.UUID | None,
        staff_id: uuid.UUID | None,
        room_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        starts_from: datetime | None,
        starts_before: datetime | None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int,
    ) -> Sequence[RowMapping]:
        """By (starts_at, id), keyset-paginated: those after ``after``, at most ``limit``."""
        stmt = select(appointments).where(appointments.c.tenant_id == self.tenant_id)
        for column, value in (
            (appointments.c.location_id, location_id),
            (appointments.c.staff_id, staff_id),
            (appointments.c.room_id, room_id),
            (appointments.c.customer_id, customer_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if starts_from is not None:
            stmt = stmt.where(appointments.c.ends_at > starts_from)
        if starts_before is not None:
            stmt = stmt.where(appointments.c.starts_at < starts_before)
        if after is not None:
            stmt = stmt.where(
                tuple_(appointments.c.starts_at, appointments.c.id)
                > tuple_(literal(after[0]), literal(after[1]))
            )
        return await self._all(
            stmt.order_by(appointments.c.starts_at, appointments.c.id).limit(limit)
        )

    # occupancy --------------------------------------------------------------------------
    async def occupy(
        self,
        holder_kind: str,
        holder_id: uuid.UUID,
        resource_kind: str,
        resource_id: uuid.UUID,
        starts_at: datetime,
        ends_at: datetime,
    ) -> None:
        """Hold one trainer or room for ``[starts_at, ends_at)``; an overlap with another
        holder of it violates ``ex_occupancy_overlap`` (waiting for a concurrent one
        to commit or roll back first)."""
        await self.session.execute(
            insert(occupancy).values(
                tenant_id=self.tenant_id,
                resource_kind=resource_kind,
                resource_id=resource_id,
                during=func.tstzrange(starts_at, ends_at, literal_column("'[)'")),
                holder_kind=holder_kind,
                holder_id=holder_id,
            )
        )

    async def release(self, holder_kind: str, holder_id: uuid.UUID) -> None:
        """Free whatever the holder held."""
        await self.session.execute(
            delete(occupancy).where(
                occupancy.c.tenant_id == self.tenant_id,
                occupancy.c.holder_kind == holder_kind,
                occupancy.c.holder_id == holder_id,
            )
        )

    async def occupancy_of(self, holder_kind: str, holder_id: uuid.UUID) -> Sequence[RowMapping]:
        return await self._all(
            select(occupancy)
            .where(
                occupancy.c.tenant_id == self.tenant_id,
                occupancy.c.holder_kind == holder_kind,
                occupancy.c.holder_id == holder_id,
            )
            .order_by(occupancy.c.resource_kind)
        )

    # customers read model and policy ------------------------------------------------------
    async def customer_status(self, customer_id: uuid.UUID) -> str | None:
        row = await self._first(
            select(customer_states.c.status).where(
                customer_states.c.tenant_id == self.tenant_id,
                customer_states.c.customer_id == customer_id,
            )
        )
        return None if row is None else str(row["status"])

    async def record_customer_status(
        self, customer_id: uuid.UUID, status: str, version: int
    ) -> None:
        """Upsert, dropping stale events (an older aggregate_version never wins)."""
        stmt = pg_insert(customer_states).values(
            tenant_id=self.tenant_id, customer_id=customer_id, status=status, version=version
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[customer_states.c.tenant_id, customer_states.c.customer_id],
            set_={
                "status": stmt.excluded.status,
                "version": stmt.excluded.version,
                "updated_at": func.now(),
            },
            where=customer_states.c.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def free_cancel_hours(self) -> int | None:
        row = await self._first(
            select(booking_policies.c.free_cancel_hours).where(
                booking_policies.c.tenant_id == self.tenant_id
            )
        )
        return None if row is None else int(row["free_cancel_hours"])

    async def set_free_cancel_hours(self, hours: int) -> None:
        stmt = pg_insert(booking_policies).values(tenant_id=self.tenant_id, free_cancel_hours=hours)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[booking_policies.c.tenant_id],
                set_={"free_cancel_hours": hours, "updated_at": func.now()},
            )
        )

    # calendar feeds ---------------------------------------------------------------------
    async def add_feed(self, values: dict[str, Any]) -> RowMapping:
        return await self._one(
            insert(calendar_feeds)
            .values(tenant_id=self.tenant_id, **values)
            .returning(calendar_feeds)
        )

    async def feed_by_secret_hash(self, secret_hash: str) -> RowMapping | None:
        """The live feed a secret URL names, in whichever tenant: the secret is the
        credential (its hash is unique), and the row says which tenant to read."""
        return await self._first(
            select(calendar_feeds).where(
                calendar_feeds.c.secret_hash == secret_hash,
                calendar_feeds.c.revoked_at.is_(None),
            )
        )

    async def feed(self, feed_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        stmt = select(calendar_feeds).where(
            calendar_feeds.c.tenant_id == self.tenant_id,
            calendar_feeds.c.id == feed_id,
            calendar_feeds.c.revoked_at.is_(None),
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self._first(stmt)

    async def list_feeds(self, created_by: str | None) -> Sequence[RowMapping]:
        """Live feeds, newest first; ``created_by`` None: every feed of the tenant."""
        stmt = select(calendar_feeds).where(
            calendar_feeds.c.tenant_id == self.tenant_id,
            calendar_feeds.c.revoked_at.is_(None),
        )
        if created_by is not None:
            stmt = stmt.where(calendar_feeds.c.created_by == created_by)
        return await self._all(
            stmt.order_by(calendar_feeds.c.created_at.desc(), calendar_feeds.c.id).limit(1000)
        )

    async def revoke_feed(self, feed_id: uuid.UUID) -> None:
        await self.session.execute(
            update(calendar_feeds)
            .where(calendar_feeds.c.tenant_id == self.tenant_id, calendar_feeds.c.id == feed_id)
            .values(revoked_at=func.now())
        )

    async def revoke_customer_feeds(self, customer_id: uuid.UUID) -> None:
        """A deleted or erased customer's feed URLs stop answering."""
        await self.session.execute(
            update(calendar_feeds)
            .where(
                calendar_feeds.c.tenant_id == self.tenant_id,
                calendar_feeds.c.customer_id == customer_id,
                calendar_feeds.c.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        )
