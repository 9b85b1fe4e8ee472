"""/v1/sessions: classes and events with capacity (S2); cancelled by the studio (S11)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response, status

from frontdesk.contracts.scheduling import BookingCancelled, SessionCancelled
from frontdesk.kit.auth import CurrentPrincipal, Principal, require_admin
from frontdesk.kit.problems import Conflict, InvalidInput, NotFound
from frontdesk.kit.service import RuntimeDep
from frontdesk.scheduling import saga
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import check_room, check_staff, domain_errors, location_zone
from frontdesk.scheduling.api.schemas import Payment, SessionCancel, SessionCreate, SessionOut
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import BookingStatus

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
Admin = Annotated[Principal, Depends(require_admin())]


def session_out(row: Any, zone: ZoneInfo) -> SessionOut:
    return SessionOut(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        location_id=row["location_id"],
        room_id=row["room_id"],
        staff_id=row["staff_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        timezone=zone.key,
        local_starts_at=row["starts_at"].astimezone(zone),
        local_ends_at=row["ends_at"].astimezone(zone),
        capacity=row["capacity"],
        seats_taken=row["seats_taken"],
        seats_free=max(row["capacity"] - row["seats_taken"], 0),
        payment=Payment.model_construct(
            method=row["payment_method"],
            credits=row["credits"],
            price_minor=row["price_minor"],
            currency=row["currency"],
        ),
        status=row["status"],
        cancel_reason=row["cancel_reason"],
        version=row["version"],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def create_session(
    body: SessionCreate, response: Response, rt: RuntimeDep, principal: Admin
) -> SessionOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        _, zone = await location_zone(repo, body.location_id)
        await check_room(repo, body.room_id, body.location_id)
        await check_staff(repo, body.staff_id)
        with domain_errors():
            starts_at = tz.to_utc(body.starts_at, zone)
        row = await repo.add_session(
            {
                "id": uuid.uuid4(),
                "kind": body.kind,
                "title": body.title.strip(),
                "location_id": body.location_id,
                "room_id": body.room_id,
                "staff_id": body.staff_id,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=body.duration_minutes),
                "capacity": body.capacity,
                "payment_method": body.payment.method,
                "credits": body.payment.credits,
                "price_minor": body.payment.price_minor,
                "currency": body.payment.currency,
            }
        )
        await uow.commit()
    response.headers["Location"] = f"/v1/sessions/{row['id']}"
    return session_out(row, zone)


@router.get("", response_model=list[SessionOut])
async def list_sessions(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    on: date | None = None,
) -> list[SessionOut]:
    """Sessions by start, optionally one local day (``on``, needs ``location_id``)."""
    for name, value in (("starts_from", starts_from), ("starts_before", starts_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.for_field(name, "give a UTC offset (e.g. 2025-01-01T00:00Z)")
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        if on is not None:
            if location_id is None:
                raise InvalidInput.for_field("location_id", "required with on")
            _, zone = await location_zone(repo, location_id)
            with domain_errors():
                starts_from, starts_before = tz.day_bounds(on, zone, "on")
        rows = await repo.list_sessions(
            location_id=location_id,
            staff_id=staff_id,
            room_id=room_id,
            starts_from=starts_from,
            starts_before=starts_before,
        )
        zones = {loc["id"]: ZoneInfo(loc["timezone"]) for loc in await repo.list_locations()}
    return [session_out(r, zones[r["location_id"]]) for r in rows]


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal
) -> SessionOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        row = await repo.session_row(session_id)
        if row is None:
            raise NotFound("No such session.")
        _, zone = await location_zone(repo, row["location_id"])
    return session_out(row, zone)


@router.post("/{session_id}/cancel", response_model=SessionOut)
async def cancel_session(
    session_id: uuid.UUID, body: SessionCancel, rt: RuntimeDep, principal: Admin
) -> SessionOut:
    """The studio cancels: every confirmed booking is cancelled with a refund (each
    attendee's BookingCancelled is published), pending ones are rejected, then
    SessionCancelled."""
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        session = await repo.session_row(session_id, for_update=True)
        if session is None:
            raise NotFound("No such session.")
        if session["status"] == "cancelled":
            raise Conflict.for_field("status", "The session is already cancelled.")
        _, zone = await location_zone(repo, session["location_id"])
        affected: list[uuid.UUID] = []
        for booking in await repo.bookings_of_session(session_id, for_update=True):
            if booking["status"] == BookingStatus.pending:
                await saga.reject(uow, repo, booking, session, "session_cancelled")
            elif booking["status"] == BookingStatus.confirmed:
                await repo.free_seats(session_id, booking["seats"])
                row = await repo.update_booking(
                    booking["id"],
                    {
                        "status": BookingStatus.cancelled.value,
                        "refund": True,
                        "late": False,
                        "reason": body.reason or "session_cancelled",
                        "decided_at": tz.now(),
                    },
                )
                await saga.publish(
                    uow,
                    repo,
                    BookingCancelled,
                    row,
                    session,
                    refund=True,
                    late=False,
                    cancelled_by="studio",
                    reason=body.reason,
                )
            else:
                continue
            affected.append(booking["id"])
        row = await repo.update_session(
            session_id, {"status": "cancelled", "cancel_reason": body.reason}
        )
        uow.publish(
            SessionCancelled(
                session_id=session_id,
                title=row["title"],
                starts_at=row["starts_at"],
                reason=body.reason,
                booking_ids=affected,
            ),
            tenant_id=principal.tenant_id,
            aggregate_id=session_id,
            aggregate_version=row["version"],
        )
        await uow.commit()
    return session_out(row, zone)
