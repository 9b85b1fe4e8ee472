"""/v1/locations, /v1/rooms, /v1/staff and /v1/booking-policy: the studio's setup (S1, S5)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from frontdesk.kit.auth import Principal, StaffPrincipal, require_admin
from frontdesk.kit.problems import InvalidInput, NotFound, patch_changes
from frontdesk.kit.service import RuntimeDep
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import domain_errors
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
)
from frontdesk.scheduling.domain import time as tz

router = APIRouter(tags=["setup"])
Admin = Annotated[Principal, Depends(require_admin())]


@router.post("/v1/locations", status_code=status.HTTP_201_CREATED, response_model=LocationOut)
async def create_location(
    body: LocationCreate, response: Response, rt: RuntimeDep, principal: Admin
) -> LocationOut:
    with domain_errors():
        tz.zone(body.timezone)
    async with rt.uow() as uow:
        row = await Repository(uow.session, principal.tenant_id).add_location(
            {"id": uuid.uuid4(), **body.model_dump()}
        )
        await uow.commit()
    response.headers["Location"] = f"/v1/locations/{row['id']}"
    return LocationOut.of(row)


@router.get("/v1/locations", response_model=list[LocationOut])
async def list_locations(rt: RuntimeDep, principal: StaffPrincipal) -> list[LocationOut]:
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_locations()
    return [LocationOut.of(r) for r in rows]


@router.get("/v1/locations/{location_id}", response_model=LocationOut)
async def get_location(
    location_id: uuid.UUID, rt: RuntimeDep, principal: StaffPrincipal
) -> LocationOut:
    async with rt.uow() as uow:
        row = await Repository(uow.session, principal.tenant_id).location(location_id)
    if row is None:
        raise NotFound("No such location.")
    return LocationOut.of(row)


@router.post("/v1/rooms", status_code=status.HTTP_201_CREATED, response_model=RoomOut)
async def create_room(
    body: RoomCreate, response: Response, rt: RuntimeDep, principal: Admin
) -> RoomOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        if await repo.location(body.location_id) is None:
            raise InvalidInput.for_field("location_id", "no such location")
        row = await repo.add_room({"id": uuid.uuid4(), **body.model_dump()})
        await uow.commit()
    response.headers["Location"] = f"/v1/rooms/{row['id']}"
    return RoomOut.of(row)


@router.get("/v1/rooms", response_model=list[RoomOut])
async def list_rooms(
    rt: RuntimeDep, principal: StaffPrincipal, location_id: uuid.UUID | None = None
) -> list[RoomOut]:
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_rooms(location_id)
    return [RoomOut.of(r) for r in rows]


@router.get("/v1/rooms/{room_id}", response_model=RoomOut)
async def get_room(room_id: uuid.UUID, rt: RuntimeDep, principal: StaffPrincipal) -> RoomOut:
    async with rt.uow() as uow:
        row = await Repository(uow.session, principal.tenant_id).room(room_id)
    if row is None:
        raise NotFound("No such room.")
    return RoomOut.of(row)


@router.post("/v1/staff", status_code=status.HTTP_201_CREATED, response_model=StaffOut)
async def create_staff(
    body: StaffCreate, response: Response, rt: RuntimeDep, principal: Admin
) -> StaffOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        if body.location_id is not None and await repo.location(body.location_id) is None:
            raise InvalidInput.for_field("location_id", "no such location")
        values = body.model_dump(mode="json")
        values["location_id"] = body.location_id
        row = await repo.add_staff({"id": uuid.uuid4(), **values})
        await uow.commit()
    response.headers["Location"] = f"/v1/staff/{row['id']}"
    return StaffOut.of(row)


@router.get("/v1/staff", response_model=list[StaffOut])
async def list_staff(
    rt: RuntimeDep, principal: StaffPrincipal, location_id: uuid.UUID | None = None
) -> list[StaffOut]:
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_staff(location_id)
    return [StaffOut.of(r) for r in rows]


@router.get("/v1/staff/{staff_id}", response_model=StaffOut)
async def get_staff(staff_id: uuid.UUID, rt: RuntimeDep, principal: StaffPrincipal) -> StaffOut:
    async with rt.uow() as uow:
        row = await Repository(uow.session, principal.tenant_id).staff_member(staff_id)
    if row is None:
        raise NotFound("No such staff member.")
    return StaffOut.of(row)


@router.patch("/v1/staff/{staff_id}", response_model=StaffOut)
async def patch_staff(
    staff_id: uuid.UUID, body: StaffPatch, rt: RuntimeDep, principal: Admin
) -> StaffOut:
    changes = patch_changes(body, ("name", "role", "working_hours"), mode="json")
    if "location_id" in changes:
        changes["location_id"] = body.location_id
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        if await repo.staff_member(staff_id) is None:
            raise NotFound("No such staff member.")
        if body.location_id is not None and await repo.location(body.location_id) is None:
            raise InvalidInput.for_field("location_id", "no such location")
        row = (
            await repo.update_staff(staff_id, changes)
            if changes
            else await repo.staff_member(staff_id)
        )
        await uow.commit()
    return StaffOut.of(row)


@router.get("/v1/booking-policy", response_model=PolicyOut)
async def get_policy(rt: RuntimeDep, principal: StaffPrincipal) -> PolicyOut:
    async with rt.uow() as uow:
        hours = await Repository(uow.session, principal.tenant_id).free_cancel_hours()
    if hours is None:
        return PolicyOut(
            free_cancel_hours=rt.settings.free_cancel_hours,  # type: ignore[attr-defined]
            source="default",
        )
    return PolicyOut(free_cancel_hours=hours, source="tenant")


@router.put("/v1/booking-policy", response_model=PolicyOut)
async def put_policy(body: PolicyIn, rt: RuntimeDep, principal: Admin) -> PolicyOut:
    async with rt.uow() as uow:
        await Repository(uow.session, principal.tenant_id).set_free_cancel_hours(
            body.free_cancel_hours
        )
        await uow.commit()
    return PolicyOut(free_cancel_hours=body.free_cancel_hours, source="tenant")
