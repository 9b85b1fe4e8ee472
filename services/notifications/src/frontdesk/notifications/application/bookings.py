"""scheduling's booking and session events → the booking read model, and the messages
and reminders they cause, in the same transaction as the event's inbox row.

- confirmed: the confirmation (not for a reminder-only booking) and both reminders
  (those whose time has not passed);
- rescheduled: the queued reminders are cancelled and new ones made for the new time,
  and the customer is told;
- cancelled (by the customer, staff or the studio): every queued message of it is
  cancelled (so no reminder is ever sent for it), and the customer is told if they
  had been told it was booked;
- waitlisted: the customer is told their place; promoted: its confirmation says the seat
  came from the waitlist (and a promotion that could not be paid is told as not made);
  left the waitlist because the class began or was cancelled: the customer is told (not
  when they withdrew themselves);
- an event older than what is known (``aggregate_version``) changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from frontdesk.contracts import Envelope
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingFacts,
    BookingPromoted,
    BookingRejected,
    BookingRescheduled,
    BookingWaitlisted,
    BookingWaitlistLeft,
    SessionCancelled,
    SessionChanged,
)
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.application.common import Repositories, utcnow
from frontdesk.notifications.domain.bookings import Booking, Planned, booking_values, told
from frontdesk.notifications.domain.messages import REMINDERS, Message
from frontdesk.notifications.domain.tenants import booking_zone

F = TypeVar("F", bound=BookingFacts)


async def _zoned(repos: Repositories, facts: F) -> F:
    """The facts with the location's zone, else (not told) the tenant's."""
    zone = booking_zone(facts.timezone, await repos.tenant.get())
    return facts if zone == facts.timezone else facts.model_copy(update={"timezone": zone})


async def _booking(repos: Repositories, facts: BookingFacts) -> Booking:
    """The booking's row, locked (made from the event's facts, at version 0, if new)."""
    return await repos.bookings.ensure(facts.booking_id, booking_values(facts, 0, "pending"))


def _messages(booking: Booking, planned: Sequence[Planned]) -> list[Message]:
    return [
        Message.queue(
            tenant_id=booking.tenant_id,
            kind=p.kind,
            channel=p.channel,
            due_at=p.due_at,
            customer_id=booking.customer_id,
            booking_id=booking.id,
            dedupe_key=p.dedupe_key,
            context=p.context,
        )
        for p in planned
    ]


async def _cancel_queued(
    repos: Repositories, booking_id: uuid.UUID, reason: str, *, reminders_only: bool
) -> int:
    kinds = [k.value for k in REMINDERS] if reminders_only else None
    found = await repos.messages.queued_of_booking(booking_id, kinds)
    for message in found:
        if message.cancel(reason):
            await repos.messages.save(message)
    return len(found)


async def booking_confirmed(
    uow: UnitOfWork, envelope: Envelope, event: BookingConfirmed, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    promoted = booking.promoted
    if told(booking, event, envelope.aggregate_version, "confirmed", cancelled_by=None):
        await repos.bookings.save(booking)
        await _cancel_queued(repos, booking.id, "replaced", reminders_only=True)
        version = envelope.aggregate_version
        planned = booking.confirmation(now, promoted=promoted) + booking.reminders(now, version)
        await repos.messages.add_new(_messages(booking, planned))
    await uow.commit()


async def booking_rescheduled(
    uow: UnitOfWork, envelope: Envelope, event: BookingRescheduled, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    was_confirmed = booking.active
    changed = told(
        booking,
        event,
        envelope.aggregate_version,
        "confirmed",
        previous_starts_at=event.previous_starts_at,
    )
    if changed:
        await repos.bookings.save(booking)
        await _cancel_queued(repos, booking.id, "the booking moved", reminders_only=True)
        version = envelope.aggregate_version
        planned = booking.reminders(now, version)
        if was_confirmed:  # the customer knew the old time
            planned = booking.rescheduled(now, version) + planned
        else:
            planned = booking.confirmation(now) + planned
        await repos.messages.add_new(_messages(booking, planned))
    await uow.commit()


async def booking_cancelled(
    uow: UnitOfWork, envelope: Envelope, event: BookingCancelled, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    was_confirmed = booking.active
    if told(
        booking, event, envelope.aggregate_version, "cancelled", cancelled_by=event.cancelled_by
    ):
        await repos.bookings.save(booking)
        await _cancel_queued(repos, booking.id, "the booking was cancelled", reminders_only=False)
        if was_confirmed:
            await repos.messages.add_new(_messages(booking, booking.cancellation(now)))
    await uow.commit()


async def booking_ended(
    uow: UnitOfWork,
    envelope: Envelope,
    event: BookingFacts,
    status: str,
    *,
    now: datetime | None = None,
) -> None:
    """Rejected, attended, no-show: the booking is no longer upcoming; nothing queued for
    it is sent. A booking the saga gave up on (rejected for ``timeout``) is told."""
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    promoted = booking.promoted
    if told(booking, event, envelope.aggregate_version, status):
        await repos.bookings.save(booking)
        await _cancel_queued(repos, booking.id, f"the booking is {status}", reminders_only=False)
        # A promotion the customer could not pay for (no credits) ends their wait too.
        if isinstance(event, BookingRejected) and (event.reason == "timeout" or promoted):
            await repos.messages.add_new(_messages(booking, booking.not_made(now)))
    await uow.commit()


async def booking_waitlisted(
    uow: UnitOfWork, envelope: Envelope, event: BookingWaitlisted, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    if told(booking, event, envelope.aggregate_version, "waitlisted"):
        await repos.bookings.save(booking)
        await repos.messages.add_new(_messages(booking, booking.waitlisted(now, event.position)))
    await uow.commit()


async def booking_promoted(uow: UnitOfWork, envelope: Envelope, event: BookingPromoted) -> None:
    """A seat freed for it: remembered, so its confirmation says so (nothing is sent yet:
    the saga may still reject it)."""
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    if told(booking, event, envelope.aggregate_version, "promoted"):
        await repos.bookings.save(booking)
    await uow.commit()


async def waitlist_left(
    uow: UnitOfWork, envelope: Envelope, event: BookingWaitlistLeft, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    by_studio = "studio" if event.reason == "session_cancelled" else None
    if told(booking, event, envelope.aggregate_version, "waitlist_left", cancelled_by=by_studio):
        await repos.bookings.save(booking)
        await _cancel_queued(repos, booking.id, "off the waitlist", reminders_only=False)
        if event.reason in ("session_started", "session_cancelled"):
            await repos.messages.add_new(_messages(booking, booking.waitlist_closed(now)))
    await uow.commit()


async def customer_linked(
    uow: UnitOfWork, envelope: Envelope, event: BookingCustomerLinked
) -> None:
    """A guest's booking now has its customer: its messages are theirs (the state of the
    booking is what it was)."""
    repos = Repositories(uow, envelope.tenant_id)
    event = await _zoned(repos, event)
    booking = await _booking(repos, event)
    status = booking.status
    if told(booking, event, envelope.aggregate_version, status):
        await repos.bookings.save(booking)
    if event.customer_id is not None:
        await repos.messages.link_customer(booking.id, event.customer_id)
    await uow.commit()


async def session_changed(uow: UnitOfWork, envelope: Envelope, event: SessionChanged) -> None:
    """A new title reaches the messages not yet sent (a new time comes with each booking's
    own ``BookingRescheduled``)."""
    if "title" not in event.changed:
        return
    repos = Repositories(uow, envelope.tenant_id)
    for booking in await repos.bookings.of_session(event.session_id):
        if booking.title != event.title:
            booking.change(title=event.title)
            await repos.bookings.save(booking)
    await uow.commit()


async def session_cancelled(uow: UnitOfWork, envelope: Envelope, event: SessionCancelled) -> None:
    """The studio cancelled the class: no reminder of it goes out from now on (each
    booking's own ``BookingCancelled`` tells its customer)."""
    repos = Repositories(uow, envelope.tenant_id)
    for booking_id in event.booking_ids:
        await _cancel_queued(repos, booking_id, "the session was cancelled", reminders_only=True)
    await uow.commit()
