"""Time zones and local times. Stored instants are UTC; people see the location's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class TimeError_(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """An IANA zone by name; anything else (abbreviations, offsets, junk) is refused."""
    if not name or name != name.strip() or name not in _zones():
        raise TimeError_(field, f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError_(field, f"{name!r} is not an IANA time zone") from None


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


MIN_YEAR, MAX_YEAR = 1970, 2200


def to_utc(value: datetime, tz: ZoneInfo, field: str = "starts_at") -> datetime:
    """A local wall-clock time in ``tz`` (or an aware time) as a UTC instant.

    A wall time that does not exist (skipped by a spring-forward change) is
    refused; an ambiguous one (repeated in autumn) means its first occurrence.
    """
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise TimeError_(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=tz, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != value.replace(fold=0):
        raise TimeError_(
            field, f"{value:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip it)"
        )
    return instant


def local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz)


def day_bounds(day: date, tz: ZoneInfo, field: str = "date") -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends (23, 24 or 25 hours)."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise TimeError_(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def now() -> datetime:
    return datetime.now(UTC)
