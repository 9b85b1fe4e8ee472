"""Bookings and scheduling's side of the booking saga.

Every step runs inside the caller's unit of work: the state change, the seat counter
and the published events commit together or not at all. The steps: ``request_booking``
(the seat is taken, ``…requested``; free, reminder-only and pay-per-session bookings of
a known customer confirm at once), ``on_debit`` (credits answered: confirmed or
rejected), ``on_guest_resolved`` (a guest's customer is known: linked, then settled),
``expire_pending`` (the timeout), then ``cancel_booking``, ``reschedule_booking``,
``check_in`` and ``mark_no_show``. A session is always locked before its bookings.

The waitlist: a request for a full session with ``waitlist`` waits (``waitlisted``).
Every step that frees seats while the session is locked (a rejection, a cancellation, a
move away, a timeout, a larger capacity) ends with ``promote``, which gives the freed
seats to the first waiting bookings that fit; each promoted booking is requested as any
other (credits debit it then), and if that fails its seat goes to the next in line.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from opentelemetry import metrics

from frontdesk.contracts.scheduling import BookingConfirmed, BookingRejected
from frontdesk.kit.auth import Principal
from frontdesk.kit.db import unavailable
from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken, StaleVersion
from frontdesk.kit.notices import Notices, wait
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.adapters.bookings import (
    BookingReads,
    expired_pending,
    payment_answered_since,
    stale_waitlists,
)
from frontdesk.scheduling.application.common import Idempotency, Row, claim, repositories
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.bookings import (
    WAITLIST_WITHDRAWN,
    Booking,
    CancellationPolicy,
    Guest,
    ensure_saga_keeps_up,
    promote_waiting,
)
from frontdesk.scheduling.domain.customers import household_payer
from frontdesk.scheduling.domain.sessions import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingView:
    """A booking with the title and time of its session, as lists and answers show it."""

    booking: Booking
    title: str
    starts_at: datetime
    ends_at: datetime
    waitlist_position: int | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.booking.id

    @classmethod
    def of(cls, booking: Booking, session: Session, position: int | None = None) -> BookingView:
        return cls(booking, session.title, session.starts_at, session.ends_at, position)

    @classmethod
    def of_row(cls, row: Row) -> BookingView:
        return cls(
            Booking.from_row(row),
            row["title"],
            row["starts_at"],
            row["ends_at"],
            row.get("waitlist_position"),
        )


@dataclass(frozen=True)
class GuestDetails:
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class BookingRequest:
    """Who books which session: a customer, or a guest (then customers resolves it)."""

    session_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    guest: GuestDetails | None = None
    seats: int = 1
    notes: str | None = None
    # A household's payer pays for the member's booking (staff name the payer; a
    # customer token booking for a member is the payer).
    payer_customer_id: uuid.UUID | None = None
    # A full session: wait for a seat instead of 409.
    waitlist: bool = False


# An API process waiting on a booking (``Prefer: wait``) hears of its decision here.
DECIDED_CHANNEL = "scheduling_booking_decided"
_DECISIONS = frozenset({BookingConfirmed.routing_key(), BookingRejected.routing_key()})


async def _store(
    uow: UnitOfWork, repos: Repositories, booking: Booking, session: Session, *, seats: bool = True
) -> None:
    """Save a booking's step (with the seats it took or freed, unless the caller saves
    them itself) and publish its events at the version the save gave it; a decision is
    announced to whoever waits for it."""
    if seats:
        await repos.sessions.save_seats(session)
    await repos.bookings.save(booking)
    published = uow.publish_recorded(booking)
    if any(envelope.routing_key in _DECISIONS for envelope in published):
        await uow.notify(DECIDED_CHANNEL, str(booking.id))
        _count_decision(booking)


# What an operator watches of the saga: outcomes (a timeout means a payment step is gone)
# and the time from request to decision.
_meter = metrics.get_meter("frontdesk.scheduling")
_outcomes = _meter.create_counter(
    "frontdesk.saga.outcomes", unit="{booking}", description="Bookings decided, by outcome"
)
_time_to_decision = _meter.create_histogram(
    "frontdesk.saga.time_to_decision",
    unit="s",
    description="From a booking's request to its confirmation or rejection",
)


def _count_decision(booking: Booking) -> None:
    attributes = {"outcome": booking.status, "reason": booking.reason or ""}
    _outcomes.add(1, attributes)
    if booking.created_at is not None and booking.decided_at is not None:
        seconds = (booking.decided_at - booking.created_at).total_seconds()
        _time_to_decision.record(max(seconds, 0.0), {"outcome": booking.status})


async def _lock(
    repos: Repositories, booking_id: uuid.UUID, *, seats_stay: bool = False
) -> tuple[Booking, Session] | None:
    """The booking and its session, both locked: always the session first (no deadlocks,
    and a booking's events carry the session's current time). ``seats_stay``: a step
    that moves no seats holds the session against edits only, not against bookings."""
    session = await repos.sessions.of_booking(
        booking_id, for_update=not seats_stay, for_key_share=seats_stay
    )
    if session is None:
        if await repos.bookings.get(booking_id) is None:
            return None
        raise NotFoundError.of("session")
    booking = await repos.bookings.require(booking_id, for_update=True)
    if booking.session_id != session.id:  # moved meanwhile: a message is tried again
        raise ConflictError("The booking moved to another session meanwhile; try again.")
    return booking, session


def _ensure_sees(principal: Principal, booking: Booking) -> None:
    """A customer token sees its own bookings and those it pays for (a household's)."""
    if principal.is_customer and booking.payer_customer_id == principal.customer_id:
        return
    principal.ensure_sees(booking.customer_id, "booking")


async def _locked(
    repos: Repositories, principal: Principal, booking_id: uuid.UUID
) -> tuple[Booking, Session]:
    locked = await _lock(repos, booking_id)
    if locked is None:
        raise NotFoundError.of("booking")
    _ensure_sees(principal, locked[0])
    return locked


async def _view(repos: Repositories, booking_id: uuid.UUID) -> BookingView | None:
    booking = await repos.bookings.get(booking_id)
    if booking is None:
        return None
    position = await repos.bookings.position(booking.id) if booking.waiting else None
    return BookingView.of(booking, await repos.sessions.require(booking.session_id), position)


async def promote(uow: UnitOfWork, repos: Repositories, session: Session) -> list[Booking]:
    """Freed seats go to the session's waitlist (the session is locked by the caller):
    each promoted booking is saved and announced (``…promoted``), then requested as any
    booking (``…requested``: credits debits it; free and pay-per-session ones confirm at
    once). The bookings promoted."""
    if session.seats_free == 0:
        return []
    waiting = await repos.bookings.waiting(session.id, for_update=True)
    if not waiting:
        return []
    barred = await repos.customers.barred({b.customer_id for b in waiting})
    now = tz.now()
    promoted, dropped = promote_waiting(session, waiting, now=now, barred=barred)
    for booking in [*dropped, *promoted]:
        await _store(uow, repos, booking, session)
    for booking in promoted:
        booking.request_payment(session)
        await _store(uow, repos, booking, session)
        if booking.settles_at_once:
            booking.confirm(session, now)
            await _store(uow, repos, booking, session)
    if promoted:
        log.info("promoted %d waiting booking(s) of session %s", len(promoted), session.id)
    return promoted


async def tenant_policy(repos: Repositories, default: CancellationPolicy) -> CancellationPolicy:
    hours = await repos.policies.free_cancel_hours()
    return default if hours is None else CancellationPolicy(hours)


# step 1: the request --------------------------------------------------------------------
class SagaBacklog:
    """Admission for a rush: each tenant's bookings awaiting their payment step, counted
    at most every ``refresh_seconds`` per process (a rush's requests do not each count),
    refuse new bookings once ``limit`` wait (``ensure_saga_keeps_up``)."""

    def __init__(self, limit: int, refresh_seconds: float = 0.5) -> None:
        self.limit = limit
        self.refresh_seconds = refresh_seconds
        self._counted: dict[uuid.UUID, tuple[int, float]] = {}

    async def admit(self, repos: Repositories) -> None:
        tenant = repos.bookings.tenant_id
        now = time.monotonic()
        counted = self._counted.get(tenant)
        if counted is None or now - counted[1] >= self.refresh_seconds:
            counted = (await repos.bookings.pending_count(), now)
            self._counted[tenant] = counted
        ensure_saga_keeps_up(counted[0], self.limit)


async def request_booking(
    uow: UnitOfWork,
    principal: Principal,
    request: BookingRequest,
    idempotency: Idempotency | None = None,
    *,
    backlog: SagaBacklog | None = None,
) -> tuple[BookingView, bool]:
    """Take the seats, add the booking (pending) and start the saga; settle at once when
    nothing else is awaited. With an ``Idempotency-Key`` used before for the same
    request: the earlier booking as it is now, and True (replayed).

    A rush books one class many times a second, so the session's row is not locked while
    the booking is decided: the seats are taken last, only if the session is still as
    read (``StaleVersion`` otherwise, and then all again with the lock held).

    ``backlog``: refuse a new booking (503) while too many of the tenant's bookings await
    payment (a replay still answers)."""
    if not request.waitlist:  # a waitlist's order needs the lock from the start
        try:
            return await _request_booking(
                uow, principal, request, idempotency, backlog, locked=False
            )
        except StaleVersion:  # the session moved under the unlocked read
            await uow.rollback()
    return await _request_booking(uow, principal, request, idempotency, backlog, locked=True)


async def _request_booking(
    uow: UnitOfWork,
    principal: Principal,
    request: BookingRequest,
    idempotency: Idempotency | None,
    backlog: SagaBacklog | None,
    *,
    locked: bool,
) -> tuple[BookingView, bool]:
    repos = repositories(uow, principal.tenant_id)
    guest = None
    if request.guest is not None:
        g = request.guest
        guest = Guest.of(g.first_name, g.last_name, g.email, g.phone)
    booking_id = uuid.uuid4()
    earlier = await claim(repos, "booking", idempotency, booking_id)
    if earlier is not None:
        view = await _view(repos, earlier)
        if view is None:
            raise NotFoundError.of("booking")
        _ensure_sees(principal, view.booking)
        await uow.commit()  # nothing changed: ends the transaction before any wait
        return view, True
    if backlog is not None:
        await backlog.admit(repos)
    payer = None
    if request.customer_id is not None:
        (await repos.customers.standing(request.customer_id)).ensure_may_book()
        acting = principal.customer_id if principal.is_customer else None
        asked = acting or request.payer_customer_id
        linked = asked not in (None, request.customer_id) and await repos.households.linked(
            asked, request.customer_id
        )
        payer = household_payer(
            customer_id=request.customer_id,
            payer_customer_id=request.payer_customer_id,
            acting_customer=acting,
            linked=bool(linked),
        )
    elif request.payer_customer_id is not None:
        raise RuleBroken("payer_customer_id", "a guest pays for itself")
    # Locked (or, unlocked, checked when the seats are taken): a concurrent cancel or
    # edit of the session is seen (a booking never slips into a just-cancelled session,
    # and its event carries the session's current time).
    session = await repos.sessions.get(request.session_id, for_update=locked)
    if session is None:
        raise RuleBroken("session_id", "no such session")
    now = tz.now()
    waiting_ahead = 0
    if request.waitlist:
        waiting_ahead = await repos.bookings.waiting_count(session.id)
    booking = Booking.request(
        id=booking_id,
        tenant_id=principal.tenant_id,
        session=session,
        customer_id=request.customer_id,
        guest=guest,
        seats=request.seats,
        notes=request.notes,
        now=now,
        payer_customer_id=payer,
        waitlist=request.waitlist,
        waiting_ahead=waiting_ahead,
    )
    uow.publish_recorded(booking)  # a new booking's events: at its first version
    if booking.settles_at_once or session.seats_delta == 0:
        await repos.bookings.add(booking)
        if booking.settles_at_once:
            booking.confirm(session, now)
            await _store(uow, repos, booking, session, seats=False)
        await uow.flush_outbox()
        await repos.sessions.save_seats(session, as_read=not locked)  # last: locks the row
    else:  # the saga's start: the booking, its events and the seats in one statement
        await repos.bookings.add_taking_seats(
            booking, session, uow.take_outbox(), as_read=not locked
        )
    await uow.commit()
    position = waiting_ahead + 1 if booking.waiting else None
    return BookingView.of(booking, session, position), False


async def wait_for_outcome(
    uows: Callable[[], UnitOfWork],
    notices: Notices,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    seconds: float,
) -> BookingView | None:
    """The booking once the saga decided it, waiting at most ``seconds``; None if it is
    still pending then, or the database cannot answer (the booking stands either way).
    Waits on the process's one listener: at most two reads, never a poll."""
    try:
        async with notices.expect(DECIDED_CHANNEL, str(booking_id)) as decided:
            # Read once after listening: the decision may have landed just before.
            view = await _read(uows, tenant_id, booking_id)
            if view is None or not view.booking.pending:
                return view
            if not await wait(decided, seconds):
                return None
        return await _read(uows, tenant_id, booking_id)
    except Exception as error:
        if unavailable(error):
            log.warning("could not read booking %s after waiting: %r", booking_id, error)
            return None
        raise


async def _read(
    uows: Callable[[], UnitOfWork], tenant_id: uuid.UUID, booking_id: uuid.UUID
) -> BookingView | None:
    async with uows() as uow:
        return await _prepared_view(uow, tenant_id, booking_id)


async def _prepared_view(
    uow: UnitOfWork, tenant_id: uuid.UUID, booking_id: uuid.UUID
) -> BookingView | None:
    row = await BookingReads(uow.reads, tenant_id).view(booking_id)
    return None if row is None else BookingView.of_row(row)


# the saga's answers ---------------------------------------------------------------------
async def on_debit(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    *,
    succeeded: bool,
    reason: str | None = None,
) -> None:
    """credits answered. A late answer for a booking already decided changes nothing here:
    credits refunds a debit of a rejected booking from our ``BookingRejected``."""
    repos = repositories(uow, tenant_id)
    # A confirmation keeps its seats: it does not wait for the class's other bookings.
    locked = await _lock(repos, booking_id, seats_stay=succeeded)
    if locked is None:
        log.warning("debit answer for unknown booking %s", booking_id)
        return
    booking, session = locked
    if not booking.pending:
        return
    if succeeded:
        booking.confirm(session, tz.now())
        await _store(uow, repos, booking, session)
    else:
        booking.reject(session, reason or "debit_rejected", tz.now())
        await _store(uow, repos, booking, session)
        await promote(uow, repos, session)  # a rejected promotion moves on to the next
    await uow.commit()


async def on_guest_resolved(
    uow: UnitOfWork, tenant_id: uuid.UUID, booking_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    """customers found or created the guest's record: link it, then settle if we can (a
    guest already booked on the session, or blocked, is rejected)."""
    repos = repositories(uow, tenant_id)
    locked = await _lock(repos, booking_id)
    if locked is None:
        log.warning("guest resolved for unknown booking %s", booking_id)
        return
    booking, session = locked
    if booking.customer_id is not None:
        return  # already linked (a duplicate or a customer booking)
    now = tz.now()
    if booking.pending and await repos.bookings.active_of(
        session.id, customer_id, exclude=booking.id
    ):
        booking.reject(session, "already_booked", now)
        await _store(uow, repos, booking, session)
    elif booking.pending and not (await repos.customers.standing(customer_id)).may_book:
        booking.reject(session, "customer_blocked", now)
        await _store(uow, repos, booking, session)
    booking.link_customer(session, customer_id)
    await _store(uow, repos, booking, session)
    if booking.settles_at_once:
        booking.confirm(session, now)
        await _store(uow, repos, booking, session)
    await promote(uow, repos, session)
    await uow.commit()


async def expire_pending(uows: Callable[[], UnitOfWork], *, timeout: float) -> int:
    """The saga timeout: bookings of every tenant still pending after ``timeout`` seconds
    are rejected (reason ``timeout``) and their seats freed, each in its own transaction,
    but only once the payment step has been silent for the whole ``timeout``. While it
    answers other bookings it is alive and the queue is merely long: a paying customer
    with credits and a free seat keeps the booking however slow the saga runs."""
    cutoff = tz.now() - timedelta(seconds=timeout)
    async with uows() as uow:
        candidates = await expired_pending(uow.session, cutoff)
        if candidates and await payment_answered_since(uow.session, cutoff):
            log.info("%d pending past the timeout; payment still answers", len(candidates))
            return 0
    expired = 0
    for candidate in candidates:
        async with uows() as uow:
            repos = repositories(uow, candidate["tenant_id"])
            locked = await _lock(repos, candidate["id"])
            if locked is None or not locked[0].pending:
                continue
            booking, session = locked
            booking.reject(session, "timeout", tz.now())
            await _store(uow, repos, booking, session)
            await promote(uow, repos, session)
            await uow.commit()
            expired += 1
    if expired:
        log.info("saga timeout rejected %d pending booking(s)", expired)
    return expired


async def close_waitlists(uows: Callable[[], UnitOfWork]) -> int:
    """Waiting bookings of sessions that have started leave the waitlist (rejected,
    ``session_started``), each in its own transaction. How many."""
    now = tz.now()
    async with uows() as uow:
        candidates = await stale_waitlists(uow.session, now)
    closed = 0
    for candidate in candidates:
        async with uows() as uow:
            repos = repositories(uow, candidate["tenant_id"])
            locked = await _lock(repos, candidate["id"])
            if locked is None or not locked[0].waiting:
                continue
            booking, session = locked
            booking.leave_waitlist(session, "session_started", now)
            await _store(uow, repos, booking, session)
            await uow.commit()
            closed += 1
    return closed


# reads ----------------------------------------------------------------------------------
async def get_booking(uow: UnitOfWork, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    view = await _prepared_view(uow, principal.tenant_id, booking_id)
    if view is None:
        raise NotFoundError.of("booking")
    _ensure_sees(principal, view.booking)
    return view


async def waitlist(
    uow: UnitOfWork, principal: Principal, session_id: uuid.UUID
) -> list[BookingView]:
    """A session's waitlist in queue order, with positions (for staff)."""
    repos = repositories(uow, principal.tenant_id)
    session = await repos.sessions.require(session_id)
    waiting = await repos.bookings.waiting(session_id)
    return [BookingView.of(b, session, n) for n, b in enumerate(waiting, start=1)]


async def list_bookings(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    status: str | None,
    when: Literal["upcoming", "past"] | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    include_household: bool = False,
) -> list[BookingView]:
    """Upcoming (soonest first) and past (latest first) per customer, or any filter;
    ``customer_id`` as the caller may see (``Principal.customer_scope``). With
    ``include_household``, a payer's list holds the bookings of the members it pays for
    (and any it paid for)."""
    if include_household and customer_id is None:
        raise RuleBroken("customer_id", "required with include_household")
    rows = await repositories(uow, principal.tenant_id).bookings.page(
        household=include_household,
        customer_id=customer_id,
        session_id=session_id,
        status=status,
        when=when,
        at=tz.now(),
        after=after,
        limit=limit,
    )
    return [BookingView.of_row(row) for row in rows]


async def next_booking(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID | None
) -> BookingView | None:
    """The customer's next session (None when nothing is coming up)."""
    if customer_id is None:
        raise RuleBroken("customer_id", "required")
    rows = await repositories(uow, principal.tenant_id).bookings.page(
        customer_id=customer_id, when="upcoming", at=tz.now(), limit=1, waiting=False
    )
    return BookingView.of_row(rows[0]) if rows else None


# after confirmation -------------------------------------------------------------------
async def cancel_booking(
    uow: UnitOfWork,
    principal: Principal,
    booking_id: uuid.UUID,
    *,
    reason: str | None,
    default_policy: CancellationPolicy,
) -> BookingView:
    """Free until the policy's hours before the start (refund); later forfeits (late). A
    waiting booking leaves the waitlist (nothing was paid). The freed seats go to the
    waitlist."""
    repos = repositories(uow, principal.tenant_id)
    booking, session = await _locked(repos, principal, booking_id)
    if booking.waiting:
        booking.leave_waitlist(session, WAITLIST_WITHDRAWN, tz.now())
        await _store(uow, repos, booking, session)
        await uow.commit()
        return BookingView.of(booking, session)
    booking.ensure_may("cancel")
    booking.cancel(
        session,
        policy=await tenant_policy(repos, default_policy),
        now=tz.now(),
        by="customer" if principal.is_customer else "staff",
        reason=reason,
    )
    await _store(uow, repos, booking, session)
    await promote(uow, repos, session)
    await uow.commit()
    return BookingView.of(booking, session)


async def reschedule_booking(
    uow: UnitOfWork,
    principal: Principal,
    booking_id: uuid.UUID,
    *,
    session_id: uuid.UUID,
    default_policy: CancellationPolicy,
) -> BookingView:
    """Move a confirmed booking to another session of the same price, within the free
    cancellation window (owners and admins may move it later)."""
    repos = repositories(uow, principal.tenant_id)
    booking, old = await _locked(repos, principal, booking_id)
    booking.ensure_may_move_to(session_id)
    new = await repos.sessions.get(session_id, for_update=True)
    if new is None:
        raise RuleBroken("session_id", "no such session")
    booking.reschedule(
        old,
        new,
        policy=await tenant_policy(repos, default_policy),
        now=tz.now(),
        late_allowed=principal.is_admin,
    )
    await repos.sessions.save_seats(new)
    await _store(uow, repos, booking, old)
    await promote(uow, repos, old)
    await uow.commit()
    return BookingView.of(booking, new)


async def _settle(
    uow: UnitOfWork,
    principal: Principal,
    booking_id: uuid.UUID,
    step: Callable[[Booking, Session], None],
) -> BookingView:
    repos = repositories(uow, principal.tenant_id)
    booking, session = await _locked(repos, principal, booking_id)
    step(booking, session)
    await _store(uow, repos, booking, session)
    await uow.commit()
    return BookingView.of(booking, session)


async def check_in(uow: UnitOfWork, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    """The customer came: the booking is attended."""
    return await _settle(uow, principal, booking_id, lambda b, s: b.check_in(s, tz.now()))


async def mark_no_show(uow: UnitOfWork, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    """The customer did not come: the credit or price is kept."""
    return await _settle(uow, principal, booking_id, lambda b, s: b.no_show(s))


# the tenant's policy --------------------------------------------------------------------
async def get_policy(
    uow: UnitOfWork, principal: Principal, default: CancellationPolicy
) -> tuple[CancellationPolicy, bool]:
    """The tenant's cancellation policy, and whether the tenant set it (else the default)."""
    hours = await repositories(uow, principal.tenant_id).policies.free_cancel_hours()
    return (default, False) if hours is None else (CancellationPolicy(hours), True)


async def set_policy(uow: UnitOfWork, principal: Principal, policy: CancellationPolicy) -> None:
    await repositories(uow, principal.tenant_id).policies.set_free_cancel_hours(
        policy.free_cancel_hours
    )
    await uow.commit()
