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
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application.common import (
    Idempotency,
    check_room,
    claim,
    location,
    repositories,
    staff_hours,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.appointments import RESERVING, Appointment


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
    )
    await repos.appointments.add(appointment)
    await repos.occupancy.hold("appointment", appointment)
    uow.publish_recorded(appointment)
    await uow.commit()
    return appointment, False


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
) -> Appointment:
    """Move or reassign a draft or confirmed appointment, or change its notes (``changes``
    as ``Appointment.edit`` takes them): checked against the (new) staff member's working
    hours and held again as on create; a confirmed one that moves is rescheduled."""
    repos = repositories(uow, principal.tenant_id)
    appointment = await repos.appointments.require(appointment_id, for_update=True)
    appointment.ensure_version(expected_version)
    appointment.ensure_editable()
    if "room_id" in changes:
        await check_room(repos, changes["room_id"], appointment.location_id)
    hours = await staff_hours(repos, changes.get("staff_id") or appointment.staff_id)
    changed = appointment.edit(changes, hours=hours)
    if changed:
        await repos.appointments.save(appointment)
        if RESERVING & changed:
            await repos.occupancy.hold("appointment", appointment)
        uow.publish_recorded(appointment)
    await uow.commit()
    return appointment


async def change_status(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    status: str,
    reason: str | None = None,
) -> Appointment:
    """Move along draft → confirmed → completed / cancelled / no_show; leaving draft and
    confirmed frees the staff member and room."""
    repos = repositories(uow, principal.tenant_id)
    appointment = await repos.appointments.require(appointment_id, for_update=True)
    appointment.move_to(status, now=tz.now(), reason=reason)
    await repos.appointments.save(appointment)
    if not appointment.holds:
        await repos.occupancy.release("appointment", appointment_id)
    uow.publish_recorded(appointment)
    await uow.commit()
    return appointment
