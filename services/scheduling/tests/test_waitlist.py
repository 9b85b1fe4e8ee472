"""S9: a full class keeps a waitlist; a freed seat promotes the first waiting customer
through the same saga (credits debited then), a failed promotion moves on."""

import asyncio
import uuid

from sqlalchemy import select

from frontdesk.contracts.credits import DebitRejected, DebitSucceeded
from frontdesk.contracts.customers import CustomerStatusChanged
from frontdesk.kit.testing import wait_for
from frontdesk.scheduling.adapters.tables import sessions

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}


async def seats_taken(runtime, session_id):
    async with runtime.engine.connect() as conn:
        return (
            await conn.execute(
                select(sessions.c.seats_taken).where(sessions.c.id == uuid.UUID(session_id))
            )
        ).scalar_one()


async def wait_in_line(studio, session, customer=None, **extra):
    r = await studio.client.post(
        "/v1/bookings",
        json={
            "session_id": session["id"],
            "customer_id": str(customer or uuid.uuid4()),
            "waitlist": True,
            **extra,
        },
        headers=studio.admin,
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "waitlisted"
    return r.json()


async def test_a_full_class_offers_the_waitlist_and_shows_each_place(studio):
    session = await studio.session(capacity=1, payment=PAY)
    await studio.book(session)
    refused = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=studio.admin,
    )
    assert refused.status_code == 409
    assert "waitlist: true" in refused.json()["detail"]

    first = await wait_in_line(studio, session)
    second = await wait_in_line(studio, session)
    assert (first["waitlist_position"], second["waitlist_position"]) == (1, 2)
    assert (await studio.booking(second["id"]))["waitlist_position"] == 2
    r = await studio.client.get(f"/v1/sessions/{session['id']}/waitlist", headers=studio.admin)
    assert [(b["id"], b["waitlist_position"]) for b in r.json()] == [
        (first["id"], 1),
        (second["id"], 2),
    ]
    # The session keeps its one seat; nothing was asked of credits for the waiting ones.
    assert (await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)).json()[
        "seats_taken"
    ] == 1
    requested = {e["booking_id"] for e in await studio.published("scheduling.booking.requested.v1")}
    assert first["id"] not in requested and second["id"] not in requested
    waitlisted = await studio.published("scheduling.booking.waitlisted.v1")
    assert [(e["booking_id"], e["position"]) for e in waitlisted] == [
        (first["id"], 1),
        (second["id"], 2),
    ]
    assert waitlisted[0]["staff_id"] == studio.trainer["id"]
    # A customer cannot hold a seat and a place on the waitlist of one class.
    again = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": first["customer_id"], "waitlist": True},
        headers=studio.admin,
    )
    assert again.status_code == 409
    # The customer's own list shows the place in line; staff see it, customers too.
    mine = await studio.client.get(
        "/v1/bookings",
        params={"customer_id": second["customer_id"], "when": "upcoming"},
        headers=studio.admin,
    )
    assert [b["waitlist_position"] for b in mine.json()["items"]] == [2]


async def test_a_cancelled_seat_goes_to_the_first_waiting_customer(studio, runtime):
    session = await studio.session(capacity=1, payment=PAY)
    seated = await studio.book(session)
    first = await wait_in_line(studio, session)
    second = await wait_in_line(studio, session)
    r = await studio.client.post(f"/v1/bookings/{seated['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200, r.text
    promoted = await studio.booking(first["id"])
    assert promoted["status"] == "confirmed"  # pay per session confirms at once
    assert promoted["waitlist_position"] is None
    assert (await studio.booking(second["id"]))["waitlist_position"] == 1
    assert await seats_taken(runtime, session["id"]) == 1
    told = await studio.published("scheduling.booking.promoted.v1")
    assert [e["booking_id"] for e in told] == [first["id"]]
    confirmed = await studio.published("scheduling.booking.confirmed.v1")
    assert first["id"] in {e["booking_id"] for e in confirmed}


async def test_a_promotion_is_debited_and_a_rejected_one_moves_to_the_next(studio, runtime):
    session = await studio.session(capacity=1)  # paid by credits
    seated = await studio.book(session)
    poor, rich = uuid.uuid4(), uuid.uuid4()
    first = await wait_in_line(studio, session, poor)
    second = await wait_in_line(studio, session, rich)
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(seated["id"]), customer_id=uuid.uuid4(), credits=1),
        uuid.uuid4(),
    )
    await studio.wait_status(seated["id"], "confirmed")
    r = await studio.client.post(f"/v1/bookings/{seated['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200, r.text
    # The first in line took the seat and is requested: credits debits it now.
    assert (await studio.booking(first["id"]))["status"] == "pending"
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[-1]["booking_id"] == first["id"]
    assert requested[-1]["payment"]["credits"] == 1
    await studio.publish(
        DebitRejected(
            booking_id=uuid.UUID(first["id"]),
            customer_id=poor,
            credits=1,
            reason="insufficient_credits",
        ),
        poor,
    )
    await studio.wait_status(first["id"], "rejected")
    # ... so the seat went on to the next one, requested in turn.
    assert (await studio.booking(second["id"]))["status"] == "pending"
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[-1]["booking_id"] == second["id"]
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(second["id"]), customer_id=rich, credits=1), rich
    )
    await studio.wait_status(second["id"], "confirmed")
    assert await seats_taken(runtime, session["id"]) == 1
    promoted = [e["booking_id"] for e in await studio.published("scheduling.booking.promoted.v1")]
    assert promoted == [first["id"], second["id"]]


async def test_two_seats_freed_at_once_promote_two_different_customers(studio, runtime):
    session = await studio.session(capacity=2, payment=PAY)
    seated = [await studio.book(session) for _ in range(2)]
    waiting = [await wait_in_line(studio, session) for _ in range(3)]

    answers = await asyncio.gather(
        *(
            studio.client.post(f"/v1/bookings/{b['id']}/cancel", headers=studio.admin)
            for b in seated
        )
    )
    assert [a.status_code for a in answers] == [200, 200]
    states = [(await studio.booking(b["id"]))["status"] for b in waiting]
    assert states == ["confirmed", "confirmed", "waitlisted"]
    assert (await studio.booking(waiting[2]["id"]))["waitlist_position"] == 1
    assert await seats_taken(runtime, session["id"]) == 2


async def test_a_larger_capacity_promotes_and_a_bigger_party_keeps_its_place(studio, runtime):
    session = await studio.session(capacity=2, payment=PAY)
    await studio.book(session)
    await studio.book(session)
    party = await wait_in_line(studio, session, seats=2)
    single = await wait_in_line(studio, session)
    r = await studio.client.patch(
        f"/v1/sessions/{session['id']}", json={"capacity": 3}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    # One seat freed: the party of two does not fit and keeps its place; the single goes.
    assert (await studio.booking(party["id"]))["waitlist_position"] == 1
    assert (await studio.booking(single["id"]))["status"] == "confirmed"
    r = await studio.client.patch(
        f"/v1/sessions/{session['id']}", json={"capacity": 5}, headers=studio.admin
    )
    assert (await studio.booking(party["id"]))["status"] == "confirmed"
    assert await seats_taken(runtime, session["id"]) == 5


async def test_leaving_the_waitlist_and_a_cancelled_class_tell_the_waiting(studio):
    session = await studio.session(capacity=1, payment=PAY)
    await studio.book(session)
    leaving = await wait_in_line(studio, session)
    staying = await wait_in_line(studio, session)
    r = await studio.client.post(f"/v1/bookings/{leaving['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"], r.json()["refund"]) == (
        "cancelled",
        "left_waitlist",
        None,
    )
    assert (await studio.booking(staying["id"]))["waitlist_position"] == 1
    r = await studio.client.post(
        f"/v1/sessions/{session['id']}/cancel", json={"reason": "Flood"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    assert (await studio.booking(staying["id"]))["status"] == "rejected"
    left = await studio.published("scheduling.booking.waitlist_left.v1")
    assert [(e["booking_id"], e["reason"]) for e in left] == [
        (leaving["id"], "left_waitlist"),
        (staying["id"], "session_cancelled"),
    ]
    # Nothing was ever paid by the waiting: no cancellation with a refund for them.
    cancelled = {e["booking_id"] for e in await studio.published("scheduling.booking.cancelled.v1")}
    assert not cancelled & {leaving["id"], staying["id"]}


async def test_a_blocked_customer_is_passed_over(studio):
    session = await studio.session(capacity=1, payment=PAY)
    seated = await studio.book(session)
    blocked, next_one = uuid.uuid4(), uuid.uuid4()
    first = await wait_in_line(studio, session, blocked)
    second = await wait_in_line(studio, session, next_one)
    await studio.publish(
        CustomerStatusChanged(customer_id=blocked, old_status="active", new_status="blocked"),
        blocked,
        version=2,
    )

    async def known() -> bool | None:
        r = await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(blocked), "seats": 0},
            headers=studio.admin,
        )
        return True if r.status_code == 409 and "blocked" in r.text else None

    await wait_for(known, timeout=10)
    await studio.client.post(f"/v1/bookings/{seated['id']}/cancel", headers=studio.admin)
    assert (await studio.booking(first["id"]))["reason"] == "customer_blocked"
    assert (await studio.booking(second["id"]))["status"] == "confirmed"


async def test_bad_waitlist_requests_are_refused_naming_the_field(studio):
    session = await studio.session(capacity=1, payment=PAY)
    await studio.book(session)
    r = await studio.client.post(
        "/v1/bookings",
        json={
            "session_id": session["id"],
            "guest": {"first_name": "A", "last_name": "B", "email": "a@example.com"},
            "waitlist": True,
        },
        headers=studio.admin,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "waitlist"
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4()), "waitlist": "yes"},
        headers=studio.admin,
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    r = await studio.client.post(
        "/v1/bookings",
        json={
            "session_id": session["id"],
            "customer_id": str(uuid.uuid4()),
            "waitlist": True,
            "seats": 2,
        },
        headers=studio.admin,
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "seats"
    r = await studio.client.get(f"/v1/sessions/{session['id']}/waitlist", headers=studio.admin)
    assert r.json() == []


async def test_the_waitlist_closes_when_the_class_starts(studio, runtime):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from frontdesk.scheduling.application.bookings import close_waitlists

    session = await studio.session(capacity=1, payment=PAY)
    await studio.book(session)
    waiting = await wait_in_line(studio, session)
    async with runtime.engine.begin() as conn:  # the class began a minute ago
        start = datetime.now(UTC) - timedelta(minutes=1)
        await conn.execute(
            update(sessions)
            .where(sessions.c.id == uuid.UUID(session["id"]))
            .values(starts_at=start, ends_at=start + timedelta(hours=1))
        )
    assert await close_waitlists(runtime.uow) >= 1
    closed = await studio.booking(waiting["id"])
    assert (closed["status"], closed["reason"]) == ("rejected", "session_started")
    left = await studio.published("scheduling.booking.waitlist_left.v1")
    assert [e["reason"] for e in left] == ["session_started"]
