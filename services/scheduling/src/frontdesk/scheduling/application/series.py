"""Recurring classes and appointments: a series is created whole (every occurrence a
real session or appointment, holding its trainer and room as one made alone) or not at
all. Changing or cancelling "this and following" lives with the sessions and
appointments (``scope``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application.appointments import NewAppointment, check_asset
from frontdesk.scheduling.application.common import (
    check_room,
    location,
    repositories,
    staff_hours,
)
from frontdesk.scheduling.application.sessions import NewSession
from frontdesk.scheduling.domain.appointments import Appointment
from frontdesk.scheduling.domain.series import Series, SeriesKind
from frontdesk.scheduling.domain.sessions import Session


@dataclass(frozen=True)
class SeriesView:
    series: Series
    sessions: list[Session]
    appointments: list[Appointment]


@contextmanager
def _on(start: datetime, zone: ZoneInfo) -> Iterator[None]:
    """A refused occurrence names its local date (the whole series is refused)."""
    try:
        yield
    except (ConflictError, RuleBroken) as error:
        error.message = (
            f"The occurrence on {start.astimezone(zone):%Y-%m-%d %H:%M}: {error.message}"
        )
        raise


async def _plan(
    principal: Principal, kind: SeriesKind, rule: str, first: datetime, zone: ZoneInfo
) -> tuple[Series, list[datetime]]:
    """Expand the rule in a worker thread: a rule that never matches costs dateutil a
    search up to the year 9999, which must not stall every other request meanwhile."""
    return await asyncio.to_thread(
        partial(
            Series.plan, tenant_id=principal.tenant_id, kind=kind, rule=rule, first=first, zone=zone
        )
    )


async def create_session_series(
    uow: UnitOfWork, principal: Principal, new: NewSession, rule: str
) -> SeriesView:
    """Expand ``rule`` from ``new.starts_at`` (local time at the location) into sessions,
    each like one created alone; any occurrence refused (a trainer or room taken, outside
    working hours) refuses the series, naming the occurrence."""
    repos = repositories(uow, principal.tenant_id)
    _, zone = await location(repos, new.location_id)
    await check_room(repos, new.room_id, new.location_id)
    hours = await staff_hours(repos, new.staff_id)
    series, starts = await _plan(principal, "session", rule, new.starts_at, zone)
    await repos.series.add(series)
    made = []
    for start in starts:
        with _on(start, zone):
            session = Session.schedule(
                id=uuid.uuid4(),
                tenant_id=principal.tenant_id,
                kind=new.kind,
                title=new.title,
                description=new.description,
                location_id=new.location_id,
                room_id=new.room_id,
                staff_id=new.staff_id,
                starts_at=start,
                duration=timedelta(minutes=new.duration_minutes),
                capacity=new.capacity,
                payment=new.payment,
                zone=zone,
                hours=hours,
                series_id=series.id,
            )
            await repos.sessions.add(session)
            await repos.occupancy.hold("session", session)
        made.append(session)
    await uow.commit()
    return SeriesView(series, made, [])


async def create_appointment_series(
    uow: UnitOfWork, principal: Principal, new: NewAppointment, rule: str
) -> SeriesView:
    """Expand ``rule`` into appointments, each like one created alone (a confirmed one is
    announced as a confirmed booking); any refused occurrence refuses the series."""
    repos = repositories(uow, principal.tenant_id)
    _, zone = await location(repos, new.location_id)
    await check_room(repos, new.room_id, new.location_id)
    await check_asset(repos, new.asset_id, new.customer_id)
    hours = await staff_hours(repos, new.staff_id)
    customer = await repos.customers.standing(new.customer_id)
    series, starts = await _plan(principal, "appointment", rule, new.starts_at, zone)
    await repos.series.add(series)
    made = []
    for start in starts:
        with _on(start, zone):
            appointment = Appointment.make(
                id=uuid.uuid4(),
                tenant_id=principal.tenant_id,
                location_id=new.location_id,
                staff_id=new.staff_id,
                room_id=new.room_id,
                customer=customer,
                title=new.title,
                notes=new.notes,
                starts_at=start,
                duration=timedelta(minutes=new.duration_minutes),
                status=new.status,
                price_minor=new.price_minor,
                currency=new.currency,
                zone=zone,
                hours=hours,
                asset_id=new.asset_id,
                series_id=series.id,
            )
            await repos.appointments.add(appointment)
            await repos.occupancy.hold("appointment", appointment)
        uow.publish_recorded(appointment)
        made.append(appointment)
    await uow.commit()
    return SeriesView(series, [], made)


async def get_series(uow: UnitOfWork, principal: Principal, series_id: uuid.UUID) -> SeriesView:
    """The rule and its occurrences as they are now (moved or cancelled ones included)."""
    repos = repositories(uow, principal.tenant_id)
    series = await repos.series.get(series_id)
    if series is None:
        raise NotFoundError.of("series")
    start = series.first_starts_at - timedelta(days=3660)  # every occurrence
    if series.kind == "session":
        return SeriesView(series, await repos.sessions.following(series_id, start), [])
    found = await repos.appointments.following(series_id, start)
    if principal.is_customer:
        for appointment in found:
            principal.ensure_sees(appointment.customer_id, "series")
    return SeriesView(series, [], found)
