import asyncio
import uuid
from datetime import UTC, datetime, timedelta


def _body(studio, starts_at, **extra):
    return {
        "location_id": studio.location["id"],
        "staff_id": studio.trainer["id"],
        "room_id": studio.room["id"],
        "customer_id": str(uuid.uuid4()),
        "title": "Personal training",
        "starts_at": starts_at,
        "duration_minutes": 60,
        **extra,
    }


async def test_overlap_for_one_staff_member_or_room_answers_409(studio):
    c = studio.client
    r = await c.post(
        "/v1/appointments", json=_body(studio, "2031-05-05T10:00"), headers=studio.admin
    )
    assert r.status_code == 201, r.text
    assert r.json()["starts_at"].startswith("2031-05-05T08:00")  # CEST
    # same trainer, overlapping, other room
    other_room = (
        await c.post(
            "/v1/rooms",
            json={"location_id": studio.location["id"], "name": "Bay 2", "kind": "bay"},
            headers=studio.admin,
        )
    ).json()
    r = await c.post(
        "/v1/appointments",
        json=_body(studio, "2031-05-05T10:30", room_id=other_room["id"]),
        headers=studio.admin,
    )
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "staff_id"
    # same room, other trainer
    other = (await c.post("/v1/staff", json={"name": "Lee"}, headers=studio.admin)).json()
    r = await c.post(
        "/v1/appointments",
        json=_body(studio, "2031-05-05T10:59", staff_id=other["id"]),
        headers=studio.admin,
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "room_id"
    # back to back is fine
    r = await c.post(
        "/v1/appointments", json=_body(studio, "2031-05-05T11:00"), headers=studio.admin
    )
    assert r.status_code == 201


async def test_concurrent_overlapping_appointments_exactly_one_wins(studio):
    answers = await asyncio.gather(
        *(
            studio.client.post(
                "/v1/appointments",
                json=_body(studio, f"2031-06-02T09:{m:02d}"),
                headers=studio.admin,
            )
            for m in range(0, 50, 5)
        )
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 9, codes


async def test_cancelled_appointments_free_the_slot_and_transitions_are_checked(studio):
    c = studio.client
    first = (
        await c.post(
            "/v1/appointments", json=_body(studio, "2031-05-06T10:00"), headers=studio.admin
        )
    ).json()
    assert first["status"] == "draft"
    url = f"/v1/appointments/{first['id']}"
    r = await c.post(f"{url}/complete", headers=studio.admin)
    assert r.status_code == 409 and r.json()["title"] == "Illegal transition"
    assert (await c.post(f"{url}/confirm", headers=studio.admin)).json()["status"] == "confirmed"
    assert (await c.post(f"{url}/cancel", headers=studio.admin)).json()["status"] == "cancelled"
    for action in ("confirm", "complete", "no-show", "cancel"):
        assert (await c.post(f"{url}/{action}", headers=studio.admin)).status_code == 409
    r = await c.post(
        "/v1/appointments",
        json=_body(studio, "2031-05-06T10:00", status="confirmed"),
        headers=studio.admin,
    )
    assert r.status_code == 201
    second = r.json()
    r = await c.post(
        f"/v1/appointments/{second['id']}/status", json={"status": "no_show"}, headers=studio.admin
    )
    assert r.json()["status"] == "no_show"
    third = (
        await c.post(
            "/v1/appointments",
            json=_body(studio, "2031-05-07T10:00", status="confirmed"),
            headers=studio.admin,
        )
    ).json()
    r = await c.post(
        f"/v1/appointments/{third['id']}/status", json={"status": "completed"}, headers=studio.admin
    )
    assert r.json()["status"] == "completed"
    r = await c.post(
        f"/v1/appointments/{third['id']}/status", json={"status": "draft"}, headers=studio.admin
    )
    assert r.status_code == 422


async def test_working_hours_are_respected(studio):
    c = studio.client
    r = await c.patch(
        f"/v1/staff/{studio.trainer['id']}",
        json={"working_hours": [{"weekday": "mon", "start": "09:00", "end": "17:00"}]},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    # 2031-05-05 is a Monday
    ok = await c.post(
        "/v1/appointments", json=_body(studio, "2031-05-05T16:00"), headers=studio.admin
    )
    assert ok.status_code == 201
    late = await c.post(
        "/v1/appointments", json=_body(studio, "2031-05-05T16:30"), headers=studio.admin
    )
    assert late.status_code == 409 and late.json()["errors"][0]["field"] == "starts_at"
    tuesday = await c.post(
        "/v1/appointments", json=_body(studio, "2031-05-06T10:00"), headers=studio.admin
    )
    assert tuesday.status_code == 409
    r = await c.patch(
        f"/v1/staff/{studio.trainer['id']}",
        json={"working_hours": [{"weekday": "mon", "start": "17:00", "end": "09:00"}]},
        headers=studio.admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("working_hours")


async def test_confirmed_appointment_publishes_a_booking_event(studio):
    r = await studio.client.post(
        "/v1/appointments",
        json=_body(
            studio,
            (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            status="confirmed",
            price_minor=4500,
        ),
        headers=studio.admin,
    )
    assert r.status_code == 201
    (event,) = await studio.published("scheduling.booking.confirmed.v1")
    assert event["session_kind"] == event["session_type"] == "appointment"
    assert event["payment"] == {
        "method": "pay_per_session",
        "credits": 0,
        "price_minor": 4500,
        "currency": "EUR",
    }
