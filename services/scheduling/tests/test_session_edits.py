"""PATCH /v1/sessions/{id}: If-Match, the rules of an edit, and what it publishes."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from frontdesk.contracts.credits import DebitSucceeded
from frontdesk.scheduling.adapters.tables import sessions

from .helpers import BERLIN, next_transition

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}
CREDITS = {"method": "credits", "credits": 2}


async def _patch(studio, session, body, etag=None):
    headers = dict(studio.admin)
    if etag is not None:
        headers["If-Match"] = etag
    return await studio.client.patch(f"/v1/sessions/{session['id']}", json=body, headers=headers)


async def _row(runtime, session_id):
    async with runtime.engine.connect() as conn:
        return (
            (await conn.execute(select(sessions).where(sessions.c.id == uuid.UUID(session_id))))
            .mappings()
            .one()
        )


async def test_get_gives_the_etag_and_patch_honours_if_match(studio, runtime):
    session = await studio.session(payment=PAY)
    r = await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    r = await _patch(studio, session, {"title": " Hatha ", "description": "Slow"}, '"1"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    assert r.json()["title"] == "Hatha" and r.json()["description"] == "Slow"
    assert r.json()["version"] == 2
    # a stale ETag: 412 with the current one, nothing changed, nothing published
    r = await _patch(studio, session, {"title": "Other"}, '"1"')
    assert r.status_code == 412 and r.headers["ETag"] == '"2"'
    assert r.headers["content-type"] == "application/problem+json"
    assert (await _row(runtime, session["id"]))["title"] == "Hatha"
    (changed,) = await studio.published("scheduling.session.changed.v1")
    assert changed["changed"] == ["description", "title"] and changed["previous_starts_at"] is None
    assert changed["_version"] == 2
    # without If-Match the edit applies (like the other services); "*" matches any
    r = await _patch(studio, session, {"description": None}, "*")
    assert r.status_code == 200 and r.json()["description"] is None
    # an edit that changes nothing keeps the version and publishes nothing
    r = await _patch(studio, session, {"title": "Hatha"})
    assert r.status_code == 200 and r.headers["ETag"] == '"3"'
    assert len(await studio.published("scheduling.session.changed.v1")) == 2
    assert not await studio.published("scheduling.booking.rescheduled.v1")


async def test_moving_a_session_reschedules_its_confirmed_bookings(studio, runtime):
    day = (datetime.now(UTC) + timedelta(days=5)).date()
    session = await studio.session(starts_at=f"{day}T09:00", payment=PAY, capacity=5)
    alice, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a = await studio.book(session, alice, expect=(201,))
    b = await studio.book(session, bob, expect=(201,), seats=0)  # a reminder only
    # a new price applies to later bookings only
    r = await _patch(studio, session, {"payment": CREDITS})
    assert r.status_code == 200 and r.json()["payment"]["credits"] == 2
    c = await studio.book(session, carol, expect=(202,))
    assert c["status"] == "pending" and c["payment"]["credits"] == 2
    assert (await studio.booking(a["id"]))["payment"]["price_minor"] == 1500

    new_day = day + timedelta(days=1)
    r = await _patch(studio, session, {"starts_at": f"{new_day}T18:00"}, '"2"')
    assert r.status_code == 200, r.text
    moved = r.json()
    expected = datetime(new_day.year, new_day.month, new_day.day, 18, tzinfo=BERLIN)
    assert datetime.fromisoformat(moved["starts_at"]) == expected
    assert datetime.fromisoformat(moved["ends_at"]) == expected + timedelta(minutes=60)
    assert moved["local_starts_at"].startswith(f"{new_day}T18:00:00")

    rescheduled = await studio.published("scheduling.booking.rescheduled.v1")
    assert sorted(e["booking_id"] for e in rescheduled) == sorted([a["id"], b["id"]])
    for event in rescheduled:
        assert datetime.fromisoformat(event["starts_at"]) == expected
        assert datetime.fromisoformat(event["previous_starts_at"]) == datetime.fromisoformat(
            session["starts_at"]
        )
        assert event["timezone"] == "Europe/Berlin"
        assert event["_version"] == 3  # requested 1, confirmed 2, rescheduled 3
    assert (await studio.booking(a["id"]))["version"] == 3
    (changed,) = [
        e
        for e in await studio.published("scheduling.session.changed.v1")
        if e["previous_starts_at"]
    ]
    assert changed["changed"] == ["starts_at"]
    assert sorted(changed["booking_ids"]) == sorted([a["id"], b["id"], c["id"]])

    # the customer's next session follows
    r = await studio.client.get(f"/v1/bookings/next?customer_id={alice}", headers=studio.admin)
    assert datetime.fromisoformat(r.json()["starts_at"]) == expected
    # the pending booking is decided with the new time (the saga locks the session)
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(c["id"]), customer_id=carol, credits=2), carol
    )
    await studio.wait_status(c["id"], "confirmed")
    (confirmed,) = [
        e
        for e in await studio.published("scheduling.booking.confirmed.v1")
        if e["customer_id"] == str(carol)
    ]
    assert datetime.fromisoformat(confirmed["starts_at"]) == expected

    # a longer class: the end moves, so bookings are told again
    r = await _patch(studio, session, {"duration_minutes": 90})
    assert r.status_code == 200
    assert datetime.fromisoformat(r.json()["ends_at"]) == expected + timedelta(minutes=90)
    assert len(await studio.published("scheduling.booking.rescheduled.v1")) == 5
    last = (await studio.published("scheduling.session.changed.v1"))[-1]
    assert last["changed"] == ["duration_minutes"]


async def test_an_18_00_class_moved_across_a_dst_change_stays_at_18_00(studio):
    today = datetime.now(UTC).date()
    change = next_transition(today + timedelta(days=3))
    before, after = change - timedelta(days=1), change + timedelta(days=1)
    session = await studio.session(starts_at=f"{before}T18:00", payment=PAY)
    r = await _patch(studio, session, {"starts_at": f"{after}T18:00"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["local_starts_at"].startswith(f"{after}T18:00:00")
    assert body["local_ends_at"].startswith(f"{after}T19:00:00")
    offset_before = datetime.fromisoformat(session["local_starts_at"]).utcoffset()
    offset_after = datetime.fromisoformat(body["local_starts_at"]).utcoffset()
    assert offset_before != offset_after


async def test_capacity_never_goes_below_the_seats_taken(studio, runtime):
    session = await studio.session(payment=PAY, capacity=4)
    await studio.book(session, expect=(201,), seats=2)
    r = await _patch(studio, session, {"capacity": 1})
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "capacity"
    assert (await _row(runtime, session["id"]))["capacity"] == 4
    r = await _patch(studio, session, {"capacity": 2})
    assert r.status_code == 200 and r.json()["seats_free"] == 0
    await studio.book(session, expect=(409,))


async def test_cancelled_or_started_sessions_cannot_be_edited(studio):
    session = await studio.session(payment=PAY)
    r = await studio.client.post(
        f"/v1/sessions/{session['id']}/cancel", json={}, headers=studio.admin
    )
    assert r.status_code == 200
    r = await _patch(studio, session, {"title": "Back"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    started = await studio.session(starts_at=datetime.now(UTC) - timedelta(minutes=10), payment=PAY)
    r = await _patch(studio, started, {"starts_at": "2031-01-01T10:00"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "starts_at"


async def test_staff_and_room_changes_publish_a_session_change_only(studio):
    session = await studio.session(payment=PAY)
    await studio.book(session, expect=(201,))
    r = await studio.client.post(
        "/v1/rooms",
        json={"location_id": studio.location["id"], "name": "Studio 2"},
        headers=studio.admin,
    )
    room = r.json()
    r = await _patch(studio, session, {"room_id": room["id"], "staff_id": None})
    assert r.status_code == 200, r.text
    assert r.json()["room_id"] == room["id"] and r.json()["staff_id"] is None
    (changed,) = await studio.published("scheduling.session.changed.v1")
    assert changed["changed"] == ["room_id", "staff_id"]
    assert changed["room_id"] == room["id"] and len(changed["booking_ids"]) == 1
    assert not await studio.published("scheduling.booking.rescheduled.v1")


async def test_bad_edits_name_the_field_and_change_nothing(studio, runtime, tokens):
    session = await studio.session(payment=PAY)
    await studio.book(session, expect=(201,))
    other_location = (
        await studio.client.post(
            "/v1/locations", json={"name": "Far", "timezone": "UTC"}, headers=studio.admin
        )
    ).json()
    far_room = (
        await studio.client.post(
            "/v1/rooms",
            json={"location_id": other_location["id"], "name": "Far room"},
            headers=studio.admin,
        )
    ).json()
    spring = next_transition(datetime.now(UTC).date() + timedelta(days=3))
    skipped = datetime.combine(spring, datetime.min.time()).replace(hour=2, minute=30)
    cases = [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2020-01-01T10:00"}, "starts_at"),
        ({"starts_at": "9999-12-31T23:59"}, "starts_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"staff_id": str(uuid.uuid4())}, "staff_id"),
        ({"room_id": str(uuid.uuid4())}, "room_id"),
        ({"room_id": far_room["id"]}, "room_id"),
        ({"payment": {"method": "credits"}}, "payment"),
        ({"payment": None}, "payment"),
        ({"kind": "event"}, "kind"),
        ({"location_id": other_location["id"]}, "location_id"),
    ]
    if spring.month in (3, 4):  # the clocks skip 02:00-03:00 in spring only
        cases.append(({"starts_at": skipped.isoformat()}, "starts_at"))
    before = await _row(runtime, session["id"])
    for body, field in cases:
        r = await _patch(studio, session, body)
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", (body, r.text)
        fields = [e["field"] for e in r.json().get("errors", [])]
        assert any(f.startswith(field) or field in f for f in fields), (body, fields)
    assert await _row(runtime, session["id"]) == before
    assert not await studio.published("scheduling.session.changed.v1")
    # who may edit: admins only; another tenant's session is not there
    r = await studio.client.patch(
        f"/v1/sessions/{session['id']}", json={"title": "X"}, headers=tokens.headers("staff")
    )
    assert r.status_code == 403
    r = await studio.client.patch(
        f"/v1/sessions/{session['id']}",
        json={"title": "X"},
        headers=tokens.headers("admin", tenant_id=uuid.uuid4()),
    )
    assert r.status_code == 404
    r = await studio.client.patch(
        f"/v1/sessions/{uuid.uuid4()}", json={"title": "X"}, headers=studio.admin
    )
    assert r.status_code == 404
    assert await _row(runtime, session["id"]) == before


async def test_no_booking_slips_into_a_session_cancelled_meanwhile(studio):
    session = await studio.session(payment=PAY, capacity=100)

    async def book():
        return await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
            headers=studio.admin,
        )

    async def cancel():
        await asyncio.sleep(0.01)
        return await studio.client.post(
            f"/v1/sessions/{session['id']}/cancel", json={}, headers=studio.admin
        )

    *answers, cancelled = await asyncio.gather(*(book() for _ in range(60)), cancel())
    assert cancelled.status_code == 200
    assert {r.status_code for r in answers} <= {201, 409}
    r = await studio.client.get(
        f"/v1/bookings?session_id={session['id']}&limit=200", headers=studio.admin
    )
    statuses = {b["status"] for b in r.json()["items"]}
    assert statuses <= {"cancelled"}, statuses
    r = await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)
    assert r.json()["seats_taken"] == 0


async def test_classes_keep_to_the_trainers_working_hours(studio):
    c, h = studio.client, studio.admin
    r = await c.patch(
        f"/v1/staff/{studio.trainer['id']}",
        json={"working_hours": [{"weekday": "mon", "start": "09:00", "end": "17:00"}]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    # 2031-05-05 is a Monday (Berlin)
    morning = await studio.session(starts_at="2031-05-05T10:00")
    r = await c.post(
        "/v1/sessions",
        json={
            "title": "Late flow",
            "location_id": studio.location["id"],
            "staff_id": studio.trainer["id"],
            "starts_at": "2031-05-05T16:30",
            "duration_minutes": 60,
            "capacity": 5,
            "payment": {"method": "free"},
        },
        headers=h,
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "starts_at"
    moved = await c.patch(
        f"/v1/sessions/{morning['id']}", json={"starts_at": "2031-05-05T18:00"}, headers=h
    )
    assert moved.status_code == 409 and moved.json()["errors"][0]["field"] == "starts_at"
    unchanged = (await c.get(f"/v1/sessions/{morning['id']}", headers=h)).json()
    assert unchanged["starts_at"] == morning["starts_at"]
    # a trainer without set hours is always available
    other = (await c.post("/v1/staff", json={"name": "Lee"}, headers=h)).json()
    r = await c.patch(
        f"/v1/sessions/{morning['id']}",
        json={"starts_at": "2031-05-05T18:00", "staff_id": other["id"]},
        headers=h,
    )
    assert r.status_code == 200, r.text
