"""S10: recurring classes and appointments (RFC 5545 rules), each occurrence a real
session or appointment, wall-clock time kept across DST; change or cancel one, or this
and all following."""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.contracts.credits import DebitSucceeded
from frontdesk.contracts.customers import CustomerStatusChanged
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.testing import wait_for
from frontdesk.scheduling.application.common import repositories
from frontdesk.scheduling.domain.series import GROW_WHEN_LEFT, local_shift, occurrences, shifted

BERLIN = ZoneInfo("Europe/Berlin")
PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}


def next_weekday_before(month: int, weekday: int = 1) -> date:
    """A Tuesday (weekday 1) about three weeks before the next DST change of ``month``
    in Europe/Berlin (the last Sunday of March or October), in the future."""
    today = datetime.now(UTC).date()
    for year in (today.year, today.year + 1):
        change = date(year, month, 31)
        while change.weekday() != 6:
            change -= timedelta(days=1)
        day = change - timedelta(days=20)
        while day.weekday() != weekday:
            day += timedelta(days=1)
        if day > today + timedelta(days=1):
            return day
    raise AssertionError("no change ahead")


# the rule, without a database -----------------------------------------------------------
def test_a_weekly_rule_keeps_the_local_time_across_both_changes():
    starts = occurrences("FREQ=WEEKLY;COUNT=40", datetime(2027, 3, 2, 18), BERLIN)
    assert len(starts) == 40
    local = [s.astimezone(BERLIN) for s in starts]
    assert {(t.hour, t.minute) for t in local} == {(18, 0)}
    assert {t.weekday() for t in local} == {1}
    offsets = {t.utcoffset() for t in local}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # winter and summer


def test_a_skipped_time_takes_the_offset_before_the_gap_and_a_repeated_one_its_first():
    daily = occurrences("FREQ=DAILY;COUNT=3", datetime(2027, 3, 27, 2, 30), BERLIN)
    assert [f"{s.astimezone(BERLIN):%d %H:%M}" for s in daily] == [
        "27 02:30",
        "28 03:30",
        "29 02:30",
    ]
    autumn = occurrences("FREQ=DAILY;COUNT=2", datetime(2027, 10, 30, 2, 30), BERLIN)
    assert autumn[1] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 +02:00, the first


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY",  # open-ended, with no window to expand in
        "FREQ=HOURLY;COUNT=3",  # sub-daily
        "FREQ=DAILY;COUNT=400",  # too many
        "FREQ=WEEKLY;UNTIL=20270101",  # UNTIL not in UTC
        "FREQ=WEEKLY;COUNT=x",
        "FREQ=WEEKLY;COUNT=2\nDTSTART:20270101T000000",
        "nonsense",
        "",
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rule):
    with pytest.raises(RuleBroken) as refused:
        occurrences(rule, datetime(2026, 12, 1, 18), BERLIN)
    assert refused.value.field == "rrule"


def test_a_shift_is_on_the_wall_clock():
    before = datetime(2027, 3, 23, 17, tzinfo=UTC)  # 18:00 CET
    after = datetime(2027, 3, 23, 18, tzinfo=UTC)  # 19:00 CET
    shift = local_shift(before, after, BERLIN)
    assert shift == timedelta(hours=1)
    later = datetime(2027, 3, 30, 16, tzinfo=UTC)  # 18:00 CEST
    assert f"{shifted(later, shift, BERLIN):%H:%M}" == "19:00"


# over HTTP -------------------------------------------------------------------------------
def series_body(studio, first: str, rule: str, **extra):
    return {
        "title": "Yoga",
        "location_id": studio.location["id"],
        "room_id": studio.room["id"],
        "staff_id": studio.trainer["id"],
        "starts_at": first,
        "duration_minutes": 60,
        "capacity": 2,
        "payment": PAY,
        "rrule": rule,
        **extra,
    }


async def make_series(studio, first: date, rule: str = "FREQ=WEEKLY;COUNT=10", **extra):
    r = await studio.client.post(
        "/v1/sessions/series",
        json=series_body(studio, f"{first}T18:00", rule, **extra),
        headers=studio.admin,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def make_appointment_series(
    studio, first: date, rule: str, customer: uuid.UUID | None = None
) -> dict:
    r = await studio.client.post(
        "/v1/appointments/series",
        json={
            "location_id": studio.location["id"],
            "staff_id": studio.trainer["id"],
            "customer_id": str(customer or uuid.uuid4()),
            "title": "Physio",
            "starts_at": f"{first}T09:00",
            "duration_minutes": 45,
            "status": "confirmed",
            "rrule": rule,
        },
        headers=studio.admin,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("month", [3, 10])
async def test_a_weekly_class_stays_at_18_local_across_the_change(studio, month):
    first = next_weekday_before(month)
    series = await make_series(studio, first, "FREQ=WEEKLY;COUNT=6")
    occurrences_ = series["sessions"]
    assert len(occurrences_) == series["occurrences"] == 6
    assert {s["local_starts_at"][11:16] for s in occurrences_} == {"18:00"}
    utc_hours = {datetime.fromisoformat(s["starts_at"]).astimezone(UTC).hour for s in occurrences_}
    assert utc_hours == {16, 17}  # the offset changed; the local time did not
    assert all(s["series_id"] == series["id"] for s in occurrences_)
    # Each occurrence is a real session: listed, fetched, bookable.
    one = occurrences_[3]
    r = await studio.client.get(f"/v1/sessions/{one['id']}", headers=studio.admin)
    assert r.json()["local_starts_at"] == one["local_starts_at"]
    booking = await studio.book(one)
    assert booking["status"] == "confirmed"
    r = await studio.client.get(f"/v1/sessions/series/{series['id']}", headers=studio.admin)
    assert [s["id"] for s in r.json()["sessions"]] == [s["id"] for s in occurrences_]


async def test_one_clashing_occurrence_refuses_the_whole_series(studio):
    first = next_weekday_before(3)
    clash = datetime.combine(first + timedelta(days=14), datetime.min.time()).replace(hour=18)
    await studio.session(starts_at=clash.isoformat())  # the same trainer and room
    r = await studio.client.post(
        "/v1/sessions/series",
        json=series_body(studio, f"{first}T18:00", "FREQ=WEEKLY;COUNT=4"),
        headers=studio.admin,
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "staff_id"
    assert str(first + timedelta(days=14)) in r.json()["detail"]
    listed = await studio.client.get(
        "/v1/sessions", params={"location_id": studio.location["id"]}, headers=studio.admin
    )
    assert len(listed.json()["items"]) == 1  # nothing of the series was made


async def test_bad_series_requests_answer_422_naming_the_field(studio):
    first = next_weekday_before(3)
    for rule in ("FREQ=WEEKLY;UNTIL=2027", "FREQ=MINUTELY;COUNT=2", "bogus"):
        r = await studio.client.post(
            "/v1/sessions/series",
            json=series_body(studio, f"{first}T18:00", rule),
            headers=studio.admin,
        )
        assert r.status_code == 422, rule
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "rrule"
    r = await studio.client.post(
        "/v1/sessions/series",
        json=series_body(studio, f"{first}T18:00", "FREQ=WEEKLY;COUNT=2", capacity=0),
        headers=studio.admin,
    )
    assert r.status_code == 422


async def test_change_one_or_this_and_all_following(studio):
    series = await make_series(studio, next_weekday_before(3), "FREQ=WEEKLY;COUNT=6")
    occ = series["sessions"]
    # One: only the third gets a new title.
    r = await studio.client.patch(
        f"/v1/sessions/{occ[2]['id']}", json={"title": "Yin"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    # This and following: from the fourth on, an hour later (across the DST change) and
    # a new capacity.
    r = await studio.client.patch(
        f"/v1/sessions/{occ[3]['id']}",
        params={"scope": "following"},
        json={"starts_at": occ[3]["local_starts_at"][:11] + "19:00", "capacity": 5},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    r = await studio.client.get(f"/v1/sessions/series/{series['id']}", headers=studio.admin)
    now = r.json()["sessions"]
    assert [s["local_starts_at"][11:16] for s in now] == ["18:00"] * 3 + ["19:00"] * 3
    assert [s["capacity"] for s in now] == [2, 2, 2, 5, 5, 5]
    assert [s["title"] for s in now] == ["Yoga", "Yoga", "Yin", "Yoga", "Yoga", "Yoga"]
    changed = await studio.published("scheduling.session.changed.v1")
    assert len(changed) == 4
    # Not an occurrence: "following" has nothing to follow.
    alone = await studio.session()
    r = await studio.client.patch(
        f"/v1/sessions/{alone['id']}",
        params={"scope": "following"},
        json={"title": "X"},
        headers=studio.admin,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "scope"


async def test_cancel_this_and_following_refunds_and_tells_every_attendee(studio):
    series = await make_series(studio, next_weekday_before(10), "FREQ=WEEKLY;COUNT=5")
    occ = series["sessions"]
    paid = [await studio.book(s) for s in occ]
    r = await studio.client.post(
        f"/v1/sessions/{occ[2]['id']}/cancel",
        params={"scope": "following"},
        json={"reason": "Trainer leaves"},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    r = await studio.client.get(f"/v1/sessions/series/{series['id']}", headers=studio.admin)
    assert [s["status"] for s in r.json()["sessions"]] == ["scheduled"] * 2 + ["cancelled"] * 3
    cancelled = await studio.published("scheduling.booking.cancelled.v1")
    assert {e["booking_id"] for e in cancelled} == {b["id"] for b in paid[2:]}
    assert all(e["refund"] and e["cancelled_by"] == "studio" for e in cancelled)
    told = await studio.published("scheduling.session.cancelled.v1")
    assert len(told) == 3
    # One alone: the first.
    r = await studio.client.post(
        f"/v1/sessions/{occ[0]['id']}/cancel", json={}, headers=studio.admin
    )
    assert r.status_code == 200
    r = await studio.client.get(f"/v1/sessions/{occ[1]['id']}", headers=studio.admin)
    assert r.json()["status"] == "scheduled"


async def test_recurring_appointments_cancel_following(studio):
    series = await make_appointment_series(studio, next_weekday_before(3), "FREQ=WEEKLY;COUNT=4")
    appts = series["appointments"]
    assert {a["local_starts_at"][11:16] for a in appts} == {"09:00"}
    assert len({a["local_starts_at"][19:] for a in appts}) == 2  # both offsets
    confirmed = await studio.published("scheduling.booking.confirmed.v1")
    assert len(confirmed) == 4
    assert confirmed[0]["staff_id"] == studio.trainer["id"]
    r = await studio.client.post(
        f"/v1/appointments/{appts[1]['id']}/cancel",
        params={"scope": "following"},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    r = await studio.client.get(f"/v1/appointments/series/{series['id']}", headers=studio.admin)
    assert [a["status"] for a in r.json()["appointments"]] == ["confirmed"] + ["cancelled"] * 3
    assert len(await studio.published("scheduling.booking.cancelled.v1")) == 3
    # The freed slots are free again: a class fits where an occurrence was.
    freed = datetime.fromisoformat(appts[2]["starts_at"])
    await studio.session(starts_at=freed.isoformat())


async def test_a_credits_occurrence_pays_like_any_session(studio):
    series = await make_series(
        studio,
        next_weekday_before(10),
        "FREQ=WEEKLY;COUNT=2",
        payment={"method": "credits", "credits": 2},
    )
    booking = await studio.book(series["sessions"][1])
    assert booking["status"] == "pending"
    await studio.publish(
        DebitSucceeded(booking_id=uuid.UUID(booking["id"]), customer_id=uuid.uuid4(), credits=2),
        uuid.uuid4(),
    )
    await studio.wait_status(booking["id"], "confirmed")


# open-ended series -------------------------------------------------------------------------
def test_an_open_ended_rule_is_made_half_a_year_ahead_and_grows_from_its_last():
    from frontdesk.scheduling.domain.series import OPEN_WINDOW, Series

    now = datetime(2027, 1, 4, tzinfo=UTC)
    series, starts = Series.plan(
        tenant_id=uuid.uuid4(),
        kind="session",
        rule="FREQ=WEEKLY;BYDAY=TU",
        first=datetime(2027, 1, 5, 18),
        zone=BERLIN,
        now=now,
    )
    assert (
        series.open_ended
        and series.made_until == datetime(2027, 1, 5, 17, tzinfo=UTC) + OPEN_WINDOW
    )
    assert len(starts) == series.occurrences == 27
    assert not series.due_to_grow(now + timedelta(days=1))
    later = now + timedelta(days=30)
    assert series.due_to_grow(later)
    grown, more = series.grown(later, starts[-1])
    assert more[0] - starts[-1] in (timedelta(days=7), timedelta(hours=167), timedelta(hours=169))
    assert {f"{s.astimezone(BERLIN):%a %H:%M}" for s in more} == {"Tue 18:00"}
    assert grown.made(len(more)).occurrences == 27 + len(more)
    assert grown.made_until == later + OPEN_WINDOW
    assert not grown.due_to_grow(later)
    assert not series.ended(starts[3]).due_to_grow(later)


async def test_an_open_ended_weekly_class_grows_keeps_its_changes_and_stops_when_cancelled(
    studio,
):
    from frontdesk.scheduling.application.series import grow_open_series

    series = await make_series(studio, next_weekday_before(3), "FREQ=WEEKLY")
    made = series["sessions"]
    assert series["open_ended"] is True and series["ended_from"] is None
    assert 26 <= len(made) <= 28  # about half a year of Tuesdays
    assert {s["local_starts_at"][11:16] for s in made} == {"18:00"}
    # The last two move to 19:00 ("this and all following"): what grows keeps that.
    r = await studio.client.patch(
        f"/v1/sessions/{made[-2]['id']}",
        params={"scope": "following"},
        json={"starts_at": made[-2]["local_starts_at"][:11] + "19:00"},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    # The trainer teaches elsewhere two weeks after the last: that occurrence is left out.
    last_day = date.fromisoformat(made[-1]["local_starts_at"][:10])
    taken = last_day + timedelta(days=14)
    await studio.session(starts_at=f"{taken}T19:00:00+02:00")

    # A month after the window began running out.
    later = datetime.fromisoformat(series["made_until"]) - GROW_WHEN_LEFT + timedelta(days=30)
    assert await grow_open_series(studio.runtime.uow, now=later) >= 4
    assert await grow_open_series(studio.runtime.uow, now=later) == 0  # grown already
    r = await studio.client.get(f"/v1/sessions/series/{series['id']}", headers=studio.admin)
    now = r.json()
    new = now["sessions"][len(made) :]
    days = [date.fromisoformat(s["local_starts_at"][:10]) for s in new]
    assert days[0] == last_day + timedelta(days=7)
    assert taken not in days and last_day + timedelta(days=21) in days
    assert {s["local_starts_at"][11:16] for s in new} == {"19:00"}
    assert {d.weekday() for d in days} == {1}
    assert now["occurrences"] == len(now["sessions"])
    # Every new occurrence is a real session, bookable.
    assert (await studio.book(new[0]))["status"] == "confirmed"

    # Cancelling this and all following ends the series: it grows no more.
    r = await studio.client.post(
        f"/v1/sessions/{new[1]['id']}/cancel",
        params={"scope": "following"},
        json={"reason": "Course ends"},
        headers=studio.admin,
    )
    assert r.status_code == 200, r.text
    r = await studio.client.get(f"/v1/sessions/series/{series['id']}", headers=studio.admin)
    assert r.json()["ended_from"] == new[1]["recurrence_at"]
    much_later = later + timedelta(days=120)
    assert await grow_open_series(studio.runtime.uow, now=much_later) == 0


async def test_an_open_ended_appointment_series_grows_until_the_customer_is_blocked(studio):
    from frontdesk.scheduling.application.series import grow_open_series

    customer = uuid.uuid4()
    series = await make_appointment_series(studio, next_weekday_before(10), "FREQ=WEEKLY", customer)
    first_count = len(series["appointments"])
    later = datetime.fromisoformat(series["made_until"]) - GROW_WHEN_LEFT + timedelta(days=30)
    before = len(await studio.published("scheduling.booking.confirmed.v1"))
    grew = await grow_open_series(studio.runtime.uow, now=later)
    assert grew >= 4
    # Each new confirmed appointment is announced as a confirmed booking.
    assert len(await studio.published("scheduling.booking.confirmed.v1")) == before + grew
    r = await studio.client.get(f"/v1/appointments/series/{series['id']}", headers=studio.admin)
    assert len(r.json()["appointments"]) == first_count + grew
    assert {a["local_starts_at"][11:16] for a in r.json()["appointments"]} == {"09:00"}

    # Blocked, the customer's series ends: nothing more is made for them.
    await studio.publish(
        CustomerStatusChanged(customer_id=customer, old_status="active", new_status="blocked"),
        customer,
        version=3,
    )

    async def blocked() -> bool:
        async with studio.runtime.uow() as uow:
            standing = await repositories(uow, studio.tenant_id).customers.standing(customer)
        return not standing.may_book

    await wait_for(blocked)
    assert await grow_open_series(studio.runtime.uow, now=later + timedelta(days=60)) == 0
    r = await studio.client.get(f"/v1/appointments/series/{series['id']}", headers=studio.admin)
    assert r.json()["ended_from"] is not None
    assert len(r.json()["appointments"]) == first_count + grew
