"""/v1/calendar: one local day per location, staff member or room; iCalendar feeds (S8)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from frontdesk.kit.auth import StaffPrincipal
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import BoundedDate
from frontdesk.scheduling.api.common import CALENDAR_PAGE, after_start, start_cursor
from frontdesk.scheduling.api.schemas import CalendarDay, CalendarEntry
from frontdesk.scheduling.application import calendar

router = APIRouter(tags=["calendar"])
ICS = "text/calendar; charset=utf-8"


@router.get("/v1/calendar", response_model=CalendarDay)
async def calendar_day(
    date: BoundedDate,
    location_id: uuid.UUID,
    uow: UnitOfWorkDep,
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
    day = await calendar.day(
        uow,
        principal,
        date,
        location_id,
        staff_id=staff_id,
        room_id=room_id,
        after=after_start(cursor),
        limit=limit,
    )
    return CalendarDay(
        date=date,
        location_id=location_id,
        timezone=day.zone.key,
        staff_id=staff_id,
        room_id=room_id,
        entries=[CalendarEntry.of(e) for e in day.entries],
        next_cursor=start_cursor(day.entries[-1]) if day.more and day.entries else None,
    )


@router.get(
    "/v1/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar"},
        422: {"description": "No scope, bad dates, or more entries than one feed holds"},
    },
)
async def calendar_feed(
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    start: BoundedDate | None = None,
    end: BoundedDate | None = None,
) -> Response:
    """An iCalendar feed of one location, staff member or room (default: 30 days back to
    180 days ahead). Times carry the location's TZID with its VTIMEZONE. More entries in
    the window than one feed holds (``FEED_LIMIT``) answer 422 naming ``end``: nothing is
    left out silently. For calendar apps, which cannot send a bearer token, subscribe to
    a /v1/calendar-feeds URL."""
    body = await calendar.staff_feed(
        uow,
        principal,
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        start=start,
        end=end,
    )
    return Response(body, media_type=ICS)
