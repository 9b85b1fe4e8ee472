import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select, update

from frontdesk.contracts.credits import DebitRejected, DebitSucceeded
from frontdesk.contracts.customers import CustomerStatusChanged, GuestResolved
from frontdesk.kit.auth import Permission
from frontdesk.kit.testing import lock_awaited, wait_for
from frontdesk.scheduling.adapters.tables import bookings, customer_states, sessions
from frontdesk.scheduling.application.bookings import expire_pending

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}
FREE = {"method": "free"}


async def seats_taken(runtime, session_id):
    async with runtime.engine.connect() as conn:
        return (
            await conn.execute(
                select(sessions.c.seats_taken).where(sessions.c.id == uuid.UUID(session_id))
            )
        ).scalar_one()


async def test_capacity_is_never_exceeded_under_200_concurrent_requests(studio, runtime):
    session = await studio.session(capacity=20, payment=PAY)

    async def attempt():
        return await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
            headers=studio.admin,
        )

    answers = await asyncio.gather(*(attempt() for _ in range(200)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 20, codes
    assert codes.count(409) == 180
    full = next(r for r in answers if r.status_code == 409)
    assert full.headers["content-type"] == "application/problem+json"
    assert full.json()["errors"][0]["field"] == "seats"
    assert await seats_taken(runtime, session["id"]) == 20
    async with runtime.engine.connect() as conn:
        active = (
            await conn.execute(
                select(func.count())
                .select_from(bookings)
                .where(
                    bookings.c.session_id == uuid.UUID(session["id"]),
                    bookings.c.status == "confirmed",
                )
            )
        ).scalar_one()
    assert active == 20


async def test_pay_per_session_confirms_at_once_with_the_price(studio):
    session = await studio.session(payment=PAY)
    customer = uuid.uuid4()
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(customer), "seats": 2},
        headers=studio.admin,
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "confirmed"
    assert booking["payment"] == {
        "method": "pay_per_session",
        "credits": 0,
        "price_minor": 3000,
        "currency": "EUR",
    }
    confirmed = await studio.published("scheduling.booking.confirmed.v1")
    assert confirmed[0]["payment"]["price_minor"] == 3000
    assert confirmed[0]["customer_id"] == str(customer)
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[0]["booking_id"] == booking["id"]
    assert (requested[0]["session_kind"], requested[0]["session_type"]) == ("class", "class")


async def test_booking_events_say_when_the_session_is_an_event(studio):
    gala = await studio.session(payment=PAY, kind="event", title="Summer gala")
    await studio.book(gala, expect=(201,))
    (confirmed,) = await studio.published("scheduling.booking.confirmed.v1")
    # v1 consumers read session_kind (which cannot say "event"); session_type can
    assert (confirmed["session_kind"], confirmed["session_type"]) == ("class", "event")


async def test_one_booking_per_customer_per_session(studio, runtime):
    session = await studio.session(payment=FREE)
    customer = uuid.uuid4()
    first = await studio.book(session, customer, expect=(201,))
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(customer)},
        headers=studio.admin,
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "customer_id"
    assert await seats_taken(runtime, session["id"]) == 1  # the second seat was given back
    # after cancelling, the customer may book again
    r = await studio.client.post(f"/v1/bookings/{first['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200
    await studio.book(session, customer, expect=(201,))


async def test_zero_seats_is_a_reminder_that_takes_no_capacity(studio, runtime):
    session = await studio.session(capacity=1, payment={"method": "credits", "credits": 2})
    reminder = await studio.book(session, seats=0, expect=(201,))
    assert reminder["reminder_only"] and reminder["status"] == "confirmed"
    assert reminder["payment"]["method"] == "free"
    assert await seats_taken(runtime, session["id"]) == 0
    pending = await studio.book(session, expect=(202,))
    assert pending["status"] == "pending"
    assert pending["payment"]["credits"] == 2
    await studio.book(session, expect=(409,))


async def test_saga_confirms_on_debit_succeeded(studio, runtime):
    session = await studio.session(payment={"method": "credits", "credits": 1})
    customer = uuid.uuid4()
    booking = await studio.book(session, customer, expect=(202,))
    assert booking["status"] == "pending"
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[0]["payment"] == {
        "method": "credits",
        "credits": 1,
        "price_minor": 0,
        "currency": "EUR",
    }
    assert requested[0]["guest"] is None
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(booking["id"]), customer_id=customer, credits=1),
        customer,
    )
    done = await studio.wait_status(booking["id"], "confirmed")
    assert done["version"] == 2
    assert len(await studio.published("scheduling.booking.confirmed.v1")) == 1
    assert await seats_taken(runtime, session["id"]) == 1


async def test_saga_rejects_on_debit_rejected_and_frees_the_seat(studio, runtime):
    session = await studio.session(capacity=1)
    customer = uuid.uuid4()
    booking = await studio.book(session, customer, expect=(202,))
    assert await seats_taken(runtime, session["id"]) == 1
    await studio.publish(
        DebitRejected(
            booking_id=uuid.UUID(booking["id"]),
            customer_id=customer,
            credits=1,
            reason="insufficient_credits",
        ),
        customer,
    )
    done = await studio.wait_status(booking["id"], "rejected")
    assert done["reason"] == "insufficient_credits"
    assert await seats_taken(runtime, session["id"]) == 0
    rejected = await studio.published("scheduling.booking.rejected.v1")
    assert rejected[0]["reason"] == "insufficient_credits"
    # a late, duplicate success changes nothing (credits refunds it from our rejection)
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(booking["id"]), customer_id=customer, credits=1),
        customer,
    )
    await asyncio.sleep(0.5)
    assert (await studio.booking(booking["id"]))["status"] == "rejected"
    assert await seats_taken(runtime, session["id"]) == 0


async def test_saga_timeout_rejects_pending_bookings(studio, runtime):
    session = await studio.session(capacity=1)
    booking = await studio.book(session, expect=(202,))
    timeout = runtime.settings.saga_timeout_seconds
    assert await expire_pending(runtime.uow, timeout=timeout) == 0  # not yet: the timeout is 30 s
    assert await expire_pending(runtime.uow, timeout=0) == 1
    done = await studio.booking(booking["id"])
    assert done["status"] == "rejected" and done["reason"] == "timeout"
    assert await seats_taken(runtime, session["id"]) == 0


async def test_saga_timeout_waits_while_the_payment_step_still_answers(studio, runtime):
    """A long queue is not a lost payment step: while credits answers other bookings, a
    booking pending past the timeout keeps its seat; once credits is silent for the whole
    timeout, it is rejected."""
    session = await studio.session(capacity=5)
    waiting = await studio.book(session, expect=(202,))
    await asyncio.sleep(1.6)
    customer = uuid.uuid4()
    answered = await studio.book(session, customer, expect=(202,))
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(answered["id"]), customer_id=customer, credits=1),
        customer,
    )
    await studio.wait_status(answered["id"], "confirmed")
    assert await expire_pending(runtime.uow, timeout=1.5) == 0
    assert (await studio.booking(waiting["id"]))["status"] == "pending"
    await asyncio.sleep(1.6)  # now credits has said nothing for the whole timeout
    assert await expire_pending(runtime.uow, timeout=1.5) == 1
    done = await studio.booking(waiting["id"])
    assert done["status"] == "rejected" and done["reason"] == "timeout"


async def test_prefer_wait_answers_201_once_decided(studio):
    session = await studio.session()
    customer = uuid.uuid4()

    async def debit_soon():
        booking_id = await wait_for(lambda: _pending_id(studio, session["id"]))
        await studio.publish(
            DebitSucceeded(booking_id=booking_id, customer_id=customer, credits=1), customer
        )

    task = asyncio.create_task(debit_soon())
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(customer)},
        headers={**studio.admin, "Prefer": "wait=10"},  # the most; answered once decided
    )
    await task
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "confirmed"
    assert r.headers["preference-applied"] == "wait=10"
    # nothing comes: after the wait it is still 202 and pending
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers={**studio.admin, "Prefer": "wait=0.3"},
    )
    assert r.status_code == 202 and r.json()["status"] == "pending"


async def _pending_id(studio, session_id):
    async with studio.runtime.engine.connect() as conn:
        return (
            await conn.execute(
                select(bookings.c.id).where(
                    bookings.c.session_id == uuid.UUID(session_id), bookings.c.status == "pending"
                )
            )
        ).scalar()


async def test_guest_booking_waits_for_the_customer_and_is_linked(studio):
    session = await studio.session(payment=PAY)
    guest = {"first_name": "Grace", "last_name": "Hopper", "email": "Grace@Example.com"}
    booking = await studio.book(session, guest=guest, expect=(202,))
    assert booking["customer_id"] is None and booking["status"] == "pending"
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[0]["guest"]["email"] == "grace@example.com"
    customer = uuid.uuid4()
    await studio.publish(
        GuestResolved(booking_id=uuid.UUID(booking["id"]), customer_id=customer, created=True),
        customer,
    )
    done = await studio.wait_status(booking["id"], "confirmed")
    assert done["customer_id"] == str(customer)
    linked = await studio.published("scheduling.booking.customer_linked.v1")
    assert linked[0]["customer_id"] == str(customer)
    confirmed = await studio.published("scheduling.booking.confirmed.v1")
    assert confirmed[0]["customer_id"] == str(customer)
    assert confirmed[0]["payment"]["price_minor"] == 1500


async def test_same_guest_twice_on_one_session_is_refused(studio):
    session = await studio.session(payment=PAY)
    guest = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}
    await studio.book(session, guest=guest, expect=(202,))
    r = await studio.client.post(
        "/v1/bookings", json={"session_id": session["id"], "guest": guest}, headers=studio.admin
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "guest.email"


async def _customer_state(runtime, customer_id):
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(customer_states.c.status, customer_states.c.version).where(
                    customer_states.c.customer_id == customer_id
                )
            )
        ).first()
    return tuple(row) if row else None


async def test_blocked_customers_cannot_book(studio, runtime):
    session = await studio.session(payment=FREE)
    customer = uuid.uuid4()
    await studio.publish(
        CustomerStatusChanged(customer_id=customer, old_status="active", new_status="blocked"),
        customer,
        version=3,
    )
    await wait_for(lambda: _customer_state(runtime, customer))
    body = {"session_id": session["id"], "customer_id": str(customer)}
    r = await studio.client.post("/v1/bookings", json=body, headers=studio.admin)
    assert r.status_code == 409 and r.json()["title"] == "Customer blocked"
    # a stale event (older version) does not unblock; a newer one does
    await studio.publish(
        CustomerStatusChanged(customer_id=customer, old_status="blocked", new_status="active"),
        customer,
        version=2,
    )
    await studio.publish(
        CustomerStatusChanged(customer_id=customer, old_status="blocked", new_status="vip"),
        customer,
        version=4,
    )

    async def vip():
        return await _customer_state(runtime, customer) == ("vip", 4)

    await wait_for(vip)
    r = await studio.client.post("/v1/bookings", json=body, headers=studio.admin)
    assert r.status_code == 201, r.text


async def _confirmed(studio, starts_at, payment=None):
    session = await studio.session(starts_at=starts_at, payment=payment or PAY)
    return session, await studio.book(session, expect=(201,))


async def test_timely_cancel_refunds_and_late_cancel_forfeits(studio, runtime):
    soon = datetime.now(UTC) + timedelta(hours=5)
    later = datetime.now(UTC) + timedelta(days=3)
    s1, timely = await _confirmed(studio, later)
    s2, late = await _confirmed(studio, soon)
    r = await studio.client.post(
        f"/v1/bookings/{timely['id']}/cancel", json={"reason": "ill"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["refund"] is True and r.json()["late"] is False
    r = await studio.client.post(f"/v1/bookings/{late['id']}/cancel", headers=studio.admin)
    assert r.json()["refund"] is False and r.json()["late"] is True
    cancelled = await studio.published("scheduling.booking.cancelled.v1")
    assert [(c["refund"], c["late"]) for c in cancelled] == [(True, False), (False, True)]
    assert await seats_taken(runtime, s1["id"]) == 0
    assert await seats_taken(runtime, s2["id"]) == 0
    # the tenant's own policy: free until 2 hours before
    r = await studio.client.put(
        "/v1/booking-policy", json={"free_cancel_hours": 2}, headers=studio.admin
    )
    assert r.status_code == 200
    _, other = await _confirmed(studio, soon + timedelta(hours=1))  # s2's room: back to back
    r = await studio.client.post(f"/v1/bookings/{other['id']}/cancel", headers=studio.admin)
    assert r.json()["refund"] is True
    # cancelling twice is not a legal move
    r = await studio.client.post(f"/v1/bookings/{other['id']}/cancel", headers=studio.admin)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"


async def test_reschedule_moves_the_seat(studio, runtime):
    s1, booking = await _confirmed(studio, datetime.now(UTC) + timedelta(days=3))
    s2 = await studio.session(starts_at=datetime.now(UTC) + timedelta(days=4), payment=PAY)
    r = await studio.client.post(
        f"/v1/bookings/{booking['id']}/reschedule",
        json={"session_id": s2["id"]},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["session_id"] == s2["id"]
    assert await seats_taken(runtime, s1["id"]) == 0
    assert await seats_taken(runtime, s2["id"]) == 1
    moved = await studio.published("scheduling.booking.rescheduled.v1")
    assert moved[0]["session_id"] == s2["id"]
    assert moved[0]["previous_starts_at"].startswith(s1["starts_at"][:16])
    s3 = await studio.session(payment={"method": "credits", "credits": 1})
    r = await studio.client.post(
        f"/v1/bookings/{booking['id']}/reschedule",
        json={"session_id": s3["id"]},
        headers=studio.admin,
    )
    assert r.status_code == 409


async def test_a_step_on_a_booking_moved_meanwhile_is_refused_not_applied_to_its_old_session(
    studio, runtime
):
    """A step finds the booking's session, locks it, then locks the booking: a move
    committed in between makes it answer 409 (try again), never free the old session's
    seat or cancel the booking there."""
    s1, booking = await _confirmed(studio, datetime.now(UTC) + timedelta(days=3))
    s2 = await studio.session(starts_at=datetime.now(UTC) + timedelta(days=4), payment=PAY)
    booking_id, s2_id = uuid.UUID(booking["id"]), uuid.UUID(s2["id"])

    async with runtime.engine.connect() as mover:
        await mover.execute(
            select(bookings.c.id).where(bookings.c.id == booking_id).with_for_update()
        )
        cancel = asyncio.create_task(
            studio.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=studio.admin)
        )
        await wait_for(
            lambda: lock_awaited(runtime.engine)
        )  # the cancel holds s1 and waits for the booking
        await mover.execute(
            update(bookings).where(bookings.c.id == booking_id).values(session_id=s2_id)
        )
        await mover.execute(update(sessions).where(sessions.c.id == s2_id).values(seats_taken=1))
        await mover.commit()
    answer = await cancel
    assert answer.status_code == 409, answer.text
    assert "moved" in answer.json()["detail"]
    assert await seats_taken(runtime, s1["id"]) == 1  # the move left it: not freed by the cancel
    r = await studio.client.get(f"/v1/bookings/{booking['id']}", headers=studio.admin)
    assert (r.json()["status"], r.json()["session_id"]) == ("confirmed", s2["id"])
    r = await studio.client.post(f"/v1/bookings/{booking['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200, r.text  # tried again: cancelled on the session it is on
    assert await seats_taken(runtime, s2["id"]) == 0


async def test_check_in_and_no_show_are_legal_only_from_confirmed(studio):
    session = await studio.session(payment=PAY)
    a = await studio.book(session, expect=(201,))
    b = await studio.book(session, expect=(201,))
    r = await studio.client.post(f"/v1/bookings/{a['id']}/check-in", headers=studio.admin)
    assert r.status_code == 200 and r.json()["status"] == "attended"
    assert r.json()["checked_in_at"] is not None
    r = await studio.client.post(f"/v1/bookings/{b['id']}/no-show", headers=studio.admin)
    assert r.status_code == 200 and r.json()["status"] == "no_show"
    for booking_id, action in ((a["id"], "no-show"), (b["id"], "check-in"), (a["id"], "cancel")):
        r = await studio.client.post(f"/v1/bookings/{booking_id}/{action}", headers=studio.admin)
        assert r.status_code == 409, (action, r.text)
        assert r.json()["errors"][0]["field"] == "status"
    assert len(await studio.published("scheduling.booking.attended.v1")) == 1
    assert len(await studio.published("scheduling.booking.no_show.v1")) == 1


async def test_upcoming_past_and_next_per_customer(studio):
    customer = uuid.uuid4()
    sessions_ = [
        await studio.session(starts_at=datetime.now(UTC) + timedelta(days=d), payment=PAY)
        for d in (5, 2, 9)
    ]
    made = [await studio.book(s, customer, expect=(201,)) for s in sessions_]
    r = await studio.client.post(f"/v1/bookings/{made[2]['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200
    upcoming = (
        await studio.client.get(
            f"/v1/bookings?customer_id={customer}&when=upcoming", headers=studio.admin
        )
    ).json()["items"]
    assert [b["id"] for b in upcoming] == [made[1]["id"], made[0]["id"]]
    past = (
        await studio.client.get(
            f"/v1/bookings?customer_id={customer}&when=past", headers=studio.admin
        )
    ).json()["items"]
    assert [b["id"] for b in past] == [made[2]["id"]]
    nxt = (
        await studio.client.get(f"/v1/bookings/next?customer_id={customer}", headers=studio.admin)
    ).json()
    assert nxt["id"] == made[1]["id"] and nxt["title"] == "Yoga"
    page = (
        await studio.client.get(
            f"/v1/bookings?customer_id={customer}&limit=2", headers=studio.admin
        )
    ).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await studio.client.get(
            f"/v1/bookings?customer_id={customer}&limit=2&cursor={page['next_cursor']}",
            headers=studio.admin,
        )
    ).json()
    assert [b["id"] for b in page["items"] + rest["items"]] == [
        made[1]["id"],
        made[0]["id"],
        made[2]["id"],
    ]
    bad = await studio.client.get("/v1/bookings?cursor=zzz", headers=studio.admin)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


async def test_studio_cancels_a_class_and_every_attendee_is_refunded(studio, runtime):
    session = await studio.session(payment=PAY, capacity=5)
    confirmed = [await studio.book(session, expect=(201,)) for _ in range(3)]
    r = await studio.client.post(
        f"/v1/sessions/{session['id']}/cancel", json={"reason": "trainer ill"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["seats_taken"] == 0
    cancelled = await studio.published("scheduling.booking.cancelled.v1")
    assert sorted(c["booking_id"] for c in cancelled) == sorted(b["id"] for b in confirmed)
    assert all(c["refund"] and c["cancelled_by"] == "studio" for c in cancelled)
    (event,) = await studio.published("scheduling.session.cancelled.v1")
    assert sorted(event["booking_ids"]) == sorted(b["id"] for b in confirmed)
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=studio.admin,
    )
    assert r.status_code == 409


async def test_bad_input_names_the_field_and_changes_nothing(studio, runtime):
    session = await studio.session()
    cases = [
        ({"session_id": session["id"]}, "customer_id"),
        ({"session_id": session["id"], "customer_id": str(uuid.uuid4()), "seats": -1}, "seats"),
        ({"session_id": "nope", "customer_id": str(uuid.uuid4())}, "session_id"),
        ({"session_id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4())}, "session_id"),
        (
            {
                "session_id": session["id"],
                "guest": {"first_name": "A", "last_name": "B", "email": "not-an-email"},
            },
            "guest.email",
        ),
        (
            {
                "session_id": session["id"],
                "guest": {
                    "first_name": "A",
                    "last_name": "B",
                    "email": "a@example.com",
                    "phone": "12",
                },
            },
            "guest.phone",
        ),
    ]
    for body, field in cases:
        r = await studio.client.post("/v1/bookings", json=body, headers=studio.admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    assert await seats_taken(runtime, session["id"]) == 0


async def test_permissions_and_tenancy(studio, tokens):
    session = await studio.session(payment=FREE)
    staff = tokens.headers("staff")
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=staff,
    )
    assert r.status_code == 403
    allowed = tokens.headers("staff", Permission.add_participants)
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=allowed,
    )
    assert r.status_code == 201
    me = uuid.uuid4()
    mine = tokens.headers("customer", sub=me)
    r = await studio.client.post("/v1/bookings", json={"session_id": session["id"]}, headers=mine)
    assert r.status_code == 201 and r.json()["customer_id"] == str(me)
    own = r.json()
    other = (await studio.client.get("/v1/bookings", headers=mine)).json()["items"]
    assert [b["id"] for b in other] == [own["id"]]
    stranger = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (
        await studio.client.get(f"/v1/bookings/{own['id']}", headers=stranger)
    ).status_code == 404
    assert (
        await studio.client.get(f"/v1/sessions/{session['id']}", headers=stranger)
    ).status_code == 404
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=stranger,
    )
    assert r.status_code == 422  # another tenant's session does not exist for them


async def test_customers_read_the_booking_policy_but_cannot_set_it(studio, tokens):
    mine = tokens.headers("customer", sub=uuid.uuid4())
    r = await studio.client.get("/v1/booking-policy", headers=mine)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "default"
    r = await studio.client.put(
        "/v1/booking-policy", json={"free_cancel_hours": 6}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    r = await studio.client.get("/v1/booking-policy", headers=mine)
    assert r.json() == {"free_cancel_hours": 6, "source": "tenant"}
    r = await studio.client.put("/v1/booking-policy", json={"free_cancel_hours": 0}, headers=mine)
    assert r.status_code == 403
    stranger = tokens.headers("customer", sub=uuid.uuid4(), tenant_id=uuid.uuid4())
    r = await studio.client.get("/v1/booking-policy", headers=stranger)
    assert r.json()["source"] == "default"  # another tenant's policy is not theirs


async def test_erasure_scrubs_guest_contact_and_blocks_booking(studio):
    from frontdesk.contracts.customers import CustomerErased

    session = await studio.session(payment=PAY)
    guest = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "+447911123456",
    }
    booking = await studio.book(session, guest=guest, notes="knee", expect=(202,))
    customer = uuid.uuid4()
    await studio.publish(
        GuestResolved(booking_id=uuid.UUID(booking["id"]), customer_id=customer, created=True),
        customer,
    )
    await studio.wait_status(booking["id"], "confirmed")
    await studio.publish(CustomerErased(customer_id=customer), customer, version=9)

    async def scrubbed():
        b = await studio.booking(booking["id"])
        return b if b["guest"] is None and b["notes"] is None else None

    b = await wait_for(scrubbed)
    assert b["status"] == "confirmed" and b["payment"]["price_minor"] == 1500
    other = await studio.session(payment=PAY)
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": other["id"], "customer_id": str(customer)},
        headers=studio.admin,
    )
    assert r.status_code == 409


async def test_prefer_wait_listens_instead_of_polling_the_database(studio):
    """A request waiting 2 s for a decision that never comes reads the database a few
    times at most (the request itself and one read after it listens), not every 50 ms."""
    session = await studio.session()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = studio.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = asyncio.get_running_loop().time()
        r = await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
            headers={**studio.admin, "Prefer": "wait=2"},
        )
        waited = asyncio.get_running_loop().time() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert waited >= 2
    reads_of_the_booking = [s for s in statements if "FROM bookings" in s]
    assert len(reads_of_the_booking) <= 3, reads_of_the_booking  # polling would make ~40


async def test_a_rush_past_the_payment_step_is_refused_with_retry_after(studio, runtime):
    # Bookings awaiting their debit pile up (credits is not answering here): beyond the
    # backlog limit a new booking is refused before it takes a seat, and admitted again
    # once the payment step caught up.
    limit = runtime.settings.saga_backlog_limit
    runtime.settings.saga_backlog_limit = 3
    try:
        session = await studio.session(capacity=10)
        waiting = [uuid.uuid4() for _ in range(3)]
        booked = [await studio.book(session, customer, expect=(202,)) for customer in waiting]
        await asyncio.sleep(0.6)  # the process counts the backlog at most twice a second
        refused = await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
            headers=studio.admin,
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "1"
        assert "awaiting payment" in refused.json()["detail"]
        assert await seats_taken(runtime, session["id"]) == 3  # it took nothing
        await studio.publish(
            DebitSucceeded(
                booking_id=uuid.UUID(booked[0]["id"]), customer_id=waiting[0], credits=1
            ),
            waiting[0],
        )
        await studio.wait_status(booked[0]["id"], "confirmed")
        await asyncio.sleep(0.6)
        await studio.book(session, expect=(202,))
        assert await seats_taken(runtime, session["id"]) == 4
    finally:
        runtime.settings.saga_backlog_limit = limit
