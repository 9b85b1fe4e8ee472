"""scheduling's booking events through the real broker: confirmations, reminders at the
local wall-clock time, reschedules, cancellations, stale and repeated events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingCustomerLinked,
    BookingPromoted,
    BookingRejected,
    BookingRescheduled,
    BookingWaitlisted,
    BookingWaitlistLeft,
    SessionCancelled,
)
from frontdesk.notifications.application import bookings

from .conftest import address, in_days, phone, send, settled

BERLIN = ZoneInfo("Europe/Berlin")


def kinds(found, status="queued"):
    return sorted((m["kind"], m["channel"]) for m in found if m["status"] == status)


def due_local(found, kind):
    return {
        m["due_at"].astimezone(BERLIN)
        for m in found
        if m["kind"] == kind and m["status"] == "queued"
    }


async def test_reminders_are_queued_at_the_same_local_time_and_none_whose_time_passed(world):
    customer = await world.customer(sms=phone(), email=address())
    start = in_days(12, hour=18)
    await world.tell(world.booking(customer, start), uuid.uuid4(), version=2)
    found = await world.messages()
    assert kinds(found) == [
        ("booking_confirmed", "email"),
        ("booking_confirmed", "sms"),
        ("reminder_24h", "email"),
        ("reminder_24h", "sms"),
        ("reminder_7d", "email"),
        ("reminder_7d", "sms"),
    ]
    for kind, days in (("reminder_24h", 1), ("reminder_7d", 7)):
        [due] = due_local(found, kind)
        assert (due.hour, due.minute) == (18, 0)
        assert due.date() == start.date() - timedelta(days=days)
    late = world.booking(customer, in_days(3))  # 7-day reminder time already past
    await world.tell(late, uuid.uuid4(), version=2)
    found = await world.messages(booking_id=late.booking_id)
    assert {m["kind"] for m in found} == {"booking_confirmed", "reminder_24h"}


async def test_a_class_across_a_2027_clock_change_is_reminded_at_18_00_berlin(world):
    customer = await world.customer(sms=phone())
    for day in (datetime(2027, 3, 29), datetime(2027, 11, 1)):
        start = day.replace(hour=18, tzinfo=BERLIN)
        event = world.booking(customer, start)
        await world.tell(event, uuid.uuid4(), version=2)
        found = await world.messages(booking_id=event.booking_id)
        for kind in ("reminder_24h", "reminder_7d"):
            assert {(d.hour, d.minute) for d in due_local(found, kind)} == {(18, 0)}


async def test_rescheduled_replaces_the_reminders_and_tells_the_customer(world):
    customer = await world.customer(sms=phone(), email=address())
    booking_id = uuid.uuid4()
    first = in_days(12, hour=18)
    await world.tell(world.booking(customer, first, booking_id=booking_id), booking_id, 2)
    moved = in_days(20, hour=9)
    await world.tell(
        world.booking(
            customer, moved, booking_id=booking_id, cls=BookingRescheduled, previous_starts_at=first
        ),
        booking_id,
        3,
    )
    found = await world.messages(booking_id=booking_id)
    cancelled = [m for m in found if m["status"] == "cancelled"]
    assert len(cancelled) == 4 and {m["kind"] for m in cancelled} == {"reminder_24h", "reminder_7d"}
    assert {(d.hour, d.date()) for d in due_local(found, "reminder_24h")} == {
        (9, moved.date() - timedelta(days=1))
    }
    assert ("booking_rescheduled", "sms") in kinds(found)
    # Sent, the words name the new time and the old one.
    done = await settled(
        world,
        lambda ms: not any(m["status"] == "queued" and m["kind"].startswith("booking") for m in ms),
    )
    [sms] = [m for m in done if (m["kind"], m["channel"]) == ("booking_rescheduled", "sms")]
    assert "9:00 AM" in sms["body"] and "was" in sms["body"] and "6:00 PM" in sms["body"]


async def test_cancelled_drops_every_queued_message_and_no_reminder_is_ever_sent(world, fakes):
    number = phone()
    customer = await world.customer(sms=number)
    booking_id = uuid.uuid4()
    start = datetime.now(UTC) + timedelta(days=1, seconds=3)  # 24 h reminder due in 3 s
    await world.tell(world.booking(customer, start, booking_id=booking_id), booking_id, 2)
    await world.tell(
        world.booking(
            customer, start, booking_id=booking_id, cls=BookingCancelled, refund=True,
            cancelled_by="customer",
        ),
        booking_id,
        3,
    )  # fmt: skip
    await asyncio.sleep(3.5)
    await send(world.runtime)
    found = await world.messages(booking_id=booking_id)
    statuses = {(m["kind"], m["channel"]): m["status"] for m in found}
    assert statuses[("reminder_24h", "sms")] == "cancelled"
    assert statuses[("booking_confirmed", "sms")] == "cancelled"
    assert statuses[("booking_cancelled", "sms")] in ("sent", "delivered")
    bodies = [r["body"] for r in fakes.requests(number)]
    assert len(bodies) == 1 and "is cancelled" in bodies[0]


async def test_a_due_reminder_is_sent_at_its_time(world, fakes):
    number = phone()
    customer = await world.customer(sms=number)
    start = datetime.now(UTC) + timedelta(days=1, seconds=2)
    event = world.booking(customer, start, seats=0)  # a reminder only: no confirmation
    await world.tell(event, uuid.uuid4(), version=2)
    assert kinds(await world.messages()) == [("reminder_24h", "email"), ("reminder_24h", "sms")]
    await send(world.runtime)
    assert fakes.requests(number) == []
    await asyncio.sleep(2.2)
    found = await settled(world, lambda ms: all(m["status"] != "queued" for m in ms))
    [body] = [r["body"] for r in fakes.requests(number)]
    assert body.startswith("Hi Ada, see you tomorrow: Yoga on")
    statuses = {m["channel"]: m["status"] for m in found}
    assert statuses["email"] == "skipped"  # the customer has no email address


async def test_older_and_repeated_events_change_nothing(world):
    customer = await world.customer(sms=phone())
    booking_id = uuid.uuid4()
    start = in_days(12)
    confirmed = world.booking(customer, start, booking_id=booking_id)
    cancel = world.booking(
        customer, start, booking_id=booking_id, cls=BookingCancelled, refund=True
    )
    await world.tell(cancel, booking_id, 3)  # the cancellation overtook the confirmation
    await world.tell(confirmed, booking_id, 2)
    assert await world.messages(booking_id=booking_id) == []
    other = uuid.uuid4()
    event = world.booking(customer, start, booking_id=other)
    await world.tell(event, other, 2)
    await world.tell(event, other, 2)  # redelivered under a new message id
    assert len(await world.messages(booking_id=other)) == 6


async def test_a_class_cancelled_by_the_studio_says_sorry_and_its_reminders_go(world):
    customer = await world.customer(sms=phone())
    booking_id = uuid.uuid4()
    start = in_days(12)
    event = world.booking(customer, start, booking_id=booking_id)
    await world.tell(event, booking_id, 2)
    await world.tell(
        SessionCancelled(
            session_id=event.session_id, title="Yoga", starts_at=start, booking_ids=[booking_id]
        ),
        event.session_id,
    )
    assert {
        m["status"] for m in await world.messages(booking_id=booking_id) if "reminder" in m["kind"]
    } == {"cancelled"}
    await world.tell(
        world.booking(
            customer, start, booking_id=booking_id, cls=BookingCancelled, refund=True,
            cancelled_by="studio",
        ),
        booking_id,
        3,
    )  # fmt: skip
    found = await settled(world, lambda ms: not any(m["status"] == "queued" for m in ms))
    [sms] = [m for m in found if (m["kind"], m["channel"]) == ("booking_cancelled", "sms")]
    assert "we're sorry" in sms["body"]


async def test_a_booking_the_saga_gave_up_on_is_told_once_and_other_rejections_are_not(
    world, fakes
):
    customer = await world.customer(sms=phone(), email=address())
    start = in_days(5)
    timed_out = world.booking(customer, start, cls=BookingRejected, reason="timeout")
    await world.tell(timed_out, timed_out.booking_id, 2)
    await world.tell(timed_out, timed_out.booking_id, 2)  # redelivered: told once
    refused = world.booking(customer, start, cls=BookingRejected, reason="insufficient_credits")
    await world.tell(refused, refused.booking_id, 2)
    assert await world.messages(booking_id=refused.booking_id) == []
    found = await settled(world, lambda ms: ms and not any(m["status"] == "queued" for m in ms))
    assert {m["booking_id"] for m in found} == {timed_out.booking_id}
    assert sorted((m["kind"], m["channel"]) for m in found) == [
        ("booking_not_made", "email"),
        ("booking_not_made", "sms"),
    ]
    assert {m["status"] for m in found} <= {"sent", "delivered"}
    [sms] = [m for m in found if m["channel"] == "sms"]
    assert "could not confirm your booking for Yoga" in sms["body"]


async def test_a_guests_booking_is_linked_to_its_customer(world):
    number = phone()
    booking_id = uuid.uuid4()
    start = in_days(12)
    await world.tell(world.booking(None, start, booking_id=booking_id), booking_id, 2)
    customer = await world.customer(sms=number)
    await world.tell(
        world.booking(customer, start, booking_id=booking_id, cls=BookingCustomerLinked),
        booking_id,
        3,
    )
    found = await world.messages(booking_id=booking_id)
    assert {m["customer_id"] for m in found} == {customer}
    done = await settled(
        world,
        lambda ms: all(m["status"] != "queued" for m in ms if m["kind"] == "booking_confirmed"),
    )
    sms = [m for m in done if (m["kind"], m["channel"]) == ("booking_confirmed", "sms")]
    assert sms[0]["recipient"] == number


async def test_handlers_are_idempotent_by_business_key(world, runtime):
    """The same confirmation handled twice (as after a redelivery under a new id) plans
    the messages once."""
    from frontdesk.contracts import Envelope

    customer = await world.customer(sms=phone())
    event = world.booking(customer, in_days(12))
    envelope = Envelope.wrap(
        event, tenant_id=world.tenant_id, aggregate_id=event.booking_id, aggregate_version=2
    )
    for _ in range(2):
        async with runtime.uow() as uow:
            await bookings.booking_confirmed(uow, envelope, event)
    assert len(await world.messages(booking_id=event.booking_id)) == 6


def _told(found: list, booking_id: uuid.UUID) -> list[tuple[str, str]]:
    return sorted((m["kind"], m["channel"]) for m in found if m["booking_id"] == booking_id)


async def test_the_waitlist_tells_the_place_the_freed_seat_and_a_seat_that_never_came(world, fakes):
    customer = await world.customer(sms=phone(), email=address())
    start = in_days(3)

    def done(ms: list) -> bool:
        return bool(ms) and not any(
            m["status"] == "queued" and m["kind"] != "reminder_24h" for m in ms
        )

    # Waiting at place 2, then a seat frees and the promotion is paid: two messages
    # (its place, then that a seat opened up), no plain confirmation.
    lucky = world.booking(customer, start, cls=BookingWaitlisted, position=2)
    await world.tell(lucky, lucky.booking_id, 1)
    await world.tell(lucky, lucky.booking_id, 1)  # redelivered: told once
    await settled(world, done)
    promoted = world.booking(customer, start, booking_id=lucky.booking_id, cls=BookingPromoted)
    await world.tell(promoted, lucky.booking_id, 2)
    confirmed = world.booking(customer, start, booking_id=lucky.booking_id)
    await world.tell(confirmed, lucky.booking_id, 4)
    found = await settled(world, done)
    assert [k for k in _told(found, lucky.booking_id) if k[0] != "reminder_24h"] == [
        ("waitlist_joined", "email"),
        ("waitlist_joined", "sms"),
        ("waitlist_promoted", "email"),
        ("waitlist_promoted", "sms"),
    ]
    sms = {m["kind"]: m["body"] for m in found if m["channel"] == "sms"}
    assert "number 2 on the waitlist" in sms["waitlist_joined"]
    assert "a seat opened up: you're booked for Yoga" in sms["waitlist_promoted"]

    # The class began with no seat freed: told so; a customer who withdrew is not told.
    unlucky = world.booking(customer, start, cls=BookingWaitlisted, position=3)
    await world.tell(unlucky, unlucky.booking_id, 1)
    await settled(world, done)
    closed = world.booking(
        customer, start, booking_id=unlucky.booking_id, cls=BookingWaitlistLeft,
        reason="session_started",
    )  # fmt: skip
    await world.tell(closed, unlucky.booking_id, 2)
    withdrew = world.booking(customer, start, cls=BookingWaitlistLeft, reason="left")
    await world.tell(withdrew, withdrew.booking_id, 2)
    found = await settled(world, done)
    assert _told(found, unlucky.booking_id) == [
        ("waitlist_closed", "email"),
        ("waitlist_closed", "sms"),
        ("waitlist_joined", "email"),
        ("waitlist_joined", "sms"),
    ]
    assert _told(found, withdrew.booking_id) == []
    # A place told after the booking got its seat is not sent (it would mislead).
    late = world.booking(customer, start, cls=BookingWaitlisted, position=1)
    await world.tell(late, late.booking_id, 1)
    await world.tell(world.booking(customer, start, booking_id=late.booking_id), late.booking_id, 4)
    found = await settled(world, done)
    joined = [
        m for m in found if m["booking_id"] == late.booking_id and m["kind"] == "waitlist_joined"
    ]
    assert {m["status"] for m in joined} == {"skipped"}
    [closed_sms] = [
        m for m in found
        if m["booking_id"] == unlucky.booking_id and m["kind"] == "waitlist_closed"
        and m["channel"] == "sms"
    ]  # fmt: skip
    assert "no seat freed up for Yoga" in closed_sms["body"]


async def test_a_promotion_that_cannot_be_paid_is_told_as_not_made(world, fakes):
    customer = await world.customer(sms=phone())
    start = in_days(3)
    waiting = world.booking(customer, start, cls=BookingWaitlisted, position=1)
    await world.tell(waiting, waiting.booking_id, 1)
    promoted = world.booking(customer, start, booking_id=waiting.booking_id, cls=BookingPromoted)
    await world.tell(promoted, waiting.booking_id, 2)
    refused = world.booking(
        customer, start, booking_id=waiting.booking_id, cls=BookingRejected,
        reason="insufficient_credits",
    )  # fmt: skip
    await world.tell(refused, waiting.booking_id, 4)
    found = await settled(world, lambda ms: ms and not any(m["status"] == "queued" for m in ms))
    assert _told(found, waiting.booking_id) == [
        ("booking_not_made", "email"),
        ("booking_not_made", "sms"),
        ("waitlist_joined", "email"),
        ("waitlist_joined", "sms"),
    ]
