"""Keyset pages of /v1/sessions, /v1/appointments and the day calendar; feeds all or nothing.

Every list pages by (starts_at, id) with ``limit`` and an opaque ``cursor``: walking the
pages sees every row exactly once and in order, filters hold on every page, a cursor
the list did not give out answers 400 naming ``cursor``, and another tenant's rows never
show up (not even with a cursor taken from that tenant's list).
"""

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import insert

from frontdesk.scheduling.adapters.tables import sessions
from frontdesk.scheduling.application import calendar

FREE = {"method": "free"}
DAY = date(2031, 7, 1)


def _key(row: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
    return datetime.fromisoformat(row["starts_at"]), uuid.UUID(row["id"])


def _in_order(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in sorted(rows, key=_key)]


async def _walk(client, url: str, headers, limit: int, items: str = "items") -> list[list[str]]:
    """Every page of ``url`` at ``limit`` a page, following next_cursor to the end."""
    pages: list[list[str]] = []
    sep = "&" if "?" in url else "?"
    cursor = None
    while True:
        page_url = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = await client.get(page_url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body[items]) <= limit
        pages.append([item["id"] for item in body[items]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(body[items]) == limit  # only a full page says more follow
        assert len(pages) < 1000, "the cursor does not advance"


def _flat(pages: list[list[str]]) -> list[str]:
    return [i for page in pages for i in page]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_CURSORS = [
    "zzz",  # not base64 of JSON
    "!!!",
    _cursor({"starts_at": "2031-01-01T00:00:00+00:00"}),  # not the [at, id] pair
    _cursor(["2031-01-01T00:00:00+00:00"]),
    _cursor(["2031-01-01T00:00:00+00:00", str(uuid.uuid4()), 1]),
    _cursor(["yesterday", str(uuid.uuid4())]),
    _cursor(["2031-01-01T00:00:00", str(uuid.uuid4())]),  # naive: no offset
    _cursor(["2031-01-01T00:00:00+00:00", "not-a-uuid"]),
    _cursor([12, 34]),
    _cursor(None),
]


async def _sessions(studio, n_times: int, per_time: int, **extra: Any) -> list[dict[str, Any]]:
    """``per_time`` sessions at each of ``n_times`` starts: ties break by id. Sessions at
    one start are in rooms of their own with trainers of their own (a room or trainer
    is never held twice at once); the first in the studio's (or ``extra``'s)."""
    places: list[dict[str, Any]] = [{}]
    for n in range(2, per_time + 1):
        room = await studio.client.post(
            "/v1/rooms",
            json={"location_id": studio.location["id"], "name": f"Studio {n}"},
            headers=studio.admin,
        )
        assert room.status_code == 201, room.text
        trainer = await _staff(studio, f"Trainer {n}")
        places.append({"room_id": room.json()["id"], "staff_id": trainer["id"]})
    made = []
    for hour in range(n_times):
        for place in places:
            made.append(
                await studio.session(
                    starts_at=f"{DAY}T{8 + hour:02d}:00", payment=FREE, **{**extra, **place}
                )
            )
    return made


async def _staff(studio, name: str) -> dict[str, Any]:
    r = await studio.client.post(
        "/v1/staff", json={"name": name, "location_id": studio.location["id"]}, headers=studio.admin
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _appointment(studio, staff_id: str, starts_at: str, **extra: Any) -> dict[str, Any]:
    body = {
        "location_id": studio.location["id"],
        "staff_id": staff_id,
        "customer_id": str(uuid.uuid4()),
        "title": "PT",
        "starts_at": starts_at,
        "duration_minutes": 30,
        **extra,
    }
    r = await studio.client.post("/v1/appointments", json=body, headers=studio.admin)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# sessions ------------------------------------------------------------------------------
async def test_session_pages_see_every_row_once_in_order(studio):
    made = await _sessions(studio, n_times=4, per_time=3)  # 12 rows, ties at each start
    expected = _in_order(made)
    for limit in (1, 5, 12, 50):
        pages = await _walk(studio.client, "/v1/sessions", studio.admin, limit)
        assert _flat(pages) == expected, limit
        assert len(pages) == -(-12 // limit), limit  # no empty page at the end
    first = (await studio.client.get("/v1/sessions", headers=studio.admin)).json()
    assert first["next_cursor"] is None and [s["id"] for s in first["items"]] == expected


async def test_more_sessions_than_the_biggest_page_are_all_listed(studio, runtime, tenant_id):
    """The old list stopped silently at 500 rows: 520 now take three pages of the most, 200."""
    start = datetime(2031, 1, 1, 6, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "kind": "class",
            "title": f"Class {i}",
            "location_id": uuid.UUID(studio.location["id"]),
            "starts_at": start + timedelta(minutes=15 * (i // 2)),  # pairs share a start
            "ends_at": start + timedelta(minutes=15 * (i // 2) + 60),
            "capacity": 10,
            "payment_method": "free",
        }
        for i in range(520)
    ]
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(sessions), rows)
    expected = [str(r["id"]) for r in sorted(rows, key=lambda r: (r["starts_at"], r["id"]))]
    pages = await _walk(studio.client, "/v1/sessions", studio.admin, 200)
    assert [len(p) for p in pages] == [200, 200, 120]
    assert _flat(pages) == expected
    r = await studio.client.get("/v1/sessions?limit=201", headers=studio.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


async def test_session_filters_hold_on_every_page(studio):
    c, h = studio.client, studio.admin
    bay = (
        await c.post(
            "/v1/rooms",
            json={"location_id": studio.location["id"], "name": "Bay 2", "kind": "bay"},
            headers=h,
        )
    ).json()
    other_trainer = await _staff(studio, "Alex")
    # one room and trainer hold one class at a time: the ties are between room and bay
    in_room = await _sessions(studio, n_times=3, per_time=1)  # room 1, trainer Kim
    in_bay = await _sessions(
        studio, n_times=3, per_time=1, room_id=bay["id"], staff_id=other_trainer["id"]
    )
    next_day = [
        await studio.session(starts_at=f"{DAY + timedelta(days=1)}T{9 + h:02d}:00", payment=FREE)
        for h in range(3)
    ]
    loc = studio.location["id"]
    cases = {
        f"/v1/sessions?room_id={bay['id']}": in_bay,
        f"/v1/sessions?room_id={studio.room['id']}": in_room + next_day,
        f"/v1/sessions?staff_id={other_trainer['id']}": in_bay,
        f"/v1/sessions?location_id={loc}&staff_id={studio.trainer['id']}": in_room + next_day,
        f"/v1/sessions?on={DAY}&location_id={loc}": in_room + in_bay,
        f"/v1/sessions?on={DAY + timedelta(days=1)}&location_id={loc}": next_day,
        f"/v1/sessions?starts_from={DAY + timedelta(days=1)}T00:00Z": next_day,
        f"/v1/sessions?starts_before={DAY}T08:00Z&room_id={bay['id']}": in_bay[:2],
        f"/v1/sessions?location_id={uuid.uuid4()}": [],
    }
    for url, rows in cases.items():
        pages = await _walk(c, url, h, 2)
        assert _flat(pages) == _in_order(rows), url


async def test_sessions_of_another_tenant_never_appear(studio, tokens, client):
    mine = await _sessions(studio, n_times=2, per_time=2)
    other_tenant = uuid.uuid4()
    other_admin = tokens.headers("admin", tenant_id=other_tenant)
    from .conftest import Studio

    theirs_studio = await Studio(client, other_admin, studio.runtime, other_tenant).setup()
    theirs = await _sessions(theirs_studio, n_times=2, per_time=2)
    assert _flat(await _walk(client, "/v1/sessions", studio.admin, 1)) == _in_order(mine)
    assert _flat(await _walk(client, "/v1/sessions", other_admin, 3)) == _in_order(theirs)
    # a cursor from the other tenant's list pages only this tenant's rows
    their_page = (await client.get("/v1/sessions?limit=1", headers=other_admin)).json()
    r = await client.get(
        f"/v1/sessions?limit=50&cursor={their_page['next_cursor']}", headers=studio.admin
    )
    assert r.status_code == 200
    assert {s["id"] for s in r.json()["items"]} <= {s["id"] for s in mine}
    # their ids filter to nothing here
    r = await client.get(
        f"/v1/sessions?location_id={theirs_studio.location['id']}", headers=studio.admin
    )
    assert r.json() == {"items": [], "next_cursor": None}


async def test_a_cursor_the_list_did_not_give_out_answers_400(studio):
    loc = studio.location["id"]
    for path in (
        "/v1/sessions?",
        "/v1/appointments?",
        "/v1/bookings?",
        f"/v1/calendar?date={DAY}&location_id={loc}&",
    ):
        for cursor in BAD_CURSORS:
            r = await studio.client.get(f"{path}cursor={cursor}", headers=studio.admin)
            assert r.status_code == 400, (path, cursor, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in r.json()["errors"]] == ["cursor"], (path, cursor)


# appointments --------------------------------------------------------------------------
async def test_appointment_pages_see_every_row_once_and_filters_hold(studio, tokens):
    trainers = [studio.trainer, await _staff(studio, "Alex"), await _staff(studio, "Sam")]
    customer = str(uuid.uuid4())
    made = []
    for hour in range(3):
        for i, trainer in enumerate(trainers):  # three at each start: ties break by id
            extra = {"customer_id": customer} if i == 1 else {}
            made.append(
                await _appointment(studio, trainer["id"], f"{DAY}T{9 + hour:02d}:00", **extra)
            )
    for limit in (1, 2, 4, 9, 10):
        pages = await _walk(studio.client, "/v1/appointments", studio.admin, limit)
        assert _flat(pages) == _in_order(made), limit
    by_staff = [a for a in made if a["staff_id"] == trainers[2]["id"]]
    by_customer = [a for a in made if a["customer_id"] == customer]
    cases = {
        f"/v1/appointments?staff_id={trainers[2]['id']}": by_staff,
        f"/v1/appointments?customer_id={customer}": by_customer,
        f"/v1/appointments?location_id={studio.location['id']}": made,
        f"/v1/appointments?room_id={studio.room['id']}": [],
    }
    for url, rows in cases.items():
        assert _flat(await _walk(studio.client, url, studio.admin, 2)) == _in_order(rows), url
    # a customer token pages through its own appointments only
    own = tokens.headers("customer", sub=customer)
    assert _flat(await _walk(studio.client, "/v1/appointments", own, 1)) == _in_order(by_customer)
    r = await studio.client.get(f"/v1/appointments?customer_id={uuid.uuid4()}&limit=1", headers=own)
    assert r.status_code == 404


async def test_appointments_of_another_tenant_never_appear(studio, tokens, client):
    mine = [await _appointment(studio, studio.trainer["id"], f"{DAY}T{h:02d}:00") for h in (9, 10)]
    other_tenant = uuid.uuid4()
    other_admin = tokens.headers("admin", tenant_id=other_tenant)
    from .conftest import Studio

    theirs_studio = await Studio(client, other_admin, studio.runtime, other_tenant).setup()
    theirs = [
        await _appointment(theirs_studio, theirs_studio.trainer["id"], f"{DAY}T{h:02d}:00")
        for h in (9, 10, 11)
    ]
    assert _flat(await _walk(client, "/v1/appointments", studio.admin, 1)) == _in_order(mine)
    assert _flat(await _walk(client, "/v1/appointments", other_admin, 1)) == _in_order(theirs)
    r = await client.get(
        f"/v1/appointments?staff_id={theirs_studio.trainer['id']}", headers=studio.admin
    )
    assert r.json() == {"items": [], "next_cursor": None}


# the day calendar and the feeds ---------------------------------------------------------
async def test_a_busy_day_pages_through_sessions_and_appointments(studio):
    alex = await _staff(studio, "Alex")
    made = await _sessions(studio, n_times=3, per_time=2)
    made += [await _appointment(studio, alex["id"], f"{DAY}T{8 + h:02d}:00") for h in range(3)]
    made += [await _appointment(studio, studio.trainer["id"], f"{DAY}T13:00")]
    await studio.session(starts_at=f"{DAY + timedelta(days=1)}T08:00", payment=FREE)  # not this day
    url = f"/v1/calendar?date={DAY}&location_id={studio.location['id']}"
    whole = (await studio.client.get(url, headers=studio.admin)).json()
    assert whole["next_cursor"] is None  # a usual day is one answer
    assert [e["id"] for e in whole["entries"]] == _in_order(made)
    for limit in (1, 2, 3, 10):
        pages = await _walk(studio.client, url, studio.admin, limit, items="entries")
        assert _flat(pages) == _in_order(made), limit
    trainer = await _walk(
        studio.client, f"{url}&staff_id={alex['id']}", studio.admin, 2, items="entries"
    )
    assert _flat(trainer) == _in_order([m for m in made if m.get("staff_id") == alex["id"]])
    r = await studio.client.get(f"{url}&limit=501", headers=studio.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


async def test_a_feed_with_more_entries_than_it_holds_answers_422(studio, monkeypatch):
    monkeypatch.setattr(calendar, "FEED_LIMIT", 3)
    soon = datetime.now(UTC).date() + timedelta(days=5)
    for days, hour in ((0, 9), (0, 11), (1, 9)):
        await studio.session(starts_at=f"{soon + timedelta(days=days)}T{hour:02d}:00", payment=FREE)
    feed = (
        await studio.client.post(
            "/v1/calendar-feeds", json={"location_id": studio.location["id"]}, headers=studio.admin
        )
    ).json()
    ics = f"/v1/calendar.ics?location_id={studio.location['id']}"

    def events(r):
        assert r.status_code == 200, r.text
        return icalendar.Calendar.from_ical(r.content).walk("VEVENT")

    assert len(events(await studio.client.get(ics, headers=studio.admin))) == 3  # at the limit
    assert len(events(await studio.client.get(feed["url"]))) == 3
    await studio.session(starts_at=f"{soon + timedelta(days=2)}T09:00", payment=FREE)
    for r in (
        await studio.client.get(ics, headers=studio.admin),
        await studio.client.get(feed["url"]),
    ):
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "end"
    # a shorter window fits again, on both
    window = f"start={soon}&end={soon + timedelta(days=1)}"
    assert len(events(await studio.client.get(f"{ics}&{window}", headers=studio.admin))) == 3
    assert len(events(await studio.client.get(f"{feed['url']}?{window}"))) == 3
    r = await studio.client.get(f"{feed['url']}?start={soon}&end={soon - timedelta(days=1)}")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end"


@pytest.mark.parametrize("path", ["/v1/sessions", "/v1/appointments"])
async def test_list_answers_the_page_shape(studio, path):
    r = await studio.client.get(f"{path}?limit=0", headers=studio.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    r = await studio.client.get(path, headers=studio.admin)
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    schema = (await studio.client.get("/openapi.json")).json()["paths"][path]["get"]
    assert {"cursor", "limit"} <= {p["name"] for p in schema["parameters"]}
