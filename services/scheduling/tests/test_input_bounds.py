"""Bad input is a 4xx naming its field, never a 500, and nothing of it is stored (issue 9):
NUL, bidi overrides and zero-width characters in text, unbounded or numeric dates, forged
cursors, working hours with a UTC offset, aliases of time zones, classes without a seat,
and integers that are not JSON integers."""

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.kit.pagination import encode_cursor
from frontdesk.scheduling.adapters.tables import (
    appointments,
    bookings,
    calendar_feeds,
    locations,
    rooms,
    sessions,
    staff,
)

FREE = {"method": "free"}
# NUL cannot be stored; a bidi override or a zero-width space disguises a name.
UNPRINTABLE = ["Yo\u0000ga", "Yo\u202ega", "\u200bYoga"]


def _fields(r: Any) -> list[str]:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return [e["field"] for e in r.json().get("errors", [])]


async def _counts(runtime) -> dict[str, int]:
    async with runtime.engine.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (locations, rooms, staff, sessions, bookings, appointments, calendar_feeds)
        }


def _class(studio, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Yoga",
        "location_id": studio.location["id"],
        "starts_at": "2031-05-05T10:00",
        "duration_minutes": 60,
        "capacity": 5,
        "payment": FREE,
        **extra,
    }


def _appointment(studio, **extra: Any) -> dict[str, Any]:
    return {
        "location_id": studio.location["id"],
        "staff_id": studio.trainer["id"],
        "customer_id": str(uuid.uuid4()),
        "title": "PT",
        "starts_at": "2031-05-06T10:00",
        "duration_minutes": 30,
        **extra,
    }


@pytest.mark.parametrize("bad", UNPRINTABLE)
async def test_unprintable_text_is_refused_naming_the_field(studio, runtime, bad):
    session = await studio.session(payment=FREE)
    booking = await studio.book(session, expect=(201,))
    loc = studio.location["id"]
    guest = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}
    cases = [
        ("POST", "/v1/locations", {"name": bad, "timezone": "UTC"}, "name"),
        ("POST", "/v1/locations", {"name": "X", "timezone": "UTC", "address": bad}, "address"),
        ("POST", "/v1/rooms", {"location_id": loc, "name": bad}, "name"),
        ("POST", "/v1/staff", {"name": bad}, "name"),
        ("POST", "/v1/staff", {"name": "Kim", "role": bad}, "role"),
        ("POST", "/v1/staff", {"name": "Kim", "email": bad}, "email"),
        ("PATCH", f"/v1/staff/{studio.trainer['id']}", {"name": bad}, "name"),
        ("POST", "/v1/sessions", _class(studio, title=bad), "title"),
        ("POST", "/v1/sessions", _class(studio, description=bad), "description"),
        ("PATCH", f"/v1/sessions/{session['id']}", {"title": bad}, "title"),
        ("PATCH", f"/v1/sessions/{session['id']}", {"description": bad}, "description"),
        ("POST", f"/v1/sessions/{session['id']}/cancel", {"reason": bad}, "reason"),
        (
            "POST",
            "/v1/bookings",
            {"session_id": session["id"], "customer_id": str(uuid.uuid4()), "notes": bad},
            "notes",
        ),
        (
            "POST",
            "/v1/bookings",
            {"session_id": session["id"], "guest": {**guest, "first_name": bad}},
            "guest.first_name",
        ),
        (
            "POST",
            "/v1/bookings",
            {"session_id": session["id"], "guest": {**guest, "email": f"g{bad}@example.com"}},
            "guest.email",
        ),
        ("POST", f"/v1/bookings/{booking['id']}/cancel", {"reason": bad}, "reason"),
        ("POST", "/v1/appointments", _appointment(studio, title=bad), "title"),
        ("POST", "/v1/appointments", _appointment(studio, notes=bad), "notes"),
        ("POST", "/v1/calendar-feeds", {"location_id": loc, "name": bad}, "name"),
    ]
    before = await _counts(runtime)
    for method, url, body, field in cases:
        r = await studio.client.request(method, url, json=body, headers=studio.admin)
        assert r.status_code == 422, (url, body, r.status_code, r.text)
        assert field in _fields(r), (url, field, r.text)
    assert await _counts(runtime) == before
    r = await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)
    assert r.json()["title"] == "Yoga" and r.json()["status"] == "scheduled"
    assert (await studio.booking(booking["id"]))["status"] == "confirmed"


async def test_dates_out_of_bounds_or_given_as_numbers_are_refused(studio, runtime):
    loc = studio.location["id"]
    for params, field in (
        ({"starts_from": "0001-01-01T00:00:00+14:00"}, "starts_from"),
        ({"starts_before": "9999-12-31T23:59:59-14:00"}, "starts_before"),
        ({"starts_from": "0.5"}, "starts_from"),
        ({"starts_from": "1700000000"}, "starts_from"),
        ({"on": "0001-01-01", "location_id": loc}, "on"),
    ):
        r = await studio.client.get("/v1/sessions", params=params, headers=studio.admin)
        assert r.status_code == 422, (params, r.text)
        assert field in _fields(r), (params, r.text)
    r = await studio.client.get(
        "/v1/calendar", params={"date": "0001-01-01", "location_id": loc}, headers=studio.admin
    )
    assert r.status_code == 422 and _fields(r) == ["date"]
    before = await _counts(runtime)
    for starts_at in ("9999-12-31T23:59", "0001-01-01T00:00+14:00", 1_900_000_000, 0.5):
        for path, body in (
            ("/v1/sessions", _class(studio, starts_at=starts_at)),
            ("/v1/appointments", _appointment(studio, starts_at=starts_at)),
        ):
            r = await studio.client.post(path, json=body, headers=studio.admin)
            assert r.status_code == 422, (path, starts_at, r.text)
            assert "starts_at" in _fields(r), (path, starts_at, r.text)
    assert await _counts(runtime) == before


async def test_cursors_this_deployment_did_not_sign_answer_400(studio):
    await studio.session(payment=FREE)
    loc = studio.location["id"]
    ident = str(uuid.uuid4())
    shapes = [
        ["0001-01-01T00:00:00+14:00", ident],  # would underflow in UTC
        ["9999-12-31T23:59:59-14:00", ident],
        ["2031-01-01T00:00:00+00:00", ident],  # a key of the right shape, but forged
        [2**63, ident],
        [True, ident],
    ]
    forged = [
        base64.urlsafe_b64encode(json.dumps(shape).encode()).decode().rstrip("=")
        for shape in shapes
    ]
    # signed, but not a (starts_at, id) key, or one out of bounds
    forged += [encode_cursor([2**63]), encode_cursor(["9999-12-31T23:59:59-14:00", ident])]
    for path in ("/v1/sessions", "/v1/appointments", "/v1/bookings", "/v1/calendar"):
        params = {"date": "2031-07-01", "location_id": loc} if path == "/v1/calendar" else {}
        for cursor in forged:
            r = await studio.client.get(
                path, params={**params, "cursor": cursor}, headers=studio.admin
            )
            assert r.status_code == 400, (path, cursor, r.text)
            assert _fields(r) == ["cursor"], (path, cursor)


async def test_working_hours_with_a_utc_offset_are_refused(studio):
    slot = {"weekday": "mon", "start": "09:00+05:00", "end": "17:00"}
    r = await studio.client.patch(
        f"/v1/staff/{studio.trainer['id']}", json={"working_hours": [slot]}, headers=studio.admin
    )
    assert r.status_code == 422, r.text
    assert _fields(r) == ["working_hours.0.start"]
    r = await studio.client.post(
        "/v1/staff",
        json={"name": "Lee", "working_hours": [{**slot, "start": "09:00", "end": "17:00Z"}]},
        headers=studio.admin,
    )
    assert r.status_code == 422 and _fields(r) == ["working_hours.0.end"], r.text
    # nothing was stored: the trainer's classes are still made and read
    made = await studio.session(starts_at="2031-05-05T10:00", payment=FREE)
    r = await studio.client.get(f"/v1/sessions/{made['id']}", headers=studio.admin)
    assert r.status_code == 200
    assert (await studio.client.get("/v1/staff", headers=studio.admin)).json()[0][
        "working_hours"
    ] == []


@pytest.mark.parametrize("zone", ["localtime", "Factory", "US/Eastern", "posixrules"])
async def test_only_canonical_iana_zones(client, admin, zone):
    r = await client.post("/v1/locations", json={"name": "X", "timezone": zone}, headers=admin)
    assert r.status_code == 422, (zone, r.text)
    assert _fields(r) == ["timezone"]
    assert (await client.get("/v1/locations", headers=admin)).json() == []


async def test_a_class_needs_at_least_one_seat(studio, runtime):
    r = await studio.client.post(
        "/v1/sessions", json=_class(studio, capacity=0), headers=studio.admin
    )
    assert r.status_code == 422 and _fields(r) == ["capacity"], r.text
    made = await studio.session(payment=FREE, capacity=3)
    r = await studio.client.patch(
        f"/v1/sessions/{made['id']}", json={"capacity": 0}, headers=studio.admin
    )
    assert r.status_code == 422 and _fields(r) == ["capacity"], r.text
    r = await studio.client.get(f"/v1/sessions/{made['id']}", headers=studio.admin)
    assert r.json()["capacity"] == 3 and r.json()["version"] == 1


async def test_integers_are_json_integers(studio, runtime):
    session = await studio.session(payment=FREE)
    not_ints = [True, "1", 1.0]
    before = await _counts(runtime)
    for value in not_ints:
        for method, url, body, field in (
            ("POST", "/v1/sessions", _class(studio, capacity=value), "capacity"),
            ("POST", "/v1/sessions", _class(studio, duration_minutes=value), "duration_minutes"),
            (
                "POST",
                "/v1/sessions",
                _class(studio, payment={"method": "credits", "credits": value}),
                "payment.credits",
            ),
            (
                "POST",
                "/v1/sessions",
                _class(studio, payment={"method": "pay_per_session", "price_minor": value}),
                "payment.price_minor",
            ),
            ("PATCH", f"/v1/sessions/{session['id']}", {"capacity": value}, "capacity"),
            (
                "POST",
                "/v1/bookings",
                {"session_id": session["id"], "customer_id": str(uuid.uuid4()), "seats": value},
                "seats",
            ),
            ("PUT", "/v1/booking-policy", {"free_cancel_hours": value}, "free_cancel_hours"),
            (
                "POST",
                "/v1/appointments",
                _appointment(studio, duration_minutes=value),
                "duration_minutes",
            ),
            ("POST", "/v1/appointments", _appointment(studio, price_minor=value), "price_minor"),
            (
                "POST",
                "/v1/rooms",
                {"location_id": studio.location["id"], "name": "R", "capacity": value},
                "capacity",
            ),
        ):
            r = await studio.client.request(method, url, json=body, headers=studio.admin)
            assert r.status_code == 422, (url, body, r.text)
            assert field in _fields(r), (url, field, r.text)
    assert await _counts(runtime) == before
    r = await studio.client.get("/v1/booking-policy", headers=studio.admin)
    assert r.json()["source"] == "default"
    assert (await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)).json()[
        "version"
    ] == 1
