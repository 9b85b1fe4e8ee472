"""Helpers shared by the scheduling tests."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def next_transition(after: date, zone: ZoneInfo = BERLIN) -> date:
    """The next day from ``after`` on which ``zone`` changes its UTC offset (the clocks
    change at night, so midnight-ish and noon differ); within 170 days."""
    day = after
    for _ in range(170):
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        night = datetime(day.year, day.month, day.day, 0, 30, tzinfo=zone)
        if noon.utcoffset() != night.utcoffset():
            return day
        day += timedelta(days=1)
    raise AssertionError("no DST change found")
