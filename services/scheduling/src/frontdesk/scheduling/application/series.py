"""Recurring classes and appointments: a series is created whole (every occurrence a
real session or appointment, holding its trainer and room as one made alone) or not at
all; an open-ended one for ``OPEN_WINDOW`` ahead, grown by the worker as time passes.
Changing or cancelling "this and following" lives with the sessions and appointments
(``scope``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.adapters.series import series_to_grow
from frontdesk.scheduling.application.appointments import NewAppointment, check_asset
from frontdesk.scheduling.application.common import (
    check_room,
    location,
    repositories,
    staff_hours,
)
from frontdesk.scheduling.application.sessions import NewSession
from frontdesk.scheduling.domain import time as tz
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
            Series.plan,
            tenant_id=principal.tenant_id,
            kind=kind,
            rule=rule,
            first=first,
            zone=zone,
            now=tz.now(),
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


async def grow_open_series(uows: Callable[[], UnitOfWork], *, now: datetime | None = None) -> int:
    """Open-ended series whose window runs out get their next occurrences, each series in
    its own transaction (locked; another worker skips it). An occurrence whose trainer or
    room is taken, or that falls outside working hours, is left out (the studio sees the
    gap) rather than stopping the series. How many occurrences were made."""
    now = now or tz.now()
    async with uows() as uow:
        candidates = await series_to_grow(uow.session, now)
    made = 0
    for candidate in candidates:
        async with uows() as uow:
            repos = repositories(uow, candidate["tenant_id"])
            series = await repos.series.get(candidate["id"], lock=True)
            if series is None or not series.due_to_grow(now):
                continue
            made += await _grow(uow, repos, series, now)
            await uow.commit()
    return made


async def _grow(uow: UnitOfWork, repos: Repositories, series: Series, now: datetime) -> int:
    """The series' next occurrences, each made like its last occurrence and held as one
    made alone (a confirmed appointment announced)."""
    placed = repos.sessions if series.kind == "session" else repos.appointments
    last: Session | Appointment | None = await placed.last_of_series(series.id)
    grown, starts = await _grown(series, now, last)
    if last is None or not starts:
        await repos.series.save(grown)
        return 0
    _, zone = await location(repos, last.location_id)
    hours = await staff_hours(repos, last.staff_id)
    make: Callable[..., Session | Appointment]
    if isinstance(last, Appointment):
        customer = await repos.customers.standing(last.customer_id)
        if not customer.may_book:  # blocked or deleted: their series ends here
            await repos.series.save(grown.ended(starts[0]))
            return 0
        make = partial(last.next_occurrence, customer=customer, zone=zone, hours=hours)
    else:
        make = partial(last.next_occurrence, zone=zone, hours=hours)
    made = 0
    for nominal in starts:
        try:
            occurrence = make(id=uuid.uuid4(), recurrence_at=nominal)
        except RuleBroken:
            continue  # outside the trainer's hours that day
        if await repos.occupancy.free_for(occurrence):
            await placed.add(occurrence)  # type: ignore[arg-type]
            await repos.occupancy.hold(series.kind, occurrence)
            uow.publish_recorded(occurrence)
            made += 1
    await repos.series.save(grown.made(made))
    return made


async def _grown(
    series: Series, now: datetime, last: Session | Appointment | None
) -> tuple[Series, list[datetime]]:
    """The series with its new window, and the nominal starts after its last occurrence
    (none when it has none left: nothing to grow from)."""
    if last is None or last.recurrence_at is None:
        return series.ended(series.made_until or now), []
    return await asyncio.to_thread(series.grown, now, last.recurrence_at)


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
