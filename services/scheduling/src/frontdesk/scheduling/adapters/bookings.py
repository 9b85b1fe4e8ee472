"""Bookings of sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import AggregateRepository, Prepared, Reads, keyed, session_writes
from frontdesk.kit.uow import OUTBOX_INSERT
from frontdesk.scheduling.adapters.base import conflicts
from frontdesk.scheduling.adapters.sessions import seat_move, seat_move_values, seats_moved
from frontdesk.scheduling.adapters.tables import bookings, household_links, sessions
from frontdesk.scheduling.domain.bookings import Booking
from frontdesk.scheduling.domain.sessions import Session

ACTIVE = ("pending", "confirmed")
ENDED = ("cancelled", "rejected")
WAITING = "waitlisted"
# Coming up for a customer: held seats and places on a waitlist.
UPCOMING = (*ACTIVE, WAITING)


def _position() -> ColumnElement[int]:
    """A waiting booking's place in its session's queue (1 = next); null otherwise."""
    ahead = bookings.alias("ahead")
    count = (
        select(func.count())
        .where(
            ahead.c.tenant_id == bookings.c.tenant_id,
            ahead.c.session_id == bookings.c.session_id,
            ahead.c.status == WAITING,
            tuple_(ahead.c.waitlisted_at, ahead.c.id)
            <= tuple_(bookings.c.waitlisted_at, bookings.c.id),
        )
        .scalar_subquery()
    )
    return case((bookings.c.status == WAITING, count), else_=None)


def _taking_seats(adding: Any, as_read: bool) -> Any:
    """The booking's insert, the outbox rows and the seat counter's move as one statement:
    the booking's row, with the counter as moved (null if it did not move)."""
    added = adding.cte("added")
    seats = seat_move(as_read).statement.cte("seats")
    outbox = text(OUTBOX_INSERT).columns().cte("outbox")
    moved = select(seats.c.seats_taken).scalar_subquery().label("session_seats_taken")
    return select(added, moved).add_cte(outbox)


class BookingRepository(AggregateRepository[Booking]):
    table = bookings
    aggregate = Booking
    what = "booking"

    async def add(self, booking: Booking) -> Booking:
        """One active booking per customer (or guest email) and session: a second is a
        conflict naming ``customer_id`` (``guest.email``)."""
        with conflicts():
            return await super().add(booking)

    async def add_taking_seats(
        self,
        booking: Booking,
        session: Session,
        outbox: dict[str, list[Any]],
        *,
        as_read: bool,
    ) -> None:
        """A new booking that holds seats, its events (``outbox``: ``uow.take_outbox()``)
        and the session's seat counter moved by them, in one statement (a rush's every
        booking writes these three). The counter moves as ``SessionRepository.save_seats``
        moves it (``as_read``: only if the session is still as read, else
        ``StaleVersion``, and nothing of the statement is kept once rolled back)."""
        values = self.added_values(booking)
        names = tuple(values)
        statement = keyed(
            ("booking taking seats", names, as_read),
            lambda: _taking_seats(self.adding(names), as_read),
        )
        with conflicts():
            row = await session_writes(self.session).row(
                statement,
                **seat_move_values(self.tenant_id, session),
                **{f"add_{name}": value for name, value in values.items()},
                **outbox,
            )
        assert row is not None
        seats_moved(session, row["session_seats_taken"])
        booking.saved(row)

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

    async def waiting(self, session_id: uuid.UUID, *, for_update: bool = False) -> list[Booking]:
        """The session's waitlist in queue order (first come, first served)."""
        stmt = select(bookings).where(
            bookings.c.tenant_id == self.tenant_id,
            bookings.c.session_id == session_id,
            bookings.c.status == WAITING,
        )
        if for_update:
            stmt = stmt.with_for_update()
        rows = await self._all(stmt.order_by(bookings.c.waitlisted_at, bookings.c.id))
        return [self.load(row) for row in rows]

    async def pending_count(self) -> int:
        """The tenant's bookings awaiting their payment step (a partial index holds them)."""
        row = await self._one(
            select(func.count().label("n")).where(
                bookings.c.tenant_id == self.tenant_id, bookings.c.status == "pending"
            )
        )
        return int(row["n"])

    async def waiting_count(self, session_id: uuid.UUID) -> int:
        row = await self._one(
            select(func.count().label("n")).where(
                bookings.c.tenant_id == self.tenant_id,
                bookings.c.session_id == session_id,
                bookings.c.status == WAITING,
            )
        )
        return int(row["n"])

    async def position(self, booking_id: uuid.UUID) -> int | None:
        row = await self._first(
            select(_position().label("position")).where(
                bookings.c.tenant_id == self.tenant_id, bookings.c.id == booking_id
            )
        )
        return None if row is None else row["position"]

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
        household: bool = False,
        waiting: bool = True,
    ) -> Sequence[RowMapping]:
        """Bookings joined with their session's title and times, keyset-paginated, each
        with its ``waitlist_position``.

        ``upcoming``: starts now or later and still pending, confirmed or waiting (not
        ``waiting``: seats only), soonest first; ``past``: everything else, most recent
        first; otherwise by start time. ``household``: the customer's own bookings, those
        of the members it pays for, and any it paid for.
        """
        stmt = (
            select(
                bookings,
                sessions.c.title,
                sessions.c.starts_at,
                sessions.c.ends_at,
                sessions.c.location_id,
                sessions.c.kind.label("session_kind"),
                _position().label("waitlist_position"),
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
        if customer_id is not None and household:
            members = select(household_links.c.member_id).where(
                household_links.c.tenant_id == self.tenant_id,
                household_links.c.payer_id == customer_id,
                household_links.c.linked.is_(True),
            )
            stmt = stmt.where(
                or_(
                    bookings.c.customer_id == customer_id,
                    bookings.c.customer_id.in_(members),
                    bookings.c.payer_customer_id == customer_id,
                )
            )
        elif customer_id is not None:
            stmt = stmt.where(bookings.c.customer_id == customer_id)
        if session_id is not None:
            stmt = stmt.where(bookings.c.session_id == session_id)
        if status is not None:
            stmt = stmt.where(bookings.c.status == status)
        key = tuple_(sessions.c.starts_at, bookings.c.id)
        descending = when == "past"
        upcoming = UPCOMING if waiting else ACTIVE
        if when == "upcoming":
            stmt = stmt.where(sessions.c.starts_at >= at, bookings.c.status.in_(upcoming))
        elif when == "past":
            stmt = stmt.where(or_(sessions.c.starts_at < at, bookings.c.status.not_in(UPCOMING)))
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
    (the saga's timeout sweep); a promoted booking counts from its promotion."""
    since = func.coalesce(bookings.c.promoted_at, bookings.c.created_at)
    result = await session.execute(
        select(bookings.c.id, bookings.c.tenant_id)
        .where(bookings.c.status == "pending", since < older_than)
        .order_by(since)
        .limit(limit)
    )
    return result.mappings().all()


async def payment_answered_since(session: AsyncSession, since: datetime) -> bool:
    """Whether the payment step confirmed or rejected any booking of any tenant since
    ``since`` (a timeout it gave itself does not count)."""
    result = await session.execute(
        select(bookings.c.id)
        .where(
            bookings.c.payment_method == "credits",
            bookings.c.status.in_(("confirmed", "rejected")),
            bookings.c.decided_at > since,
            func.coalesce(bookings.c.reason, "") != "timeout",
        )
        .limit(1)
    )
    return result.first() is not None


async def stale_waitlists(
    session: AsyncSession, now: datetime, limit: int = 200
) -> Sequence[RowMapping]:
    """(id, tenant_id) of waiting bookings of every tenant whose session has started."""
    result = await session.execute(
        select(bookings.c.id, bookings.c.tenant_id)
        .join(
            sessions,
            and_(
                sessions.c.id == bookings.c.session_id,
                sessions.c.tenant_id == bookings.c.tenant_id,
            ),
        )
        .where(bookings.c.status == WAITING, sessions.c.starts_at <= now)
        .limit(limit)
    )
    return result.mappings().all()


_VIEW = Prepared(
    select(
        bookings,
        sessions.c.title,
        sessions.c.starts_at,
        sessions.c.ends_at,
        _position().label("waitlist_position"),
    )
    .join(
        sessions,
        and_(sessions.c.id == bookings.c.session_id, sessions.c.tenant_id == bookings.c.tenant_id),
    )
    .where(bookings.c.tenant_id == bindparam("tenant_id"), bookings.c.id == bindparam("booking_id"))
)


class BookingReads:
    """One booking as its answers show it (with its session's title and times and its
    waitlist position), read through the driver (``kit.db.Reads``): one prepared
    statement, no session. What a waiting ``POST`` and a client's polling ask for."""

    def __init__(self, reads: Reads, tenant_id: uuid.UUID) -> None:
        self.reads = reads
        self.tenant_id = tenant_id

    async def view(self, booking_id: uuid.UUID) -> RowMapping | None:
        row = await self.reads.row(_VIEW, tenant_id=self.tenant_id, booking_id=booking_id)
        return row  # type: ignore[return-value]
