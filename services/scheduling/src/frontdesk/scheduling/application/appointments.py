"""Appointments: 1:1 with a staff member, maybe in a room or bay.

Overlaps of one staff member or one room are refused (exclusion constraints in the
database), on create and on edit, against other appointments and against classes and
events alike (``occupancy``); completed, cancelled and no-show appointments let go.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.application.common import (
    Idempotency,
    check_room,
    claim,
    end_series,
    location,
    repositories,
    staff_hours,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.appointments import RESERVING, Appointment, AppointmentStatus
from frontdesk.scheduling.domain.series import Scope, local_shift, shifted
from frontdesk.scheduling.domain.staff import WorkingHours


@dataclass(frozen=True)
class NewAppointment:
    location_id: uuid.UUID
    staff_id: uuid.UUID
    room_id: uuid.UUID | None
    customer_id: uuid.UUID
    title: str
    notes: str | None
    starts_at: datetime  # local wall-clock time at the location (or with its offset)
    duration_minutes: int
    status: str
    price_minor: int
    currency: str
    asset_id: uuid.UUID | None = None


async def check_asset(
    repos: Repositories, asset_id: uuid.UUID | None, customer_id: uuid.UUID
) -> None:
    """An appointment names only an asset the customer has (as customers last told it)."""
    if asset_id is None:
        return
    asset = await repos.assets.get(asset_id)
    if asset is None or asset["removed"] or asset["customer_id"] != customer_id:
        raise RuleBroken("asset_id", "no such asset of this customer")


async def create_appointment(
    uow: UnitOfWork,
    principal: Principal,
    new: NewAppointment,
    idempotency: Idempotency | None = None,
) -> tuple[Appointment, bool]:
    """The staff member (within their working hours) and the room are held; a confirmed
    appointment is announced as a confirmed booking. With an ``Idempotency-Key`` used
    before for the same request: the earlier appointment as it is now, and True."""
    repos = repositories(uow, principal.tenant_id)
    appointment_id = uuid.uuid4()
    earlier = await claim(repos, "appointment", idempotency, appointment_id)
    if earlier is not None:
        return await repos.appointments.require(earlier), True
    _, zone = await location(repos, new.location_id)
    await check_room(repos, new.room_id, new.location_id)
    await check_asset(repos, new.asset_id, new.customer_id)
    hours = await staff_hours(repos, new.staff_id)
    appointment = Appointment.make(
        id=appointment_id,
        tenant_id=principal.tenant_id,
        location_id=new.location_id,
        staff_id=new.staff_id,
        room_id=new.room_id,
        customer=await repos.customers.standing(new.customer_id),
        title=new.title,
        notes=new.notes,
        starts_at=new.starts_at,
        duration=timedelta(minutes=new.duration_minutes),
        status=new.status,
        price_minor=new.price_minor,
        currency=new.currency,
        zone=zone,
        hours=hours,
        asset_id=new.asset_id,
    )
    await repos.appointments.add(appointment)
    await repos.occupancy.hold("appointment", appointment)
    uow.publish_recorded(appointment)
    await uow.commit()
    return await repos.appointments.require(appointment.id), False


async def list_appointments(
    uow: UnitOfWork,
    principal: Principal,
    *,
    location_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Appointment]:
    """By start (then id), at most ``limit``; ``customer_id`` as the caller may see
    (``Principal.customer_scope``)."""
    return await repositories(uow, principal.tenant_id).appointments.page(
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        customer_id=customer_id,
        after=after,
        limit=limit,
    )


async def get_appointment(
    uow: UnitOfWork, principal: Principal, appointment_id: uuid.UUID
) -> Appointment:
    appointment = await repositories(uow, principal.tenant_id).appointments.get(appointment_id)
    if appointment is None:
        raise NotFoundError.of("appointment")
    principal.ensure_sees(appointment.customer_id, "appointment")
    return appointment


async def edit_appointment(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
    scope: Scope = "this",
) -> Appointment:
    """Move or reassign a draft or confirmed appointment, or change its notes (``changes``
    as ``Appointment.edit`` takes them): checked against the (new) staff member's working
    hours and held again as on create; a confirmed one that moves is rescheduled.
    ``scope="following"``: this occurrence of a series and every later draft or
    confirmed one, a new start moving each by the same wall-clock shift."""
    repos = repositories(uow, principal.tenant_id)
    appointment = await repos.appointments.require(appointment_id, for_update=True)
    appointment.ensure_version(expected_version)
    appointment.ensure_editable()
    if "room_id" in changes:
        await check_room(repos, changes["room_id"], appointment.location_id)
    hours = await staff_hours(repos, changes.get("staff_id") or appointment.staff_id)
    if scope == "this":
        await _edit_one(uow, repos, appointment, changes, hours)
        await uow.commit()
        return appointment
    shift = None
    if changes.get("starts_at") is not None:
        moved_to = tz.to_utc(changes["starts_at"], appointment.zone)
        shift = local_shift(appointment.starts_at, moved_to, appointment.zone)
    for occurrence in await _following(repos, appointment):
        if not occurrence.holds:
            continue
        own = dict(changes)
        if shift is not None:
            own["starts_at"] = shifted(occurrence.starts_at, shift, occurrence.zone)
        await _edit_one(uow, repos, occurrence, own, hours)
        if occurrence.id == appointment.id:
            appointment = occurrence
    await uow.commit()
    return appointment


async def _following(repos: Repositories, appointment: Appointment) -> list[Appointment]:
    if appointment.series_id is None or appointment.recurrence_at is None:
        raise RuleBroken("scope", "only an occurrence of a series has following ones")
    return await repos.appointments.following(
        appointment.series_id, appointment.recurrence_at, for_update=True
    )


async def _edit_one(
    uow: UnitOfWork,
    repos: Repositories,
    appointment: Appointment,
    changes: Mapping[str, Any],
    hours: WorkingHours,
) -> None:
    changed = appointment.edit(changes, hours=hours)
    if changed:
        await repos.appointments.save(appointment)
        if RESERVING & changed:
            await repos.occupancy.hold("appointment", appointment)
        uow.publish_recorded(appointment)


async def change_status(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    status: str,
    reason: str | None = None,
    scope: Scope = "this",
) -> Appointment:
    """Move along draft → confirmed → completed / cancelled / no_show; leaving draft and
    confirmed frees the staff member and room. ``scope="following"``: this occurrence
    of a series and every later one that can make the same move (cancelling this and
    all following skips those already completed or cancelled)."""
    repos = repositories(uow, principal.tenant_id)
    appointment = await repos.appointments.require(appointment_id, for_update=True)
    appointment.move_to(status, now=tz.now(), reason=reason)
    await _store_status(uow, repos, appointment)
    if scope == "following":
        for occurrence in await _following(repos, appointment):
            if occurrence.id == appointment.id or not occurrence.may_move_to(status):
                continue
            occurrence.move_to(status, now=tz.now(), reason=reason)
            await _store_status(uow, repos, occurrence)
        if status == AppointmentStatus.cancelled:
            await end_series(repos, appointment.series_id, appointment.recurrence_at)
    await uow.commit()
    return appointment


async def _store_status(uow: UnitOfWork, repos: Repositories, appointment: Appointment) -> None:
    await repos.appointments.save(appointment)
    if not appointment.holds:
        await repos.occupancy.release("appointment", appointment.id)
    uow.publish_recorded(appointment)
