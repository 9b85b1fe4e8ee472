"""Engagement (C3): derived from the bookings count and the last booking, at read time.

The same rule is written once more as SQL in ``adapters.queries.engagement_sql``
(for filtering in the database); a test checks they agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

LAPSED_AFTER = timedelta(days=90)
REGULAR_FROM = 5
GROWING_FROM = 3


class Engagement(StrEnum):
    none = "none"  # never booked
    lapsed = "lapsed"  # last booking 90+ days ago
    regular = "regular"  # 5+ bookings
    growing = "growing"  # 3-4 bookings
    active = "active"  # 1-2 bookings, the last within 90 days


def engagement(bookings: int, last_booking_at: datetime | None, now: datetime) -> Engagement:
    """Checked in this order: none, lapsed, regular, growing, active."""
    if bookings <= 0:
        return Engagement.none
    if last_booking_at is not None and last_booking_at <= now - LAPSED_AFTER:
        return Engagement.lapsed
    if bookings >= REGULAR_FROM:
        return Engagement.regular
    if bookings >= GROWING_FROM:
        return Engagement.growing
    return Engagement.active
