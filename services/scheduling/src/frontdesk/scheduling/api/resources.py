"""/v1/locations, /v1/rooms, /v1/staff and /v1/booking-policy: the studio's setup (S1, S5)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.kit.auth import CurrentPrincipal, StaffPrincipal
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.scheduling.api.common import Admin, DefaultPolicy
from frontdesk.scheduling.api.schemas import (
    LocationCreate,
    LocationOut,
    PolicyIn,
    PolicyOut,
    RoomCreate,
    RoomOut,
    StaffCreate,
    StaffOut,
    StaffPatch,
    working_hours,
)
from frontdesk.scheduling.application import bookings, resources
from frontdesk.scheduling.domain.bookings import CancellationPolicy

router = APIRouter(tags=["setup"])


@router.post("/v1/locations", status_code=status.HTTP_201_CREATED, response_model=LocationOut)
async def create_location(
    body: LocationCreate, response: Response, uow: UnitOfWorkDep, principal: Admin
) -> LocationOut:
    row = await resources.create_location(uow, principal, **body.model_dump())
    response.headers["Location"] = f"/v1/locations/{row['id']}"
    return LocationOut.of(row)


@router.get("/v1/locations", response_model=list[LocationOut])
async def list_locations(uow: UnitOfWorkDep, principal: StaffPrincipal) -> list[LocationOut]:
    return [LocationOut.of(r) for r in await resources.list_locations(uow, principal)]


@router.get("/v1/locations/{location_id}", response_model=LocationOut)
async def get_location(
    location_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal
) -> LocationOut:
    return LocationOut.of(await resources.get_location(uow, principal, location_id))


@router.post("/v1/rooms", status_code=status.HTTP_201_CREATED, response_model=RoomOut)
async def create_room(
    body: RoomCreate, response: Response, uow: UnitOfWorkDep, principal: Admin
) -> RoomOut:
    row = await resources.create_room(uow, principal, **body.model_dump())
    response.headers["Location"] = f"/v1/rooms/{row['id']}"
    return RoomOut.of(row)


@router.get("/v1/rooms", response_model=list[RoomOut])
async def list_rooms(
    uow: UnitOfWorkDep, principal: StaffPrincipal, location_id: uuid.UUID | None = None
) -> list[RoomOut]:
    return [RoomOut.of(r) for r in await resources.list_rooms(uow, principal, location_id)]


@router.get("/v1/rooms/{room_id}", response_model=RoomOut)
async def get_room(room_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal) -> RoomOut:
    return RoomOut.of(await resources.get_room(uow, principal, room_id))


@router.post("/v1/staff", status_code=status.HTTP_201_CREATED, response_model=StaffOut)
async def create_staff(
    body: StaffCreate, response: Response, uow: UnitOfWorkDep, principal: Admin
) -> StaffOut:
    row = await resources.create_staff(
        uow,
        principal,
        **body.model_dump(exclude={"working_hours"}),
        working_hours=working_hours(body.working_hours),
    )
    response.headers["Location"] = f"/v1/staff/{row['id']}"
    return StaffOut.of(row)


@router.get("/v1/staff", response_model=list[StaffOut])
async def list_staff(
    uow: UnitOfWorkDep, principal: StaffPrincipal, location_id: uuid.UUID | None = None
) -> list[StaffOut]:
    return [StaffOut.of(r) for r in await resources.list_staff(uow, principal, location_id)]


@router.get("/v1/staff/{staff_id}", response_model=StaffOut)
async def get_staff(staff_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal) -> StaffOut:
    return StaffOut.of(await resources.get_staff(uow, principal, staff_id))


@router.patch("/v1/staff/{staff_id}", response_model=StaffOut)
async def patch_staff(
    staff_id: uuid.UUID, body: StaffPatch, uow: UnitOfWorkDep, principal: Admin
) -> StaffOut:
    changes = patch_changes(body, ("name", "role", "working_hours"))
    if body.working_hours is not None:
        changes["working_hours"] = working_hours(body.working_hours)
    return StaffOut.of(await resources.edit_staff(uow, principal, staff_id, changes))


@router.get("/v1/booking-policy", response_model=PolicyOut)
async def get_policy(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, default: DefaultPolicy
) -> PolicyOut:
    """Anyone of the tenant, customers included (they see when a cancel is still free)."""
    policy, own = await bookings.get_policy(uow, principal, default)
    return PolicyOut(
        free_cancel_hours=policy.free_cancel_hours, source="tenant" if own else "default"
    )


@router.put("/v1/booking-policy", response_model=PolicyOut)
async def put_policy(body: PolicyIn, uow: UnitOfWorkDep, principal: Admin) -> PolicyOut:
    await bookings.set_policy(uow, principal, CancellationPolicy(body.free_cancel_hours))
    return PolicyOut(free_cancel_hours=body.free_cancel_hours, source="tenant")
