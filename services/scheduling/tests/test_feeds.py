"""/v1/calendar-feeds: secret iCalendar URLs for calendar apps (no bearer token)."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import insert, select

from frontdesk.contracts.customers import CustomerErased
from frontdesk.kit.testing import wait_for
from frontdesk.scheduling.adapters.tables import calendar_feeds, sessions

from .helpers import next_transition

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}


async def _feed(client, headers, expect=201, **body):
    r = await client.post("/v1/calendar-feeds", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def _read(client, url, expect=200):
    r = await client.get(url)  # no Authorization header: calendar apps send none
    assert r.status_code == expect, r.text
    return r


async def test_a_staff_feed_serves_18_00_berlin_across_a_dst_change(studio):
    change = next_transition(datetime.now(UTC).date() + timedelta(days=3))
    days = [change - timedelta(days=1), change + timedelta(days=1)]
    made = [await studio.session(starts_at=f"{d}T18:00", payment=PAY) for d in days]
    feed = await _feed(
        studio.client, studio.admin, staff_id=studio.trainer["id"], name="Kim's classes"
    )
    assert feed["staff_id"] == studio.trainer["id"] and feed["customer_id"] is None
    assert feed["url"].startswith("/v1/calendar-feeds/") and feed["url"].endswith(".ics")
    r = await _read(studio.client, feed["url"])
    assert r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    assert cal["VERSION"] == "2.0" and str(cal["X-WR-CALNAME"]) == "Kim's classes"
    events = sorted(cal.walk("VEVENT"), key=lambda e: e["DTSTART"].dt)
    assert [str(e["UID"]) for e in events] == [f"class-{s['id']}@frontdesk" for s in made]
    offsets = set()
    for event, day in zip(events, days, strict=True):
        start = event["DTSTART"]
        assert start.params["TZID"] == "Europe/Berlin"
        assert start.dt.date() == day and (start.dt.hour, start.dt.minute) == (18, 0)
        offsets.add(start.dt.utcoffset())
    assert len(offsets) == 2  # one before the change, one after: both at 18:00 local
    assert [tzc["TZID"] for tzc in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    # the same calendar as the authenticated /v1/calendar.ics
    r2 = await studio.client.get(
        f"/v1/calendar.ics?staff_id={studio.trainer['id']}", headers=studio.admin
    )
    assert [str(e["UID"]) for e in icalendar.Calendar.from_ical(r2.content).walk("VEVENT")] == [
        str(e["UID"]) for e in cal.walk("VEVENT")
    ]


async def test_only_a_hash_is_kept_and_a_revoked_feed_answers_404(studio, runtime):
    feed = await _feed(studio.client, studio.admin, location_id=studio.location["id"])
    secret = feed["url"].removeprefix("/v1/calendar-feeds/").removesuffix(".ics")
    assert len(secret) >= 32
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(calendar_feeds))).mappings().one()
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())
    listed = (await studio.client.get("/v1/calendar-feeds", headers=studio.admin)).json()
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "url" not in listed[0] and secret not in str(listed)
    await _read(studio.client, feed["url"])
    r = await studio.client.delete(f"/v1/calendar-feeds/{feed['id']}", headers=studio.admin)
    assert r.status_code == 204
    r = await _read(studio.client, feed["url"], expect=404)
    assert r.headers["content-type"] == "application/problem+json"
    assert (await studio.client.get("/v1/calendar-feeds", headers=studio.admin)).json() == []
    r = await studio.client.delete(f"/v1/calendar-feeds/{feed['id']}", headers=studio.admin)
    assert r.status_code == 404
    # guessed or malformed secrets: 404, never a 500 or a 422 that says more
    for url in ("/v1/calendar-feeds/" + "a" * 43 + ".ics", "/v1/calendar-feeds/x.ics"):
        await _read(studio.client, url, expect=404)


async def test_feeds_are_per_tenant_and_per_creator(studio, tokens):
    feed = await _feed(studio.client, studio.admin, room_id=studio.room["id"])
    other_tenant = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (await studio.client.get("/v1/calendar-feeds", headers=other_tenant)).json() == []
    assert (
        await studio.client.get("/v1/calendar-feeds?all=true", headers=other_tenant)
    ).json() == []
    r = await studio.client.delete(f"/v1/calendar-feeds/{feed['id']}", headers=other_tenant)
    assert r.status_code == 404
    # another tenant cannot scope a feed to our location
    r = await studio.client.post(
        "/v1/calendar-feeds", json={"location_id": studio.location["id"]}, headers=other_tenant
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location_id"
    # a staff member sees and revokes only their own; admins see all with ?all=true
    kim = tokens.headers("staff", sub="kim")
    mine = await _feed(studio.client, kim, staff_id=studio.trainer["id"])
    assert [
        f["id"] for f in (await studio.client.get("/v1/calendar-feeds", headers=kim)).json()
    ] == [mine["id"]]
    assert (
        await studio.client.delete(f"/v1/calendar-feeds/{feed['id']}", headers=kim)
    ).status_code == 404
    assert (await studio.client.get("/v1/calendar-feeds?all=true", headers=kim)).status_code == 403
    every = (await studio.client.get("/v1/calendar-feeds?all=true", headers=studio.admin)).json()
    assert {f["id"] for f in every} == {feed["id"], mine["id"]}
    assert (
        await studio.client.delete(f"/v1/calendar-feeds/{mine['id']}", headers=studio.admin)
    ).status_code == 204
    await _read(studio.client, feed["url"])
    await _read(studio.client, mine["url"], expect=404)


async def test_a_customer_feed_holds_only_its_own_bookings(studio, tokens):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    as_alice = tokens.headers("customer", sub=alice)
    start = datetime.now(UTC) + timedelta(days=3)
    yoga = await studio.session(starts_at=start, payment=PAY)
    pilates = await studio.session(starts_at=start + timedelta(hours=2), payment=PAY)
    dropped = await studio.session(starts_at=start + timedelta(hours=4), payment=PAY)
    r = await studio.client.post("/v1/bookings", json={"session_id": yoga["id"]}, headers=as_alice)
    assert r.status_code == 201, r.text
    await studio.book(pilates, bob, expect=(201,))
    gone = await studio.book(dropped, alice, expect=(201,))
    await studio.client.post(f"/v1/bookings/{gone['id']}/cancel", headers=studio.admin)
    appt = (
        await studio.client.post(
            "/v1/appointments",
            json={
                "location_id": studio.location["id"],
                "staff_id": studio.trainer["id"],
                "customer_id": str(alice),
                "title": "PT",
                "starts_at": (start + timedelta(days=1)).isoformat(),
                "duration_minutes": 30,
                "status": "confirmed",
            },
            headers=studio.admin,
        )
    ).json()
    r = await studio.client.post(
        "/v1/calendar-feeds", json={"location_id": studio.location["id"]}, headers=as_alice
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location_id"
    feed = await _feed(studio.client, as_alice)
    assert feed["customer_id"] == str(alice)
    cal = icalendar.Calendar.from_ical((await _read(studio.client, feed["url"])).content)
    uids = sorted(str(e["UID"]) for e in cal.walk("VEVENT"))
    assert uids == sorted([f"class-{yoga['id']}@frontdesk", f"appointment-{appt['id']}@frontdesk"])
    for event in cal.walk("VEVENT"):
        assert event["DTSTART"].dt.tzinfo == ZoneInfo("Europe/Berlin") or (
            event["DTSTART"].params["TZID"] == "Europe/Berlin"
        )
    # only the customer's own feeds are listed; staff cannot delete it, the customer can
    assert [
        f["id"] for f in (await studio.client.get("/v1/calendar-feeds", headers=as_alice)).json()
    ] == [feed["id"]]
    as_bob = tokens.headers("customer", sub=bob)
    assert (await studio.client.get("/v1/calendar-feeds", headers=as_bob)).json() == []
    assert (
        await studio.client.delete(f"/v1/calendar-feeds/{feed['id']}", headers=as_bob)
    ).status_code == 404
    assert (
        await studio.client.get("/v1/calendar-feeds?all=true", headers=as_alice)
    ).status_code == 403


async def test_an_erased_customer_feed_stops_answering(studio, tokens):
    alice = uuid.uuid4()
    feed = await _feed(studio.client, tokens.headers("customer", sub=alice))
    await _read(studio.client, feed["url"])
    await studio.publish(CustomerErased(customer_id=alice), alice)

    async def gone():
        return (await studio.client.get(feed["url"])).status_code == 404

    await wait_for(gone, timeout=10)


async def test_bad_feed_requests_name_the_field(studio, client):
    cases = [
        ({}, "location_id"),
        ({"location_id": str(uuid.uuid4())}, "location_id"),
        ({"staff_id": str(uuid.uuid4())}, "staff_id"),
        ({"room_id": str(uuid.uuid4())}, "room_id"),
        ({"room_id": "not-a-uuid"}, "room_id"),
        ({"name": "x" * 201, "location_id": studio.location["id"]}, "name"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
    ]
    for body, field in cases:
        r = await client.post("/v1/calendar-feeds", json=body, headers=studio.admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert any(field in e["field"] for e in r.json()["errors"]), (body, r.text)
    assert (await client.get("/v1/calendar-feeds", headers=studio.admin)).json() == []
    assert (await client.post("/v1/calendar-feeds", json={})).status_code == 401
    assert (await client.get("/v1/calendar-feeds")).status_code == 401
    r = await client.delete("/v1/calendar-feeds/not-a-uuid", headers=studio.admin)
    assert r.status_code == 422


async def test_a_busy_location_feed_is_not_cut_at_500_entries(studio, runtime):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": studio.tenant_id,
            "title": f"Class {n}",
            "location_id": uuid.UUID(studio.location["id"]),
            "starts_at": start + timedelta(hours=5 * n),
            "ends_at": start + timedelta(hours=5 * n, minutes=45),
            "capacity": 10,
            "payment_method": "free",
        }
        for n in range(600)  # every 5 hours: 125 days, inside the feed's 180
    ]
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(sessions), rows)
    feed = await _feed(studio.client, studio.admin, location_id=studio.location["id"])
    cal = icalendar.Calendar.from_ical((await _read(studio.client, feed["url"])).content)
    assert len(cal.walk("VEVENT")) == 600


async def test_the_feed_secret_never_reaches_the_traces(studio, spans):
    feed = await _feed(studio.client, studio.admin, location_id=studio.location["id"])
    secret = feed["url"].removeprefix("/v1/calendar-feeds/").removesuffix(".ics")
    await _read(studio.client, feed["url"])
    await studio.client.get("/v1/calendar.ics", headers=studio.admin)
    recorded = spans.get_finished_spans()
    # tracing is on (the authenticated calendar request is traced) ...
    assert any("/v1/calendar.ics" in str(s.attributes) for s in recorded)
    # ... but no span names or attributes carry the feed's secret
    assert not [s.name for s in recorded if secret in s.name or secret in str(s.attributes)]
