"""/v1/calendar: one local day per location, staff member or room; iCalendar feeds (S8)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import icalendar
from fastapi import APIRouter, Query, Response

from frontdesk.kit.auth import StaffPrincipal
from frontdesk.kit.problems import InvalidInput
from frontdesk.kit.service import RuntimeDep
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import (
    CALENDAR_PAGE,
    after_start,
    domain_errors,
    location_zone,
    location_zones,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import CalendarDay, CalendarEntry
from frontdesk.scheduling.domain import time as tz

router = APIRouter(tags=["calendar"])
ICS = "text/calendar; charset=utf-8"


def _entry(kind: str, row: Any, zone: ZoneInfo, **extra: Any) -> CalendarEntry:
    start, end = row["starts_at"].astimezone(zone), row["ends_at"].astimezone(zone)
    return CalendarEntry(
        kind=kind,
        id=row["id"],
        title=row["title"],
        starts_at=row["starts_at"],  # type: ignore[arg-type]
        ends_at=row["ends_at"],
        local_starts_at=start,
        local_ends_at=end,
        local_start=f"{start:%H:%M}",
        local_end=f"{end:%H:%M}",
        location_id=row["location_id"],
        staff_id=row["staff_id"],
        room_id=row["room_id"],
        status=row["status"],
        **extra,
    )


async def _entries(
    repo: Repository,
    *,
    location_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
    start: datetime,
    end: datetime,
    customer_id: uuid.UUID | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
) -> tuple[list[tuple[CalendarEntry, ZoneInfo]], bool]:
    """The first ``limit`` sessions and appointments overlapping [start, end) by
    (starts_at, id), those after ``after`` only, and whether more follow;
    ``customer_id``: only the sessions that customer booked and its own appointments."""
    zones = await location_zones(repo)
    out: list[tuple[CalendarEntry, ZoneInfo]] = []
    # limit + 1 of each: the first limit + 1 of the merged order are among them
    for s in await repo.list_sessions(
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        starts_from=start,
        starts_before=end,
        booked_by=customer_id,
        after=after,
        limit=limit + 1,
    ):
        zone = zones[s["location_id"]]
        out.append(
            (_entry(s["kind"], s, zone, capacity=s["capacity"], seats_taken=s["seats_taken"]), zone)
        )
    for a in await repo.list_appointments(
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        customer_id=customer_id,
        starts_from=start,
        starts_before=end,
        after=after,
        limit=limit + 1,
    ):
        zone = zones[a["location_id"]]
        out.append((_entry("appointment", a, zone, customer_id=a["customer_id"]), zone))
    # the database's order: a uuid compares as its 16 bytes, as uuid.UUID does
    out.sort(key=lambda pair: (pair[0].starts_at, pair[0].id))
    return out[:limit], len(out) > limit


@router.get("/v1/calendar", response_model=CalendarDay)
async def calendar_day(
    date: date,
    location_id: uuid.UUID,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=CALENDAR_PAGE)] = CALENDAR_PAGE,
    cursor: str | None = None,
) -> CalendarDay:
    """Classes, events and appointments of one local day at a location, in its time zone,
    optionally for one staff member or one room/bay, by start (then id). Up to ``limit``
    entries (by default the most a page holds); when the day has more, ``next_cursor``
    asks for the rest (nothing is left out silently)."""
    after = after_start(cursor)
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        _, zone = await location_zone(repo, location_id)
        with domain_errors():
            start, end = tz.day_bounds(date, zone)
        entries, more = await _entries(
            repo,
            location_id=location_id,
            staff_id=staff_id,
            room_id=room_id,
            start=start,
            end=end,
            after=after,
            limit=limit,
        )
    last = entries[-1][0] if entries else None
    return CalendarDay(
        date=date,
        location_id=location_id,
        timezone=zone.key,
        staff_id=staff_id,
        room_id=room_id,
        entries=[e for e, _ in entries],
        next_cursor=(
            start_cursor({"starts_at": last.starts_at, "id": last.id}) if more and last else None
        ),
    )


STATUS = {
    "scheduled": "CONFIRMED",
    "confirmed": "CONFIRMED",
    "draft": "TENTATIVE",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CONFIRMED",
}


# A feed spans up to 800 days: far more than a page of a day's calendar (a location with
# ten classes a day has 2,100 in the default 210 days). Calendar apps cannot follow a
# cursor, so a window holding more entries than this answers 422 naming ``end`` (ask for
# a shorter window) instead of a feed with some events silently missing.
FEED_LIMIT = 20_000


def feed_window(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """The UTC bounds of a feed: ``start`` to ``end`` (whole days), by default 30 days
    back to 180 days ahead; 422 naming the field for dates out of range."""
    today = tz.now().date()
    first = start or today - timedelta(days=30)
    last = end or today + timedelta(days=180)
    with domain_errors():
        lower = tz.day_bounds(first, ZoneInfo("UTC"), "start")[0]
        upper = tz.day_bounds(last, ZoneInfo("UTC"), "end")[1]
    if last < first:
        raise InvalidInput.for_field("end", "end is before start")
    if (last - first).days > 800:
        raise InvalidInput.for_field("end", "at most 800 days per feed")
    return lower, upper


async def render_ics(
    repo: Repository,
    *,
    window: tuple[datetime, datetime],
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    name: str | None = None,
) -> bytes:
    """An RFC 5545 calendar of the entries in ``window``: each VEVENT's times carry the
    location's TZID, with a VTIMEZONE for every zone used. Every entry or none: more than
    ``FEED_LIMIT`` answer 422 naming ``end``."""
    names = {loc["id"]: loc["name"] for loc in await repo.list_locations()}
    entries, more = await _entries(
        repo,
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        customer_id=customer_id,
        start=window[0],
        end=window[1],
        limit=FEED_LIMIT,
    )
    if more:
        raise InvalidInput.for_field(
            "end",
            f"more than {FEED_LIMIT} entries between start and end; "
            "ask for a shorter window (start, end)",
            title="Too many entries for one feed",
        )
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Frontdesk//Scheduling//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name or "Frontdesk")
    stamp = tz.now().replace(microsecond=0)
    for entry, zone in entries:
        event = icalendar.Event()
        event.add("uid", f"{entry.kind}-{entry.id}@frontdesk")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.starts_at.astimezone(zone).replace(microsecond=0))
        event.add("dtend", entry.ends_at.astimezone(zone).replace(microsecond=0))
        event.add("summary", entry.title)
        event.add("status", STATUS.get(entry.status, "CONFIRMED"))
        event.add("categories", [entry.kind])
        if names.get(entry.location_id):
            event.add("location", names[entry.location_id])
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


@router.get(
    "/v1/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar"},
        422: {"description": "No scope, bad dates, or more entries than one feed holds"},
    },
)
async def calendar_feed(
    rt: RuntimeDep,
    principal: StaffPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    """An iCalendar feed of one location, staff member or room (default: 30 days back to
    180 days ahead). Times carry the location's TZID with its VTIMEZONE. More entries in
    the window than one feed holds (``FEED_LIMIT``) answer 422 naming ``end``: nothing is
    left out silently. For calendar apps, which cannot send a bearer token, subscribe to
    a /v1/calendar-feeds URL."""
    if location_id is None and staff_id is None and room_id is None:
        raise InvalidInput.for_field("location_id", "give location_id, staff_id or room_id")
    window = feed_window(start, end)
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        if location_id is not None:
            await location_zone(repo, location_id)
        body = await render_ics(
            repo, window=window, location_id=location_id, staff_id=staff_id, room_id=room_id
        )
    return Response(body, media_type=ICS)
