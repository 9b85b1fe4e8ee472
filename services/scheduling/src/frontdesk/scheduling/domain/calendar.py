"""Calendars: which entries a calendar holds (its scope) and the window of a feed."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from frontdesk.kit.errors import RuleBroken
from frontdesk.scheduling.domain import time as tz

FEED_DAYS_BACK, FEED_DAYS_AHEAD, FEED_MAX_DAYS = 30, 180, 800
SCOPES = ("location_id", "staff_id", "room_id")


@dataclasses.dataclass(frozen=True)
class Scope:
    """What a calendar shows: one location, staff member or room (staff calendars), or
    the sessions one customer booked and its appointments."""

    location_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None

    @classmethod
    def for_staff(
        cls,
        location_id: uuid.UUID | None,
        staff_id: uuid.UUID | None,
        room_id: uuid.UUID | None,
    ) -> Scope:
        if location_id is None and staff_id is None and room_id is None:
            raise RuleBroken("location_id", "give location_id, staff_id or room_id")
        return cls(location_id=location_id, staff_id=staff_id, room_id=room_id)

    @classmethod
    def for_customer(
        cls,
        customer_id: uuid.UUID,
        location_id: uuid.UUID | None = None,
        staff_id: uuid.UUID | None = None,
        room_id: uuid.UUID | None = None,
    ) -> Scope:
        """A customer's calendar holds its own bookings: it names no other scope."""
        for field, value in zip(SCOPES, (location_id, staff_id, room_id), strict=True):
            if value is not None:
                raise RuleBroken(field, "a customer's feed holds its own bookings; leave this out")
        return cls(customer_id=customer_id)


def feed_window(start: date | None, end: date | None, today: date) -> tuple[datetime, datetime]:
    """The UTC bounds of a feed: ``start`` to ``end`` (whole days), by default 30 days
    back to 180 days ahead, at most 800 days; refused naming the field otherwise."""
    first = start or today - timedelta(days=FEED_DAYS_BACK)
    last = end or today + timedelta(days=FEED_DAYS_AHEAD)
    utc = ZoneInfo("UTC")
    lower = tz.day_bounds(first, utc, "start")[0]
    upper = tz.day_bounds(last, utc, "end")[1]
    if last < first:
        raise RuleBroken("end", "end is before start")
    if (last - first).days > FEED_MAX_DAYS:
        raise RuleBroken("end", f"at most {FEED_MAX_DAYS} days per feed")
    return lower, upper
