"""Staff working hours: weekly slots in local wall-clock time at the location.

A class, event or appointment with a trainer must lie within one of the trainer's slots
(on the local weekday it starts); a trainer without working hours is always available.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.scheduling.domain import time as tz

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def wall_clock(value: time) -> time:
    """A time of day as a clock at the location shows it: an offset would make it
    another zone's time (and cannot be compared with local times)."""
    if value.tzinfo is not None:
        raise RuleBroken(
            "working_hours", "a local wall-clock time at the location, without a UTC offset"
        )
    return value


@dataclass(frozen=True)
class WorkingSlot:
    """One working period on a weekday, e.g. mon 09:00 to 17:00."""

    weekday: str
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.weekday not in WEEKDAYS:
            raise RuleBroken("weekday", f"one of {', '.join(WEEKDAYS)}")
        wall_clock(self.start)
        wall_clock(self.end)
        if self.end <= self.start:
            raise RuleBroken("end", "end must be after start")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> WorkingSlot:
        """A stored slot. Slots stored with a UTC offset before offsets were refused are
        read as the wall-clock time they name."""
        start, end = (time.fromisoformat(raw[k]).replace(tzinfo=None) for k in ("start", "end"))
        return cls(weekday=raw["weekday"], start=start, end=end)

    def to_json(self) -> dict[str, str]:
        return {
            "weekday": self.weekday,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def holds(self, weekday: str, start: time, end: time) -> bool:
        return self.weekday == weekday and self.start <= start and end <= self.end


@dataclass(frozen=True)
class WorkingHours:
    """A staff member's week; empty: always available."""

    slots: tuple[WorkingSlot, ...] = ()

    @classmethod
    def of(cls, slots: Iterable[WorkingSlot]) -> WorkingHours:
        return cls(tuple(slots))

    @classmethod
    def from_json(cls, raw: Iterable[Mapping[str, Any]]) -> WorkingHours:
        return cls(tuple(WorkingSlot.from_json(s) for s in raw))

    def to_json(self) -> list[dict[str, str]]:
        return [s.to_json() for s in self.slots]

    def covers(self, starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> bool:
        """True when no hours are set or one slot holds the whole period (local time)."""
        if not self.slots:
            return True
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        if start.date() != end.date() and end.time() != time(0):
            return False  # across local midnight: no slot holds it
        weekday = WEEKDAYS[start.weekday()]
        end_time = end.time() if end.date() == start.date() else time.max
        return any(s.holds(weekday, start.time(), end_time) for s in self.slots)

    def ensure_covers(self, starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> None:
        """409 naming ``starts_at`` when the staff member does not work then."""
        if not self.covers(starts_at, ends_at, tz):
            raise ConflictError("Outside the staff member's working hours.", field="starts_at")

    def period(
        self, starts_at: datetime, duration: timedelta, zone: ZoneInfo
    ) -> tuple[datetime, datetime]:
        """The UTC period of something starting at local wall-clock ``starts_at`` in
        ``zone`` (or with its offset) and lasting ``duration``, within these hours."""
        start = tz.to_utc(starts_at, zone)
        end = start + duration
        self.ensure_covers(start, end, zone)
        return start, end
