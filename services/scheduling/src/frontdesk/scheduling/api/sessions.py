"""/v1/sessions: classes and events with capacity (S2); edited (If-Match) or cancelled by
the studio (S11)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response, status

from frontdesk.contracts.scheduling import (
    BookingRescheduled,
    SessionCancelled,
    SessionChanged,
)
from frontdesk.kit.auth import CurrentPrincipal, Principal, require_admin
from frontdesk.kit.etags import IfMatch, check_if_match, etag
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import Conflict, InvalidInput, NotFound, patch_changes
from frontdesk.kit.service import RuntimeDep
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling import saga
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import (
    after_start,
    check_room,
    check_staff,
    check_working_hours,
    database_conflicts,
    domain_errors,
    hold,
    location_zone,
    location_zones,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    Payment,
    SessionCancel,
    SessionCreate,
    SessionOut,
    SessionPage,
    SessionPatch,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import BookingStatus

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
Admin = Annotated[Principal, Depends(require_admin())]


def session_out(row: Any, zone: ZoneInfo) -> SessionOut:
    return SessionOut(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        description=row["description"],
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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    responses={
        409: {"description": "The trainer or room already has a class or an appointment then"}
    },
)
async def create_session(
    body: SessionCreate, response: Response, rt: RuntimeDep, principal: Admin
) -> SessionOut:
    """The trainer and room (when given) are held for ``[starts_at, ends_at)``: an
    overlap with another class, event or appointment of either answers 409 naming
    ``staff_id`` or ``room_id``."""
    title = body.title.strip()
    if not title:
        raise InvalidInput.for_field("title", "must not be blank")
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        _, zone = await location_zone(repo, body.location_id)
        await check_room(repo, body.room_id, body.location_id)
        trainer = await check_staff(repo, body.staff_id)
        with domain_errors():
            starts_at = tz.to_utc(body.starts_at, zone)
        ends_at = starts_at + timedelta(minutes=body.duration_minutes)
        check_working_hours(trainer, starts_at, ends_at, zone)
        row = await repo.add_session(
            {
                "id": uuid.uuid4(),
                "kind": body.kind,
                "title": title,
                "description": body.description,
                "location_id": body.location_id,
                "room_id": body.room_id,
                "staff_id": body.staff_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "capacity": body.capacity,
                "payment_method": body.payment.method,
                "credits": body.payment.credits,
                "price_minor": body.payment.price_minor,
                "currency": body.payment.currency,
            }
        )
        await hold(repo, "session", row)
        await uow.commit()
    response.headers["Location"] = f"/v1/sessions/{row['id']}"
    response.headers["ETag"] = etag(row["version"])
    return session_out(row, zone)


@router.get("", response_model=SessionPage)
async def list_sessions(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    on: date | None = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> SessionPage:
    """Sessions by start (then id), optionally one local day (``on``, needs
    ``location_id``); ``starts_from`` keeps those still running then. Keyset-paginated:
    ``next_cursor`` asks for the next page with the same filters."""
    for name, value in (("starts_from", starts_from), ("starts_before", starts_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.for_field(name, "give a UTC offset (e.g. 2025-01-01T00:00Z)")
    after = after_start(cursor)
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
            after=after,
            limit=limit + 1,
        )
        zones = await location_zones(repo)
    rows, next_cursor = split_page(rows, limit, start_cursor)
    return SessionPage(
        items=[session_out(r, zones[r["location_id"]]) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> SessionOut:
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        row = await repo.session_row(session_id)
        if row is None:
            raise NotFound("No such session.")
        _, zone = await location_zone(repo, row["location_id"])
    response.headers["ETag"] = etag(row["version"])
    return session_out(row, zone)


NOT_NULL = ("title", "starts_at", "duration_minutes", "capacity", "payment")
# An edit of these takes the trainer and room again (occupancy); other edits leave it.
RESERVING = {"starts_at", "ends_at", "staff_id", "room_id"}
CAPACITY_BELOW_SEATS = {
    "ck_sessions_seats_within_capacity": (
        "capacity",
        "The capacity cannot go below the seats already taken.",
    )
}


@router.patch(
    "/{session_id}",
    response_model=SessionOut,
    responses={
        409: {
            "description": "Cancelled or already started, capacity below the seats taken, "
            "or the trainer or room is taken at the new time"
        },
        412: {"description": "If-Match names an older version (the current ETag is sent)"},
    },
)
async def patch_session(
    session_id: uuid.UUID,
    body: SessionPatch,
    response: Response,
    rt: RuntimeDep,
    principal: Admin,
    if_match: IfMatch = None,
) -> SessionOut:
    """Edit a class or event that has not started. ``starts_at`` is local time at the
    location, as on create. Moving it publishes ``BookingRescheduled`` for every confirmed
    booking (pending ones are decided with the new time, the saga locks the session
    first); every edit publishes ``SessionChanged``. A new price or credit cost applies
    to later bookings only. A new time, trainer or room is held as on create (409
    naming ``staff_id`` or ``room_id``, nothing changed)."""
    changes = patch_changes(body, NOT_NULL)
    if "title" in changes:
        changes["title"] = changes["title"].strip()
        if not changes["title"]:
            raise InvalidInput.for_field("title", "must not be blank")
    with database_conflicts(CAPACITY_BELOW_SEATS):
        async with rt.uow() as uow:
            repo = Repository(uow.session, principal.tenant_id)
            current = await repo.session_row(session_id, for_update=True)
            if current is None:
                raise NotFound("No such session.")
            check_if_match(if_match, current["version"], "session")
            if current["status"] == "cancelled":
                raise Conflict.for_field("status", "A cancelled session cannot be edited.")
            if current["starts_at"] <= tz.now():
                raise Conflict.for_field(
                    "starts_at", "The session has already started; it cannot be edited."
                )
            _, zone = await location_zone(repo, current["location_id"])
            values = await _edits(repo, current, body, changes, zone)
            values = {k: v for k, v in values.items() if current[k] != v}
            row = current
            if values:
                row = await repo.update_session(session_id, values)
                if RESERVING & values.keys():
                    await hold(repo, "session", row)
                await _announce(uow, repo, current, row, values, zone)
            await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return session_out(row, zone)


async def _edits(
    repo: Repository, current: Any, body: SessionPatch, changes: dict[str, Any], zone: ZoneInfo
) -> dict[str, Any]:
    """The new column values the request asks for, each checked (422 naming the field)."""
    values: dict[str, Any] = {k: changes[k] for k in ("title", "description") if k in changes}
    if "staff_id" in changes:
        await check_staff(repo, body.staff_id)
        values["staff_id"] = body.staff_id
    if "room_id" in changes:
        await check_room(repo, body.room_id, current["location_id"])
        values["room_id"] = body.room_id
    starts_at = current["starts_at"]
    if body.starts_at is not None:
        with domain_errors():
            starts_at = tz.to_utc(body.starts_at, zone)
        if starts_at <= tz.now():
            raise InvalidInput.for_field("starts_at", "must be in the future")
    duration = current["ends_at"] - current["starts_at"]
    if body.duration_minutes is not None:
        duration = timedelta(minutes=body.duration_minutes)
    values["starts_at"], values["ends_at"] = starts_at, starts_at + duration
    if {"staff_id", "starts_at", "duration_minutes"} & changes.keys():
        trainer = await check_staff(repo, values.get("staff_id", current["staff_id"]))
        check_working_hours(trainer, values["starts_at"], values["ends_at"], zone)
    if body.capacity is not None:
        if body.capacity < current["seats_taken"]:
            raise Conflict.for_field(
                "capacity",
                f"{current['seats_taken']} seats are taken; the capacity cannot go below that.",
            )
        values["capacity"] = body.capacity
    if body.payment is not None:
        values.update(
            payment_method=body.payment.method,
            credits=body.payment.credits,
            price_minor=body.payment.price_minor,
            currency=body.payment.currency,
        )
    return values


async def _announce(
    uow: UnitOfWork, repo: Repository, before: Any, row: Any, values: dict[str, Any], zone: ZoneInfo
) -> None:
    """In the edit's transaction: each confirmed booking of a moved session is rescheduled
    (its version bumped so read models take the new time), then SessionChanged."""
    moved = "starts_at" in values or "ends_at" in values
    active: list[uuid.UUID] = []
    for booking in await repo.bookings_of_session(row["id"], for_update=True):
        if booking["status"] not in (BookingStatus.pending, BookingStatus.confirmed):
            continue
        active.append(booking["id"])
        if moved and booking["status"] == BookingStatus.confirmed:
            bumped = await repo.update_booking(booking["id"], {})
            await saga.publish(
                uow, repo, BookingRescheduled, bumped, row, previous_starts_at=before["starts_at"]
            )
    changed = sorted({_FIELD_OF.get(k, k) for k in values} - {"ends_at"})
    if row["ends_at"] - row["starts_at"] != before["ends_at"] - before["starts_at"]:
        changed = sorted({*changed, "duration_minutes"})
    uow.publish(
        SessionChanged(
            session_id=row["id"],
            session_kind=row["kind"],
            title=row["title"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            previous_starts_at=before["starts_at"] if moved else None,
            previous_ends_at=before["ends_at"] if moved else None,
            location_id=row["location_id"],
            timezone=zone.key,
            staff_id=row["staff_id"],
            room_id=row["room_id"],
            capacity=row["capacity"],
            changed=changed,
            booking_ids=active,
        ),
        tenant_id=repo.tenant_id,
        aggregate_id=row["id"],
        aggregate_version=row["version"],
    )


_FIELD_OF = {
    column: "payment" for column in ("payment_method", "credits", "price_minor", "currency")
}


@router.post("/{session_id}/cancel", response_model=SessionOut)
async def cancel_session(
    session_id: uuid.UUID, body: SessionCancel, rt: RuntimeDep, principal: Admin
) -> SessionOut:
    """The studio cancels: every confirmed booking is cancelled with a refund (each
    attendee's BookingCancelled is published), pending ones are rejected, the trainer
    and room are freed, then SessionCancelled."""
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
                await saga.cancel(
                    uow,
                    repo,
                    booking,
                    session,
                    refund=True,
                    late=False,
                    cancelled_by="studio",
                    reason=body.reason,
                    recorded_reason=body.reason or "session_cancelled",
                )
            else:
                continue
            affected.append(booking["id"])
        row = await repo.update_session(
            session_id, {"status": "cancelled", "cancel_reason": body.reason}
        )
        await repo.release("session", session_id)
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
