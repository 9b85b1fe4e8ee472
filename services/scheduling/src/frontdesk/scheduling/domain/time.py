"""Time zones and local times. Stored instants are UTC; people see the location's zone.

A location's zone is a canonical IANA name; times people give (a class at 18:00) are
local wall-clock times there and become UTC instants here: a time the clocks skip in
spring does not exist, a time repeated in autumn means its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.types import canonical_zones

MIN_YEAR, MAX_YEAR = 1970, 2200


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """A canonical IANA zone by name; anything else (abbreviations, offsets, aliases such
    as ``localtime``) is refused naming ``field``."""
    if name not in canonical_zones():
        raise RuleBroken(field, f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleBroken(field, f"{name!r} is not an IANA time zone") from None


def _in_years(year: int, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise RuleBroken(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")


def to_utc(value: datetime, tz: ZoneInfo, field: str = "starts_at") -> datetime:
    """A local wall-clock time in ``tz`` (or an aware time) as a UTC instant.

    A wall time that does not exist (skipped by a spring-forward change) is
    refused; an ambiguous one (repeated in autumn) means its first occurrence.
    """
    _in_years(value.year, field)
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=tz, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != value.replace(fold=0):
        raise RuleBroken(
            field, f"{value:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip it)"
        )
    return instant


def day_bounds(day: date, tz: ZoneInfo, field: str = "date") -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends (23, 24 or 25 hours)."""
    _in_years(day.year, field)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def now() -> datetime:
    return datetime.now(UTC)
