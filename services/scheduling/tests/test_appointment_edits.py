"""PATCH /v1/appointments/{id}: If-Match, overlaps, working hours, and BookingRescheduled."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def _day(days: int = 7) -> str:
    """A Monday at least ``days`` from now (working hours are set per weekday)."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return str(day + timedelta(days=(7 - day.weekday()) % 7))


async def _make(studio, starts_at, **extra):
    body = {
        "location_id": studio.location["id"],
        "staff_id": studio.trainer["id"],
        "room_id": studio.room["id"],
        "customer_id": str(uuid.uuid4()),
        "title": "Personal training",
        "starts_at": starts_at,
        "duration_minutes": 60,
        **extra,
    }
    r = await studio.client.post("/v1/appointments", json=body, headers=studio.admin)
    assert r.status_code == 201, r.text
    return r.json()


async def _patch(studio, appointment, body, etag=None, headers=None):
    h = dict(headers or studio.admin)
    if etag is not None:
        h["If-Match"] = etag
    return await studio.client.patch(f"/v1/appointments/{appointment['id']}", json=body, headers=h)


async def _get(studio, appointment):
    r = await studio.client.get(f"/v1/appointments/{appointment['id']}", headers=studio.admin)
    assert r.status_code == 200
    return r


async def test_moving_a_confirmed_appointment_honours_if_match_and_publishes(studio):
    day = _day()
    appt = await _make(studio, f"{day}T10:00", status="confirmed", price_minor=4500)
    r = await _get(studio, appt)
    assert r.headers["ETag"] == '"1"'
    r = await _patch(studio, appt, {"starts_at": f"{day}T15:30", "duration_minutes": 45}, '"1"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    body = r.json()
    assert body["local_starts_at"].startswith(f"{day}T15:30:00")
    start = datetime.fromisoformat(body["starts_at"])
    assert datetime.fromisoformat(body["ends_at"]) - start == timedelta(minutes=45)
    (event,) = await studio.published("scheduling.booking.rescheduled.v1")
    assert event["session_kind"] == "appointment" and event["booking_id"] == appt["id"]
    assert datetime.fromisoformat(event["starts_at"]) == start
    assert datetime.fromisoformat(event["previous_starts_at"]) == datetime.fromisoformat(
        appt["starts_at"]
    )
    assert event["_version"] == 2
    assert event["payment"]["price_minor"] == 4500
    # a stale ETag: 412, nothing changes
    r = await _patch(studio, appt, {"starts_at": f"{day}T08:00"}, '"1"')
    assert r.status_code == 412 and r.headers["ETag"] == '"2"'
    assert r.headers["content-type"] == "application/problem+json"
    assert (await _get(studio, appt)).json()["starts_at"] == body["starts_at"]
    # notes only: no event; the duration is kept when only the start moves
    r = await _patch(studio, appt, {"notes": "knee"}, '"2"')
    assert r.status_code == 200 and r.json()["notes"] == "knee"
    r = await _patch(studio, appt, {"notes": None, "starts_at": f"{day}T16:00"})
    assert r.status_code == 200 and r.json()["notes"] is None
    moved = r.json()
    assert datetime.fromisoformat(moved["ends_at"]) - datetime.fromisoformat(
        moved["starts_at"]
    ) == timedelta(minutes=45)
    assert len(await studio.published("scheduling.booking.rescheduled.v1")) == 2


async def test_a_draft_moves_without_an_event(studio):
    appt = await _make(studio, f"{_day()}T10:00")
    r = await _patch(studio, appt, {"starts_at": f"{_day()}T11:00"})
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert not await studio.published("scheduling.booking.rescheduled.v1")


async def test_overlaps_answer_409_naming_the_field_and_change_nothing(studio):
    day = _day()
    first = await _make(studio, f"{day}T10:00")
    second = await _make(studio, f"{day}T12:00", room_id=None)
    r = await _patch(studio, second, {"starts_at": f"{day}T10:30"})
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "staff_id"
    other = (
        await studio.client.post(
            "/v1/staff",
            json={"name": "Sam", "location_id": studio.location["id"]},
            headers=studio.admin,
        )
    ).json()
    third = await _make(studio, f"{day}T10:30", staff_id=other["id"], room_id=None)
    r = await _patch(studio, third, {"room_id": studio.room["id"]})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "room_id"
    r = await _patch(studio, third, {"staff_id": studio.trainer["id"]})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "staff_id"
    for appt in (second, third):
        assert (await _get(studio, appt)).json()["version"] == 1
    # once the first is cancelled, its slot is free
    r = await studio.client.post(f"/v1/appointments/{first['id']}/cancel", headers=studio.admin)
    assert r.status_code == 200
    r = await _patch(
        studio, third, {"staff_id": studio.trainer["id"], "room_id": studio.room["id"]}
    )
    assert r.status_code == 200, r.text


async def test_working_hours_of_the_new_staff_member_and_time_are_checked(studio):
    day = _day()
    r = await studio.client.post(
        "/v1/staff",
        json={
            "name": "Mo",
            "working_hours": [{"weekday": "mon", "start": "09:00", "end": "13:00"}],
        },
        headers=studio.admin,
    )
    mornings = r.json()
    appt = await _make(studio, f"{day}T15:00", room_id=None)
    r = await _patch(studio, appt, {"staff_id": mornings["id"]})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "starts_at"
    r = await _patch(studio, appt, {"staff_id": mornings["id"], "starts_at": f"{day}T12:00"})
    assert r.status_code == 200, r.text
    r = await _patch(studio, appt, {"duration_minutes": 90})  # would end at 13:30
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "starts_at"
    assert (await _get(studio, appt)).json()["version"] == 2


async def test_only_draft_or_confirmed_appointments_can_be_edited(studio):
    appt = await _make(studio, f"{_day()}T10:00", status="confirmed")
    r = await studio.client.post(f"/v1/appointments/{appt['id']}/complete", headers=studio.admin)
    assert r.status_code == 200
    r = await _patch(studio, appt, {"notes": "late"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    cancelled = await _make(studio, f"{_day()}T12:00")
    await studio.client.post(f"/v1/appointments/{cancelled['id']}/cancel", headers=studio.admin)
    r = await _patch(studio, cancelled, {"starts_at": f"{_day()}T13:00"})
    assert r.status_code == 409


async def test_bad_appointment_edits_name_the_field(studio, tokens):
    appt = await _make(studio, f"{_day()}T10:00")
    far = (
        await studio.client.post(
            "/v1/locations", json={"name": "Far", "timezone": "UTC"}, headers=studio.admin
        )
    ).json()
    far_room = (
        await studio.client.post(
            "/v1/rooms", json={"location_id": far["id"], "name": "R"}, headers=studio.admin
        )
    ).json()
    cases = [
        ({"staff_id": None}, "staff_id"),
        ({"staff_id": str(uuid.uuid4())}, "staff_id"),
        ({"room_id": str(uuid.uuid4())}, "room_id"),
        ({"room_id": far_room["id"]}, "room_id"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"starts_at": "0001-01-01T10:00"}, "starts_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"notes": "x" * 2001}, "notes"),
        ({"status": "confirmed"}, "status"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
    ]
    for body, field in cases:
        r = await _patch(studio, appt, body)
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert any(field in e["field"] for e in r.json()["errors"]), (body, r.text)
    assert (await _get(studio, appt)).json()["version"] == 1
    r = await _patch(studio, appt, {"notes": "x"}, headers=tokens.headers("customer"))
    assert r.status_code == 403
    r = await _patch(
        studio, appt, {"notes": "x"}, headers=tokens.headers("admin", tenant_id=uuid.uuid4())
    )
    assert r.status_code == 404
