"""Staff working hours: weekly slots in local wall-clock time."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingSlot(BaseModel):
    """One working period on a weekday (local time at the location), e.g.
    ``{"weekday": "mon", "start": "09:00", "end": "17:00"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weekday: str = Field(pattern="^(mon|tue|wed|thu|fri|sat|sun)$")
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> WorkingSlot:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def within_working_hours(
    slots: list[WorkingSlot], starts_at: datetime, ends_at: datetime, tz: ZoneInfo
) -> bool:
    """True when no hours are set (always available) or one slot holds the whole period."""
    if not slots:
        return True
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    if start.date() != end.date() and end.time() != time(0):
        return False
    weekday = WEEKDAYS[start.weekday()]
    end_time = end.time() if end.date() == start.date() else time.max
    return any(
        s.weekday == weekday and s.start <= start.time() and end_time <= s.end for s in slots
    )
