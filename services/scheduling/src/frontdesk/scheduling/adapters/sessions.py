"""Sessions (classes and events), read with their location's zone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, select, update

from frontdesk.kit.db import Prepared, by_key, session_writes
from frontdesk.kit.errors import StaleVersion
from frontdesk.scheduling.adapters.base import PlacedRepository, conflicts, occurrences_from
from frontdesk.scheduling.adapters.tables import bookings, sessions
from frontdesk.scheduling.domain.sessions import Session

# A capacity edit that the seat counter refuses names the capacity, not the seats.
CAPACITY_BELOW_SEATS = {
    "ck_sessions_seats_within_capacity": (
        "capacity",
        "The capacity cannot go below the seats already taken.",
    )
}


# The seat counter moved by a booking's step (prepared: every booking moves it).
_SEATS = Prepared(
    update(sessions)
    .where(by_key(sessions))
    .values(seats_taken=sessions.c.seats_taken + bindparam("delta", type_=Integer))
    .returning(sessions.c.seats_taken)
)
_SEATS_AS_READ = Prepared(
    _SEATS.statement.where(
        sessions.c.version == bindparam("version", type_=Integer),
        sessions.c.seats_taken + bindparam("delta", type_=Integer) <= sessions.c.capacity,
    )
)


def seat_move(as_read: bool) -> Prepared:
    """The seat counter's move by ``delta`` (``as_read``: only if still at ``version`` and
    within the capacity), returning the counter as moved; its values: ``seat_move_values``."""
    return _SEATS_AS_READ if as_read else _SEATS


def seat_move_values(tenant_id: uuid.UUID, session: Session) -> dict[str, Any]:
    """``seat_move``'s values: the seats ``session`` took or freed since they were saved."""
    return {
        "key_tenant_id": tenant_id,
        "key_id": session.id,
        "version": session.version,
        "delta": session.seats_delta,
    }


def seats_moved(session: Session, taken: int | None) -> None:
    """The counter as ``seat_move`` left it; None: the session was no longer as read."""
    if taken is None:
        raise StaleVersion("session", session.version)
    session.seats_saved(taken)


def _booked_session() -> Any:
    """The session whose booking is ``key_id`` (the booking read, not locked)."""
    booked = select(bookings.c.session_id).where(by_key(bookings)).scalar_subquery()
    tenant = bindparam("key_tenant_id", type_=sessions.c.tenant_id.type)
    return (sessions.c.tenant_id == tenant) & (sessions.c.id == booked)


class SessionRepository(PlacedRepository[Session]):
    table = sessions
    aggregate = Session
    what = "session"
    conflict_fields = CAPACITY_BELOW_SEATS

    async def of_booking(
        self, booking_id: uuid.UUID, *, for_update: bool = False, for_key_share: bool = False
    ) -> Session | None:
        """The session a booking is on, found through the booking (read, not locked) and
        locked as ``get`` locks it: one prepared statement where a booking's step took two.
        None: no such booking. Its caller locks the booking next and checks it is still on
        this session."""
        return await self._zoned_one(
            "of booking",
            _booked_session,
            booking_id,
            for_update=for_update,
            for_key_share=for_key_share,
        )

    async def save_seats(self, session: Session, *, as_read: bool = False) -> None:
        """The seat counter, moved by the seats this step took or freed: not versioned (a
        booking leaves the session's ETag as it is); the CHECK constraint keeps it within
        the capacity. ``as_read``: the session was read without its row lock, so only if
        it is still as read (no edit since, the seats still free), else ``StaleVersion``.
        The row is locked from here to the commit: callers write it last."""
        if session.seats_delta == 0:
            return
        with conflicts():
            taken = await session_writes(self.session).value(
                seat_move(as_read), **seat_move_values(self.tenant_id, session)
            )
        seats_moved(session, taken)

    async def page(
        self,
        *,
        location_id: uuid.UUID | None = None,
        staff_id: uuid.UUID | None = None,
        room_id: uuid.UUID | None = None,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        booked_by: uuid.UUID | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int,
    ) -> list[Session]:
        """By (starts_at, id), keyset-paginated: those after ``after``, at most ``limit``;
        ``starts_from`` keeps those still running then. ``booked_by``: only sessions that
        customer holds a booking of (not cancelled or rejected)."""
        booked = None
        if booked_by is not None:
            booked = sessions.c.id.in_(
                select(bookings.c.session_id).where(
                    bookings.c.tenant_id == self.tenant_id,
                    bookings.c.customer_id == booked_by,
                    # A place on a waitlist is no seat in the customer's calendar.
                    bookings.c.status.not_in(("cancelled", "rejected", "waitlisted")),
                )
            )
        return await self._page(
            equal={"location_id": location_id, "staff_id": staff_id, "room_id": room_id},
            starts_from=starts_from,
            starts_before=starts_before,
            after=after,
            limit=limit,
            where=booked,
        )

    async def following(
        self, series_id: uuid.UUID, recurrence_at: datetime, *, for_update: bool = False
    ) -> list[Session]:
        """The occurrences of a series from ``recurrence_at`` on, in the rule's order."""
        return await occurrences_from(self, series_id, recurrence_at, for_update=for_update)
