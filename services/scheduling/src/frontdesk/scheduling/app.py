"""Wiring of the scheduling service: ``python -m frontdesk.scheduling api|worker|relay|migrate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from frontdesk.kit.service import Runtime, ServiceSpec
from frontdesk.scheduling import consumers
from frontdesk.scheduling.adapters.tables import messaging, metadata
from frontdesk.scheduling.api import (
    appointments,
    bookings,
    calendar,
    feeds,
    resources,
    sessions,
)
from frontdesk.scheduling.application import bookings as booking_saga
from frontdesk.scheduling.application import series
from frontdesk.scheduling.settings import SchedulingSettings

SchedulingRuntime = Runtime[SchedulingSettings]


def routers() -> list[APIRouter]:
    return [
        resources.router,
        sessions.router,
        bookings.router,
        appointments.router,
        calendar.router,
        feeds.router,
    ]


async def saga_timeouts(runtime: SchedulingRuntime) -> None:
    """Pending bookings older than the saga timeout are rejected; waiting bookings of
    sessions that started leave the waitlist."""
    await booking_saga.expire_pending(runtime.uow, timeout=runtime.settings.saga_timeout_seconds)
    await booking_saga.close_waitlists(runtime.uow)


async def grow_series(runtime: SchedulingRuntime) -> None:
    await series.grow_open_series(runtime.uow)


def periodic() -> Sequence[tuple[float, Callable[[SchedulingRuntime], Any]]]:
    settings = SchedulingSettings()
    return [
        (settings.saga_sweep_seconds, saga_timeouts),
        (settings.series_grow_seconds, grow_series),
    ]


SPEC = ServiceSpec(
    name="scheduling",
    port=8003,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=SchedulingSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    periodic=periodic,
    untraced_paths=(r"/v1/calendar-feeds/[^/]+\.ics",),  # the path is the feed's secret
    description="Staff, locations, rooms, classes with capacity, appointments, bookings and "
    "the booking saga, check-in, calendars and iCalendar feeds.",
)
