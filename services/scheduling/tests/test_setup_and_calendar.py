import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest


def _last_sunday(year, month):
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


SPRING = _last_sunday(2031, 3)  # Europe/Berlin goes to summer time (UTC+2)
AUTUMN = _last_sunday(2031, 10)  # ... and back to winter time (UTC+1)


async def test_location_needs_an_iana_time_zone(client, admin):
    for bad in ("CET+1", "Mars/Olympus", "", "europe/berlin", "+02:00"):
        r = await client.post("/v1/locations", json={"name": "X", "timezone": bad}, headers=admin)
        assert r.status_code == 422, bad
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "timezone"
    r = await client.post(
        "/v1/locations", json={"name": "X", "timezone": "Europe/Berlin"}, headers=admin
    )
    assert r.status_code == 201


async def test_setup_requires_admin_and_validates_references(client, tokens, studio):
    r = await client.post(
        "/v1/locations", json={"name": "X", "timezone": "UTC"}, headers=tokens.headers("staff")
    )
    assert r.status_code == 403
    r = await client.post(
        "/v1/rooms", json={"location_id": str(uuid.uuid4()), "name": "R"}, headers=studio.admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location_id"
    r = await client.post(
        "/v1/sessions",
        json={
            "title": "Yoga",
            "location_id": studio.location["id"],
            "room_id": str(uuid.uuid4()),
            "starts_at": "2031-01-01T10:00",
            "duration_minutes": 60,
            "capacity": 5,
            "payment": {"method": "free"},
        },
        headers=studio.admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "room_id"
    r = await client.post(
        "/v1/sessions",
        json={
            "title": "Yoga",
            "location_id": studio.location["id"],
            "starts_at": "2031-01-01T10:00",
            "duration_minutes": 60,
            "capacity": 5,
            "payment": {"method": "credits"},
        },
        headers=studio.admin,
    )
    assert r.status_code == 422 and "credits" in r.json()["errors"][0]["message"]
    listed = (await client.get("/v1/staff", headers=studio.admin)).json()
    assert [s["id"] for s in listed] == [studio.trainer["id"]]
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (
        await client.get(f"/v1/locations/{studio.location['id']}", headers=other)
    ).status_code == 404
    assert (await client.get("/v1/rooms", headers=other)).json() == []


@pytest.mark.parametrize(
    "day,offset",
    [
        (SPRING - timedelta(days=1), 1),
        (SPRING, 2),
        (SPRING + timedelta(days=1), 2),
        (AUTUMN - timedelta(days=1), 2),
        (AUTUMN, 1),
        (AUTUMN + timedelta(days=1), 1),
    ],
)
async def test_class_at_18_local_across_dst_changes(studio, day, offset):
    session = await studio.session(starts_at=f"{day.isoformat()}T18:00", payment={"method": "free"})
    expected = datetime(day.year, day.month, day.day, 18 - offset, 0, tzinfo=ZoneInfo("UTC"))
    assert datetime.fromisoformat(session["starts_at"]) == expected
    assert session["local_starts_at"].startswith(f"{day.isoformat()}T18:00:00+0{offset}:00")
    r = await studio.client.get(
        f"/v1/calendar?date={day.isoformat()}&location_id={studio.location['id']}",
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    (entry,) = r.json()["entries"]
    assert entry["local_start"] == "18:00" and entry["local_end"] == "19:00"
    assert r.json()["timezone"] == "Europe/Berlin"
    # the feed: DTSTART 18:00 with TZID, and a VTIMEZONE for it
    r = await studio.client.get(
        f"/v1/calendar.ics?staff_id={studio.trainer['id']}"
        f"&start={day - timedelta(days=1)}&end={day}",
        headers=studio.admin,
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    assert event["UID"] == f"class-{session['id']}@frontdesk"
    assert "DTSTAMP" in event
    start = event["DTSTART"]
    assert start.params["TZID"] == "Europe/Berlin"
    assert start.dt.hour == 18 and start.dt.date() == day
    assert start.dt.astimezone(ZoneInfo("UTC")) == expected
    assert (
        b"DTSTART;TZID=Europe/Berlin:" + day.strftime("%Y%m%d").encode() + b"T180000" in r.content
    )
    assert [tzc["TZID"] for tzc in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert b"\r\n" in r.content


async def test_nonexistent_local_time_is_refused(studio):
    r = await studio.client.post(
        "/v1/sessions",
        json={
            "title": "Night",
            "location_id": studio.location["id"],
            "starts_at": f"{SPRING.isoformat()}T02:30",
            "duration_minutes": 30,
            "capacity": 1,
            "payment": {"method": "free"},
        },
        headers=studio.admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "starts_at"


async def test_calendar_per_staff_and_room_and_feed_of_everything(studio):
    c = studio.client
    day = date(2031, 7, 1)
    other_room = (
        await c.post(
            "/v1/rooms",
            json={"location_id": studio.location["id"], "name": "Bay 2", "kind": "bay"},
            headers=studio.admin,
        )
    ).json()
    yoga = await studio.session(starts_at=f"{day}T09:00", payment={"method": "free"})
    await studio.session(
        starts_at=f"{day}T10:00",
        payment={"method": "free"},
        room_id=other_room["id"],
        staff_id=None,
    )
    appt = (
        await c.post(
            "/v1/appointments",
            json={
                "location_id": studio.location["id"],
                "staff_id": studio.trainer["id"],
                "room_id": other_room["id"],
                "customer_id": str(uuid.uuid4()),
                "title": "PT",
                "starts_at": f"{day}T12:00",
                "duration_minutes": 30,
            },
            headers=studio.admin,
        )
    ).json()
    base = f"/v1/calendar?date={day}&location_id={studio.location['id']}"
    everything = (await c.get(base, headers=studio.admin)).json()["entries"]
    assert [e["local_start"] for e in everything] == ["09:00", "10:00", "12:00"]
    trainer = (await c.get(f"{base}&staff_id={studio.trainer['id']}", headers=studio.admin)).json()[
        "entries"
    ]
    assert [e["id"] for e in trainer] == [yoga["id"], appt["id"]]
    bay = (await c.get(f"{base}&room_id={other_room['id']}", headers=studio.admin)).json()
    assert [e["kind"] for e in bay["entries"]] == ["class", "appointment"]
    r = await c.get(
        f"/v1/calendar.ics?location_id={studio.location['id']}&start={day}&end={day}",
        headers=studio.admin,
    )
    cal = icalendar.Calendar.from_ical(r.content)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    events = cal.walk("VEVENT")
    assert len(events) == 3 and len({e["UID"] for e in events}) == 3
    statuses = sorted(str(e["STATUS"]) for e in events)
    assert statuses == ["CONFIRMED", "CONFIRMED", "TENTATIVE"]
    bad = await c.get("/v1/calendar.ics", headers=studio.admin)
    assert bad.status_code == 422
    bad = await c.get(
        f"/v1/calendar?date=2031-02-30&location_id={studio.location['id']}", headers=studio.admin
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date"


async def test_openapi_documents_every_route(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/v1/locations",
        "/v1/rooms",
        "/v1/staff",
        "/v1/sessions",
        "/v1/sessions/{session_id}/cancel",
        "/v1/bookings",
        "/v1/bookings/{booking_id}",
        "/v1/bookings/{booking_id}/cancel",
        "/v1/appointments",
        "/v1/appointments/{appointment_id}/status",
        "/v1/calendar",
        "/v1/calendar.ics",
        "/v1/booking-policy",
        "/v1/calendar-feeds",
        "/v1/calendar-feeds/{feed_id}",
        "/v1/calendar-feeds/{secret}.ics",
    ):
        assert path in paths, path
    assert "409" in paths["/v1/bookings"]["post"]["responses"]
    for path in ("/v1/sessions/{session_id}", "/v1/appointments/{appointment_id}"):
        assert {"409", "412", "422"} <= set(paths[path]["patch"]["responses"]), path
        assert any(p["name"] == "If-Match" for p in paths[path]["patch"]["parameters"]), path


async def test_bad_input_is_never_a_500(studio):
    c, h = studio.client, studio.admin
    loc = studio.location["id"]
    session = {
        "title": "Y",
        "location_id": loc,
        "starts_at": "2031-01-01T10:00",
        "duration_minutes": 60,
        "capacity": 5,
        "payment": {"method": "free"},
    }
    cases = [
        ("post", "/v1/sessions", {**session, "starts_at": "tomorrow"}),
        ("post", "/v1/sessions", {**session, "capacity": -1}),
        ("post", "/v1/sessions", {**session, "capacity": 10**12}),
        ("post", "/v1/sessions", {**session, "payment": {"method": "cash"}}),
        (
            "post",
            "/v1/sessions",
            {**session, "payment": {"method": "pay_per_session", "price_minor": 1.5}},
        ),
        (
            "post",
            "/v1/sessions",
            {
                **session,
                "payment": {"method": "pay_per_session", "price_minor": 100, "currency": "euro"},
            },
        ),
        ("post", "/v1/sessions", {**session, "location_id": str(uuid.uuid4())}),
        ("post", "/v1/sessions", {**session, "staff_id": str(uuid.uuid4())}),
        ("post", "/v1/sessions", {**session, "starts_at": "9999-12-31T23:59"}),
        (
            "post",
            "/v1/staff",
            {
                "name": "X",
                "working_hours": [{"weekday": "funday", "start": "09:00", "end": "10:00"}],
            },
        ),
        ("post", "/v1/staff", {"name": "X", "location_id": str(uuid.uuid4())}),
        (
            "post",
            "/v1/appointments",
            {
                "location_id": loc,
                "staff_id": str(uuid.uuid4()),
                "customer_id": str(uuid.uuid4()),
                "title": "T",
                "starts_at": "2031-01-01T10:00",
                "duration_minutes": 30,
            },
        ),
        ("post", f"/v1/bookings/{uuid.uuid4()}/cancel", None),
        ("post", f"/v1/sessions/{uuid.uuid4()}/cancel", {}),
        ("get", f"/v1/calendar?date=2031-01-01&location_id={uuid.uuid4()}", None),
        ("get", f"/v1/calendar.ics?location_id={loc}&start=2031-02-01&end=2031-01-01", None),
        ("get", "/v1/sessions?starts_from=2031-01-01T00:00", None),
        ("get", "/v1/bookings?when=someday", None),
        ("get", "/v1/bookings?limit=0", None),
        ("put", "/v1/booking-policy", {"free_cancel_hours": -3}),
        ("get", f"/v1/calendar?date=9999-12-31&location_id={loc}", None),
        ("get", f"/v1/calendar.ics?location_id={loc}&start=0001-01-01", None),
        ("get", f"/v1/calendar.ics?location_id={loc}&end=9999-12-31", None),
        ("get", f"/v1/sessions?on=9999-12-31&location_id={loc}", None),
    ]
    for method, url, body in cases:
        kwargs = {"json": body} if body is not None else {}
        r = await c.request(method.upper(), url, headers=h, **kwargs)
        assert 400 <= r.status_code < 500, (url, body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", (url, r.text)


async def test_prices_need_a_real_iso_4217_currency(studio):
    body = {
        "title": "Yoga",
        "location_id": studio.location["id"],
        "starts_at": "2031-01-01T10:00",
        "duration_minutes": 60,
        "capacity": 5,
    }
    for code in ("ZZZ", "XXX"):
        payment = {"method": "pay_per_session", "price_minor": 1500, "currency": code}
        r = await studio.client.post(
            "/v1/sessions", json={**body, "payment": payment}, headers=studio.admin
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "payment.currency"
    payment = {"method": "pay_per_session", "price_minor": 1500, "currency": "CHF"}
    r = await studio.client.post(
        "/v1/sessions", json={**body, "payment": payment}, headers=studio.admin
    )
    assert r.status_code == 201 and r.json()["payment"]["currency"] == "CHF"
