"""/v1/appointments: 1:1 with staff and a room or bay (S3).

draft → confirmed → completed, cancelled or no-show; nothing else. Overlaps of
one staff member or one room among active (draft, confirmed) appointments are
refused by exclusion constraints in the database and answer 409, on create and
on edit (PATCH with If-Match); so are overlaps with a class or event of the same
staff member or room (``occupancy``). Completed, cancelled and no-show
appointments free their staff member and room.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response, status

from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingFacts,
    BookingNoShow,
    BookingPayment,
    BookingRescheduled,
)
from frontdesk.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from frontdesk.kit.etags import IfMatch, check_if_match, etag
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import Conflict, NotFound, patch_changes
from frontdesk.kit.service import RuntimeDep
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import (
    after_start,
    check_room,
    check_staff,
    check_working_hours,
    claim_key,
    customer_scope,
    database_conflicts,
    domain_errors,
    hold,
    location_zone,
    location_zones,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    AppointmentCreate,
    AppointmentOut,
    AppointmentPage,
    AppointmentPatch,
    AppointmentTransition,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import ACTIVE_APPOINTMENT, check_appointment_move

router = APIRouter(prefix="/v1/appointments", tags=["appointments"])

EVENT_FOR: dict[str, type[BookingFacts]] = {
    "confirmed": BookingConfirmed,
    "cancelled": BookingCancelled,
    "completed": BookingAttended,
    "no_show": BookingNoShow,
}


def appointment_out(row: Any, zone: ZoneInfo) -> AppointmentOut:
    return AppointmentOut(
        **{
            k: row[k]
            for k in AppointmentOut.model_fields
            if k not in ("timezone", "local_starts_at")
        },
        timezone=zone.key,
        local_starts_at=row["starts_at"].astimezone(zone),
    )


def _publish(
    uow: UnitOfWork,
    principal: Principal,
    row: Any,
    zone: ZoneInfo,
    event_class: type[BookingFacts],
    **extra: Any,
) -> None:
    """Appointments travel as bookings of kind ``appointment`` (customer summary, reminders)."""
    paid = row["price_minor"] > 0
    event = event_class(
        booking_id=row["id"],
        customer_id=row["customer_id"],
        session_id=row["id"],
        session_kind="appointment",
        session_type="appointment",
        title=row["title"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        location_id=row["location_id"],
        timezone=zone.key,
        seats=1,
        payment=BookingPayment(
            method="pay_per_session" if paid else "free",
            price_minor=row["price_minor"],
            currency=row["currency"],
        ),
        **extra,
    )
    uow.publish(
        event,
        tenant_id=principal.tenant_id,
        aggregate_id=row["id"],
        aggregate_version=row["version"],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentOut,
    responses={
        200: {
            "model": AppointmentOut,
            "description": "Replay of an earlier appointment (same key)",
        },
        409: {
            "description": "Staff or room already taken, outside hours, "
            "or the Idempotency-Key was used for another appointment"
        },
    },
)
async def create_appointment(
    body: AppointmentCreate,
    response: Response,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> AppointmentOut:
    """A repeat with the same Idempotency-Key answers the first appointment as it is now (200)."""
    with database_conflicts():
        async with rt.uow() as uow:
            repo = Repository(uow.session, principal.tenant_id)
            appointment_id = uuid.uuid4()
            earlier = await claim_key(repo, "appointment", idempotency_key, body, appointment_id)
            if earlier is not None:
                row = await repo.appointment(earlier)
                if row is None:
                    raise NotFound("No such appointment.")
                _, zone = await location_zone(repo, row["location_id"])
                response.status_code = status.HTTP_200_OK
                response.headers["Idempotent-Replayed"] = "true"
                response.headers["Location"] = f"/v1/appointments/{row['id']}"
                return appointment_out(row, zone)
            _, zone = await location_zone(repo, body.location_id)
            await check_room(repo, body.room_id, body.location_id)
            member = await check_staff(repo, body.staff_id)
            if await repo.customer_status(body.customer_id) in ("blocked", "deleted"):
                raise Conflict.for_field(
                    "customer_id",
                    "This customer is blocked from booking.",
                    title="Customer blocked",
                )
            with domain_errors():
                starts_at = tz.to_utc(body.starts_at, zone)
            ends_at = starts_at + timedelta(minutes=body.duration_minutes)
            check_working_hours(member, starts_at, ends_at, zone)
            row = await repo.add_appointment(
                {
                    "id": appointment_id,
                    **body.model_dump(exclude={"starts_at", "duration_minutes"}),
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                }
            )
            await hold(repo, "appointment", row)
            if row["status"] == "confirmed":
                _publish(uow, principal, row, zone, BookingConfirmed)
            await uow.commit()
    response.headers["Location"] = f"/v1/appointments/{row['id']}"
    response.headers["ETag"] = etag(row["version"])
    return appointment_out(row, zone)


@router.get("", response_model=AppointmentPage)
async def list_appointments(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> AppointmentPage:
    """Appointments by start (then id), keyset-paginated: ``next_cursor`` asks for the
    next page with the same filters. A customer token sees only its own."""
    customer_id = customer_scope(principal, customer_id)
    after = after_start(cursor)
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        rows = await repo.list_appointments(
            location_id=location_id,
            staff_id=staff_id,
            room_id=room_id,
            customer_id=customer_id,
            starts_from=None,
            starts_before=None,
            after=after,
            limit=limit + 1,
        )
        zones = await location_zones(repo)
    rows, next_cursor = split_page(rows, limit, start_cursor)
    return AppointmentPage(
        items=[appointment_out(r, zones[r["location_id"]]) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/{appointment_id}", response_model=AppointmentOut)
async def get_appointment(
    appointment_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> AppointmentOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        row = await repo.appointment(appointment_id)
        if row is None or (principal.is_customer and row["customer_id"] != principal.customer_id):
            raise NotFound("No such appointment.")
        _, zone = await location_zone(repo, row["location_id"])
    response.headers["ETag"] = etag(row["version"])
    return appointment_out(row, zone)


APPOINTMENT_NOT_NULL = ("starts_at", "duration_minutes", "staff_id")


@router.patch(
    "/{appointment_id}",
    response_model=AppointmentOut,
    responses={
        409: {
            "description": "Not draft or confirmed, staff or room taken at that time, "
            "or outside the staff member's working hours"
        },
        412: {"description": "If-Match names an older version (the current ETag is sent)"},
    },
)
async def patch_appointment(
    appointment_id: uuid.UUID,
    body: AppointmentPatch,
    response: Response,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    if_match: IfMatch = None,
) -> AppointmentOut:
    """Move or reassign a draft or confirmed appointment, or change its notes. The time is
    local at the location and checked against the (new) staff member's working hours, as
    on create. A confirmed appointment that moves publishes ``BookingRescheduled``."""
    changes = patch_changes(body, APPOINTMENT_NOT_NULL)
    with database_conflicts():
        async with rt.uow() as uow:
            repo = Repository(uow.session, principal.tenant_id)
            current = await repo.appointment(appointment_id, for_update=True)
            if current is None:
                raise NotFound("No such appointment.")
            check_if_match(if_match, current["version"], "appointment")
            if current["status"] not in ACTIVE_APPOINTMENT:
                raise Conflict.for_field(
                    "status", f"A {current['status']} appointment cannot be edited."
                )
            _, zone = await location_zone(repo, current["location_id"])
            values: dict[str, Any] = {}
            if "notes" in changes:
                values["notes"] = body.notes
            if "room_id" in changes:
                await check_room(repo, body.room_id, current["location_id"])
                values["room_id"] = body.room_id
            member = await check_staff(repo, body.staff_id or current["staff_id"])
            values["staff_id"] = body.staff_id or current["staff_id"]
            starts_at = current["starts_at"]
            if body.starts_at is not None:
                with domain_errors():
                    starts_at = tz.to_utc(body.starts_at, zone)
            duration = current["ends_at"] - current["starts_at"]
            if body.duration_minutes is not None:
                duration = timedelta(minutes=body.duration_minutes)
            values["starts_at"], values["ends_at"] = starts_at, starts_at + duration
            values = {k: v for k, v in values.items() if current[k] != v}
            if {"starts_at", "ends_at", "staff_id"} & values.keys():
                check_working_hours(member, starts_at, starts_at + duration, zone)
            row = current
            if values:
                row = await repo.update_appointment(appointment_id, values)
                if {"starts_at", "ends_at", "staff_id", "room_id"} & values.keys():
                    await hold(repo, "appointment", row)
                moved = "starts_at" in values or "ends_at" in values
                if moved and row["status"] == "confirmed":
                    _publish(
                        uow,
                        principal,
                        row,
                        zone,
                        BookingRescheduled,
                        previous_starts_at=current["starts_at"],
                    )
            await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return appointment_out(row, zone)


@router.post(
    "/{appointment_id}/status",
    response_model=AppointmentOut,
    responses={409: {"description": "Not a legal transition, or the confirmed slot is taken"}},
)
async def change_status(
    appointment_id: uuid.UUID,
    body: AppointmentTransition,
    rt: RuntimeDep,
    principal: StaffPrincipal,
) -> AppointmentOut:
    """Move along draft → confirmed → completed / cancelled / no_show; leaving draft and
    confirmed frees the staff member and room."""
    with database_conflicts():
        async with rt.uow() as uow:
            repo = Repository(uow.session, principal.tenant_id)
            current = await repo.appointment(appointment_id, for_update=True)
            if current is None:
                raise NotFound("No such appointment.")
            with domain_errors():
                check_appointment_move(current["status"], body.status)
            _, zone = await location_zone(repo, current["location_id"])
            row = await repo.update_appointment(appointment_id, {"status": body.status})
            if body.status not in ACTIVE_APPOINTMENT:
                await repo.release("appointment", appointment_id)
            extra: dict[str, Any] = {}
            if body.status == "cancelled":
                late = tz.now() > current["starts_at"]
                extra = {
                    "refund": row["price_minor"] > 0 and not late,
                    "late": late,
                    "cancelled_by": "staff",
                    "reason": body.reason,
                }
            if body.status != "cancelled" or current["status"] == "confirmed":
                _publish(uow, principal, row, zone, EVENT_FOR[body.status], **extra)
            await uow.commit()
    return appointment_out(row, zone)


for _name, _target in (
    ("confirm", "confirmed"),
    ("complete", "completed"),
    ("cancel", "cancelled"),
    ("no-show", "no_show"),
):

    def _make(target: str) -> Any:
        async def shortcut(
            appointment_id: uuid.UUID, rt: RuntimeDep, principal: StaffPrincipal
        ) -> AppointmentOut:
            return await change_status(
                appointment_id,
                AppointmentTransition(status=target),  # type: ignore[arg-type]
                rt,
                principal,
            )

        shortcut.__doc__ = f'Shortcut for POST …/status {{"status": "{target}"}}.'
        return shortcut

    router.add_api_route(
        f"/{{appointment_id}}/{_name}",
        _make(_target),
        methods=["POST"],
        response_model=AppointmentOut,
        name=f"appointment_{_target}",
    )
