"""Classes and events: scheduled by the studio, listed, edited until they start (their
bookings are told), cancelled (their bookings are refunded or rejected)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.application.bookings import promote
from frontdesk.scheduling.application.common import (
    check_room,
    end_series,
    location,
    repositories,
    staff_hours,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.bookings import announce_edit
from frontdesk.scheduling.domain.bookings import cancel_session as cancel_all
from frontdesk.scheduling.domain.series import Scope, local_shift, shifted
from frontdesk.scheduling.domain.sessions import WORKING_HOURS, Payment, Session, SessionKind
from frontdesk.scheduling.domain.staff import WorkingHours


@dataclass(frozen=True)
class NewSession:
    kind: SessionKind
    title: str
    description: str | None
    location_id: uuid.UUID
    room_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    starts_at: datetime  # local wall-clock time at the location (or with its offset)
    duration_minutes: int
    capacity: int
    payment: Payment


async def create_session(uow: UnitOfWork, principal: Principal, new: NewSession) -> Session:
    """The trainer and room (when given) are held for ``[starts_at, ends_at)``: an overlap
    with another class, event or appointment of either is a conflict naming ``staff_id``
    or ``room_id``."""
    repos = repositories(uow, principal.tenant_id)
    _, zone = await location(repos, new.location_id)
    await check_room(repos, new.room_id, new.location_id)
    hours = await staff_hours(repos, new.staff_id)
    session = Session.schedule(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        kind=new.kind,
        title=new.title,
        description=new.description,
        location_id=new.location_id,
        room_id=new.room_id,
        staff_id=new.staff_id,
        starts_at=new.starts_at,
        duration=timedelta(minutes=new.duration_minutes),
        capacity=new.capacity,
        payment=new.payment,
        zone=zone,
        hours=hours,
    )
    await repos.sessions.add(session)
    await repos.occupancy.hold("session", session)
    await uow.commit()
    return session


async def list_sessions(
    uow: UnitOfWork,
    principal: Principal,
    *,
    location_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
    starts_from: datetime | None,
    starts_before: datetime | None,
    on: date | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Session]:
    """Sessions by start (then id), at most ``limit``, optionally of one local day
    (``on``, at ``location_id``); ``starts_from`` keeps those still running then."""
    repos = repositories(uow, principal.tenant_id)
    if on is not None:
        if location_id is None:
            raise RuleBroken("location_id", "required with on")
        _, zone = await location(repos, location_id)
        starts_from, starts_before = tz.day_bounds(on, zone, "on")
    return await repos.sessions.page(
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        starts_from=starts_from,
        starts_before=starts_before,
        after=after,
        limit=limit,
    )


async def get_session(uow: UnitOfWork, principal: Principal, session_id: uuid.UUID) -> Session:
    return await repositories(uow, principal.tenant_id).sessions.require(session_id)


async def edit_session(
    uow: UnitOfWork,
    principal: Principal,
    session_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
    scope: Scope = "this",
) -> Session:
    """Edit a class or event that has not started (``changes`` as ``Session.edit`` takes
    them). A new time, trainer or room is held as on create. Moving it reschedules every
    confirmed booking (pending ones are decided with the new time: the saga locks the
    session first); every edit publishes ``SessionChanged``; a larger capacity promotes
    waiting bookings. ``scope="following"``: this occurrence of a series and every later
    one not cancelled or started get the same changes, a new start moving each by the
    same wall-clock shift (18:00 to 19:00 moves every later one to 19:00 local)."""
    repos = repositories(uow, principal.tenant_id)
    session = await repos.sessions.require(session_id, for_update=True)
    session.ensure_version(expected_version)
    now = tz.now()
    session.ensure_editable(now)
    hours = WorkingHours()
    if WORKING_HOURS & changes.keys():
        hours = await staff_hours(repos, changes.get("staff_id", session.staff_id))
    if "room_id" in changes:
        await check_room(repos, changes["room_id"], session.location_id)
    if scope == "this":
        await _edit_one(uow, repos, session, changes, hours, now)
        await uow.commit()
        return session
    series_id, recurrence_at = _occurrence(session)
    shift = None
    if changes.get("starts_at") is not None:
        shift = local_shift(
            session.starts_at, tz.to_utc(changes["starts_at"], session.zone), session.zone
        )
    for occurrence in await repos.sessions.following(series_id, recurrence_at, for_update=True):
        if occurrence.cancelled or occurrence.starts_at <= now:
            continue
        own = dict(changes)
        if shift is not None:
            own["starts_at"] = shifted(occurrence.starts_at, shift, occurrence.zone)
        await _edit_one(uow, repos, occurrence, own, hours, now)
        if occurrence.id == session.id:
            session = occurrence
    await uow.commit()
    return session


def _occurrence(item: Session | Any) -> tuple[uuid.UUID, datetime]:
    if item.series_id is None or item.recurrence_at is None:
        raise RuleBroken("scope", "only an occurrence of a series has following ones")
    return item.series_id, item.recurrence_at


async def _edit_one(
    uow: UnitOfWork,
    repos: Repositories,
    session: Session,
    changes: Mapping[str, Any],
    hours: WorkingHours,
    now: datetime,
) -> None:
    edit = session.edit(changes, hours=hours, now=now)
    if edit is None:
        return
    await repos.sessions.save(session)
    if edit.reserving:
        await repos.occupancy.hold("session", session)
    bookings = await repos.bookings.of_session(session.id, for_update=True)
    for booking in announce_edit(session, edit, bookings):
        await repos.bookings.save(booking)
        uow.publish_recorded(booking)
    uow.publish_recorded(session)
    if "capacity" in edit.columns:
        await promote(uow, repos, session)


async def cancel_session(
    uow: UnitOfWork,
    principal: Principal,
    session_id: uuid.UUID,
    reason: str | None,
    scope: Scope = "this",
) -> Session:
    """The studio cancels: every confirmed booking is cancelled with a refund (each
    attendee's ``BookingCancelled``), pending ones are rejected, waiting ones leave the
    waitlist, the trainer and room are freed, then ``SessionCancelled``.
    ``scope="following"``: this occurrence of a series and every later one not
    cancelled yet, each exactly so."""
    repos = repositories(uow, principal.tenant_id)
    session = await repos.sessions.require(session_id, for_update=True)
    session.ensure_cancellable()
    if scope == "this":
        await _cancel_one(uow, repos, session, reason)
    else:
        series_id, recurrence_at = _occurrence(session)
        for occurrence in await repos.sessions.following(series_id, recurrence_at, for_update=True):
            if not occurrence.cancelled:
                await _cancel_one(uow, repos, occurrence, reason)
            if occurrence.id == session.id:
                session = occurrence
        await end_series(repos, series_id, recurrence_at)
    await uow.commit()
    return session


async def _cancel_one(
    uow: UnitOfWork, repos: Repositories, session: Session, reason: str | None
) -> None:
    bookings = await repos.bookings.of_session(session.id, for_update=True)
    for booking in cancel_all(session, bookings, reason=reason, now=tz.now()):
        await repos.bookings.save(booking)
        uow.publish_recorded(booking)
    for booking in bookings:
        if booking.changed:  # waiting bookings that left the waitlist
            await repos.bookings.save(booking)
            uow.publish_recorded(booking)
    await repos.sessions.save_seats(session)
    await repos.sessions.save(session)
    await repos.occupancy.release("session", session.id)
    uow.publish_recorded(session)
