"""Idempotency-Key on POST /v1/bookings and /v1/appointments: a retry makes nothing twice."""

import asyncio
import uuid

from sqlalchemy import func, select

from frontdesk.scheduling.adapters.tables import appointments, bookings

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}


async def count(runtime, table, **where):
    async with runtime.engine.connect() as conn:
        stmt = select(func.count()).select_from(table)
        for column, value in where.items():
            stmt = stmt.where(table.c[column] == value)
        return (await conn.execute(stmt)).scalar_one()


async def test_a_retried_booking_with_the_same_key_books_once(studio, runtime):
    session = await studio.session(capacity=5, payment=PAY)
    body = {"session_id": session["id"], "customer_id": str(uuid.uuid4())}
    headers = {**studio.admin, "Idempotency-Key": "book-42"}
    first = await studio.client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await studio.client.post("/v1/bookings", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == f"/v1/bookings/{first.json()['id']}"
    assert await count(runtime, bookings, session_id=uuid.UUID(session["id"])) == 1
    assert len(await studio.published("scheduling.booking.requested.v1")) == 1
    r = await studio.client.get(f"/v1/sessions/{session['id']}", headers=studio.admin)
    assert r.json()["seats_taken"] == 1


async def test_concurrent_retries_with_one_key_make_one_booking(studio, runtime):
    session = await studio.session(capacity=20, payment=PAY)
    body = {"session_id": session["id"], "customer_id": str(uuid.uuid4())}
    headers = {**studio.admin, "Idempotency-Key": "double-click"}
    answers = await asyncio.gather(
        *(studio.client.post("/v1/bookings", json=body, headers=headers) for _ in range(10))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 9 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count(runtime, bookings, session_id=uuid.UUID(session["id"])) == 1


async def test_a_key_reused_for_another_booking_is_refused(studio, runtime):
    session = await studio.session(payment=PAY)
    headers = {**studio.admin, "Idempotency-Key": "k1"}
    first = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=headers,
    )
    assert first.status_code == 201
    other = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers=headers,
    )
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count(runtime, bookings, session_id=uuid.UUID(session["id"])) == 1


async def test_a_refused_booking_does_not_use_up_its_key(studio, runtime):
    session = await studio.session(capacity=1, payment=PAY)
    await studio.book(session, expect=(201,))
    body = {"session_id": session["id"], "customer_id": str(uuid.uuid4())}
    headers = {**studio.admin, "Idempotency-Key": "after-full"}
    full = await studio.client.post("/v1/bookings", json=body, headers=headers)
    assert full.status_code == 409 and full.json()["errors"][0]["field"] == "seats"
    # a seat frees up: the same request with the same key now books
    bookings_so_far = (
        await studio.client.get(
            "/v1/bookings", params={"session_id": session["id"]}, headers=studio.admin
        )
    ).json()["items"]
    cancel = await studio.client.post(
        f"/v1/bookings/{bookings_so_far[0]['id']}/cancel", headers=studio.admin
    )
    assert cancel.status_code == 200
    retried = await studio.client.post("/v1/bookings", json=body, headers=headers)
    assert retried.status_code == 201, retried.text


async def test_keys_are_per_tenant(studio, tokens):
    session = await studio.session(payment=PAY)
    key = {"Idempotency-Key": "shared"}
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers={**studio.admin, **key},
    )
    assert r.status_code == 201
    # another tenant using the same key is not answered with this tenant's booking
    other_tenant = tokens.headers("admin", tenant_id=uuid.uuid4())
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(uuid.uuid4())},
        headers={**other_tenant, **key},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "session_id"


async def test_malformed_keys_are_refused_naming_the_header(studio, runtime):
    session = await studio.session(payment=PAY)
    body = {"session_id": session["id"], "customer_id": str(uuid.uuid4())}
    for bad in ("k" * 201, " padded ", "tab\there"):
        r = await studio.client.post(
            "/v1/bookings", json=body, headers={**studio.admin, "Idempotency-Key": bad}
        )
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count(runtime, bookings, session_id=uuid.UUID(session["id"])) == 0


async def test_a_retried_appointment_with_the_same_key_is_made_once(studio, runtime):
    body = {
        "location_id": studio.location["id"],
        "staff_id": studio.trainer["id"],
        "room_id": studio.room["id"],
        "customer_id": str(uuid.uuid4()),
        "title": "Personal training",
        "starts_at": "2031-05-05T10:00",
        "duration_minutes": 60,
    }
    headers = {**studio.admin, "Idempotency-Key": "pt-1"}
    first = await studio.client.post("/v1/appointments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    # without the key the same slot would be an overlap (409); with it, the same appointment
    again = await studio.client.post("/v1/appointments", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    moved = await studio.client.post(
        "/v1/appointments", json={**body, "starts_at": "2031-05-06T10:00"}, headers=headers
    )
    assert moved.status_code == 409
    assert moved.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count(runtime, appointments) == 1
