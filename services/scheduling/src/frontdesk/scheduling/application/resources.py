"""The studio's setup: locations (with their time zone), rooms and bays, staff and their
working hours."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application.common import Row, location, repositories
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.staff import WorkingHours


# locations -----------------------------------------------------------------------------
async def create_location(
    uow: UnitOfWork, principal: Principal, *, name: str, timezone: str, address: str | None
) -> Row:
    tz.zone(timezone)
    row = await repositories(uow, principal.tenant_id).locations.insert(
        {"id": uuid.uuid4(), "name": name, "timezone": timezone, "address": address}
    )
    await uow.commit()
    return row


async def list_locations(uow: UnitOfWork, principal: Principal) -> Sequence[Row]:
    return await repositories(uow, principal.tenant_id).locations.all()


async def get_location(uow: UnitOfWork, principal: Principal, location_id: uuid.UUID) -> Row:
    return await repositories(uow, principal.tenant_id).locations.require(location_id)


# rooms and bays ------------------------------------------------------------------------
async def create_room(
    uow: UnitOfWork,
    principal: Principal,
    *,
    location_id: uuid.UUID,
    name: str,
    kind: str,
    capacity: int | None,
) -> Row:
    repos = repositories(uow, principal.tenant_id)
    await location(repos, location_id)
    row = await repos.rooms.insert(
        {
            "id": uuid.uuid4(),
            "location_id": location_id,
            "name": name,
            "kind": kind,
            "capacity": capacity,
        }
    )
    await uow.commit()
    return row


async def list_rooms(
    uow: UnitOfWork, principal: Principal, location_id: uuid.UUID | None
) -> Sequence[Row]:
    return await repositories(uow, principal.tenant_id).rooms.all(location_id)


async def get_room(uow: UnitOfWork, principal: Principal, room_id: uuid.UUID) -> Row:
    return await repositories(uow, principal.tenant_id).rooms.require(room_id)


# staff ---------------------------------------------------------------------------------
async def create_staff(
    uow: UnitOfWork,
    principal: Principal,
    *,
    name: str,
    email: str | None,
    role: str,
    location_id: uuid.UUID | None,
    working_hours: WorkingHours,
) -> Row:
    repos = repositories(uow, principal.tenant_id)
    if location_id is not None:
        await location(repos, location_id)
    row = await repos.staff.insert(
        {
            "id": uuid.uuid4(),
            "name": name,
            "email": email,
            "role": role,
            "location_id": location_id,
            "working_hours": working_hours.to_json(),
        }
    )
    await uow.commit()
    return row


async def list_staff(
    uow: UnitOfWork, principal: Principal, location_id: uuid.UUID | None
) -> Sequence[Row]:
    return await repositories(uow, principal.tenant_id).staff.all(location_id)


async def get_staff(uow: UnitOfWork, principal: Principal, staff_id: uuid.UUID) -> Row:
    return await repositories(uow, principal.tenant_id).staff.require(staff_id)


async def edit_staff(
    uow: UnitOfWork, principal: Principal, staff_id: uuid.UUID, changes: Mapping[str, Any]
) -> Row:
    """Change the fields given (``working_hours`` as ``WorkingHours``)."""
    repos = repositories(uow, principal.tenant_id)
    member = await repos.staff.get(staff_id)
    if member is None:
        raise NotFoundError.of("staff member")
    if changes.get("location_id") is not None:
        await location(repos, changes["location_id"])
    values = dict(changes)
    if "working_hours" in values:
        values["working_hours"] = values["working_hours"].to_json()
    if values:
        member = await repos.staff.update(staff_id, values)
    await uow.commit()
    return member
