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
from typing import Any

from fastapi import APIRouter, Response, status

from frontdesk.kit.auth import CurrentPrincipal, StaffPrincipal
from frontdesk.kit.etags import IfMatch, etag
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.scheduling.api.common import (
    ScopeQuery,
    after_start,
    expected_version,
    idempotency,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    AppointmentCreate,
    AppointmentOut,
    AppointmentPage,
    AppointmentPatch,
    AppointmentSeriesCreate,
    AppointmentTransition,
    SeriesOut,
)
from frontdesk.scheduling.application import appointments, series

router = APIRouter(prefix="/v1/appointments", tags=["appointments"])


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
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> AppointmentOut:
    """A repeat with the same Idempotency-Key answers the first appointment as it is now (200)."""
    appointment, replayed = await appointments.create_appointment(
        uow, principal, body.new(), idempotency(idempotency_key, body)
    )
    response.headers["Location"] = f"/v1/appointments/{appointment.id}"
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["ETag"] = etag(appointment.version)
    return AppointmentOut.of(appointment)


@router.post(
    "/series",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesOut,
    responses={
        409: {"description": "An occurrence's staff member or room is taken, or outside hours"},
        422: {"description": "The rule does not parse, is unbounded or too long"},
    },
)
async def create_series(
    body: AppointmentSeriesCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
) -> SeriesOut:
    """Recurring appointments: every occurrence of ``rrule`` from ``starts_at`` (the
    location's wall clock, kept across DST) is a real appointment; one refused occurrence
    refuses the series (nothing is made)."""
    view = await series.create_appointment_series(uow, principal, body.new(), body.rrule)
    response.headers["Location"] = f"/v1/appointments/series/{view.series.id}"
    return SeriesOut.of(view)


@router.get("/series/{series_id}", response_model=SeriesOut)
async def get_series(
    series_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> SeriesOut:
    """The rule and its appointments as they are now (a customer: only its own)."""
    return SeriesOut.of(await series.get_series(uow, principal, series_id))


@router.get("", response_model=AppointmentPage)
async def list_appointments(
    uow: UnitOfWorkDep,
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
    customer_id = principal.customer_scope(customer_id)
    rows = await appointments.list_appointments(
        uow,
        principal,
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        customer_id=customer_id,
        after=after_start(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, start_cursor)
    return AppointmentPage(items=[AppointmentOut.of(a) for a in page], next_cursor=next_cursor)


@router.get("/{appointment_id}", response_model=AppointmentOut)
async def get_appointment(
    appointment_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> AppointmentOut:
    appointment = await appointments.get_appointment(uow, principal, appointment_id)
    response.headers["ETag"] = etag(appointment.version)
    return AppointmentOut.of(appointment)


NOT_NULL = ("starts_at", "duration_minutes", "staff_id")


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
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    if_match: IfMatch = None,
    scope: ScopeQuery = "this",
) -> AppointmentOut:
    """Move or reassign a draft or confirmed appointment, or change its notes. The time is
    local at the location and checked against the (new) staff member's working hours, as
    on create. A confirmed appointment that moves publishes ``BookingRescheduled``.
    ``scope=following``: this occurrence of a series and every later draft or confirmed
    one, a new ``starts_at`` moving each by the same wall-clock shift."""
    appointment = await appointments.edit_appointment(
        uow,
        principal,
        appointment_id,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
        scope=scope,
    )
    response.headers["ETag"] = etag(appointment.version)
    return AppointmentOut.of(appointment)


@router.post(
    "/{appointment_id}/status",
    response_model=AppointmentOut,
    responses={409: {"description": "Not a legal transition, or the confirmed slot is taken"}},
)
async def change_status(
    appointment_id: uuid.UUID,
    body: AppointmentTransition,
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    scope: ScopeQuery = "this",
) -> AppointmentOut:
    """Move along draft → confirmed → completed / cancelled / no_show; leaving draft and
    confirmed frees the staff member and room. ``scope=following``: this occurrence of a
    series and every later one that can make the same move."""
    return AppointmentOut.of(
        await appointments.change_status(
            uow, principal, appointment_id, body.status, body.reason, scope
        )
    )


def _shortcut(target: str) -> Any:
    async def shortcut(
        appointment_id: uuid.UUID,
        uow: UnitOfWorkDep,
        principal: StaffPrincipal,
        scope: ScopeQuery = "this",
    ) -> AppointmentOut:
        return AppointmentOut.of(
            await appointments.change_status(uow, principal, appointment_id, target, scope=scope)
        )

    shortcut.__doc__ = f'Shortcut for POST …/status {{"status": "{target}"}}.'
    return shortcut


for _name, _target in (
    ("confirm", "confirmed"),
    ("complete", "completed"),
    ("cancel", "cancelled"),
    ("no-show", "no_show"),
):
    router.add_api_route(
        f"/{{appointment_id}}/{_name}",
        _shortcut(_target),
        methods=["POST"],
        response_model=AppointmentOut,
        name=f"appointment_{_target}",
    )
