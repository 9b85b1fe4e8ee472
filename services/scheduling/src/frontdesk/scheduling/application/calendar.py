"""Calendars: one local day at a location (paged), and iCalendar renderings of a scope
(a location, staff member or room; or a customer's own bookings) over a window."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.application.common import location, repositories
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.appointments import Appointment
from frontdesk.scheduling.domain.calendar import Scope, feed_window
from frontdesk.scheduling.domain.sessions import Session

# A feed spans up to 800 days: far more than a page of a day's calendar (a location with
# ten classes a day has 2,100 in the default 210 days). Calendar apps cannot follow a
# cursor, so a window holding more entries than this is refused naming ``end`` (ask for
# a shorter window) instead of a feed with some events silently missing.
FEED_LIMIT = 20_000

# A calendar entry's iCalendar STATUS.
ICS_STATUS = {
    "scheduled": "CONFIRMED",
    "confirmed": "CONFIRMED",
    "draft": "TENTATIVE",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CONFIRMED",
}


@dataclass(frozen=True)
class Entry:
    """A class, event or appointment on a calendar, with its location's zone."""

    kind: str
    id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    location_id: uuid.UUID
    staff_id: uuid.UUID | None
    room_id: uuid.UUID | None
    status: str
    capacity: int | None = None
    seats_taken: int | None = None
    customer_id: uuid.UUID | None = None

    @classmethod
    def of_session(cls, s: Session) -> Entry:
        return cls(
            kind=s.kind,
            id=s.id,
            title=s.title,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            zone=s.zone,
            location_id=s.location_id,
            staff_id=s.staff_id,
            room_id=s.room_id,
            status=s.status,
            capacity=s.capacity,
            seats_taken=s.seats_taken,
        )

    @classmethod
    def of_appointment(cls, a: Appointment) -> Entry:
        return cls(
            kind="appointment",
            id=a.id,
            title=a.title,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            zone=a.zone,
            location_id=a.location_id,
            staff_id=a.staff_id,
            room_id=a.room_id,
            status=a.status,
            customer_id=a.customer_id,
        )


async def _entries(
    repos: Repositories,
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
) -> tuple[list[Entry], bool]:
    """The first ``limit`` sessions and appointments of ``scope`` overlapping
    [start, end) by (starts_at, id), those after ``after`` only, and whether more follow;
    a customer's scope: the sessions it booked and its own appointments."""
    # limit + 1 of each: the first limit + 1 of the merged order are among them
    sessions = await repos.sessions.page(
        location_id=scope.location_id,
        staff_id=scope.staff_id,
        room_id=scope.room_id,
        starts_from=start,
        starts_before=end,
        booked_by=scope.customer_id,
        after=after,
        limit=limit + 1,
    )
    appointments = await repos.appointments.page(
        location_id=scope.location_id,
        staff_id=scope.staff_id,
        room_id=scope.room_id,
        customer_id=scope.customer_id,
        starts_from=start,
        starts_before=end,
        after=after,
        limit=limit + 1,
    )
    out = [Entry.of_session(s) for s in sessions]
    out += [Entry.of_appointment(a) for a in appointments]
    # the database's order: a uuid compares as its 16 bytes, as uuid.UUID does
    out.sort(key=lambda entry: (entry.starts_at, entry.id))
    return out[:limit], len(out) > limit


@dataclass(frozen=True)
class Day:
    day: date
    zone: ZoneInfo
    entries: list[Entry]
    more: bool


async def day(
    uow: UnitOfWork,
    principal: Principal,
    day: date,
    location_id: uuid.UUID,
    *,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Day:
    """Classes, events and appointments of one local day at a location, optionally of one
    staff member or room, by start (then id): up to ``limit``, and whether more follow."""
    repos = repositories(uow, principal.tenant_id)
    _, zone = await location(repos, location_id)
    start, end = tz.day_bounds(day, zone)
    scope = Scope(location_id=location_id, staff_id=staff_id, room_id=room_id)
    entries, more = await _entries(repos, scope, start, end, after=after, limit=limit)
    return Day(day=day, zone=zone, entries=entries, more=more)


async def render_ics(
    repos: Repositories,
    scope: Scope,
    window: tuple[datetime, datetime],
    name: str | None = None,
) -> bytes:
    """An RFC 5545 calendar of the entries in ``window``: each VEVENT's times carry the
    location's TZID, with a VTIMEZONE for every zone used. Every entry or none: more than
    ``FEED_LIMIT`` are refused naming ``end``."""
    entries, more = await _entries(repos, scope, *window, limit=FEED_LIMIT)
    if more:
        raise RuleBroken(
            "end",
            f"more than {FEED_LIMIT} entries between start and end; "
            "ask for a shorter window (start, end)",
            title="Too many entries for one feed",
        )
    names = await repos.locations.names({entry.location_id for entry in entries})
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Frontdesk//Scheduling//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name or "Frontdesk")
    stamp = tz.now().replace(microsecond=0)
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", f"{entry.kind}-{entry.id}@frontdesk")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.starts_at.astimezone(entry.zone).replace(microsecond=0))
        event.add("dtend", entry.ends_at.astimezone(entry.zone).replace(microsecond=0))
        event.add("summary", entry.title)
        event.add("status", ICS_STATUS.get(entry.status, "CONFIRMED"))
        event.add("categories", [entry.kind])
        if names.get(entry.location_id):
            event.add("location", names[entry.location_id])
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


async def staff_feed(
    uow: UnitOfWork,
    principal: Principal,
    *,
    location_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
) -> bytes:
    """The iCalendar feed of one location, staff member or room (default window: 30 days
    back to 180 days ahead)."""
    scope = Scope.for_staff(location_id, staff_id, room_id)
    window = feed_window(start, end, tz.now().date())
    repos = repositories(uow, principal.tenant_id)
    if location_id is not None:
        await location(repos, location_id)
    return await render_ics(repos, scope, window)
