"""/v1/sessions: classes and events with capacity (S2); edited (If-Match) or cancelled by
the studio (S11); recurring series (S10, ``scope=following``); waitlists (S9)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch, etag
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import AwareDatetime, BoundedDate
from frontdesk.scheduling.api.common import (
    Admin,
    Attendant,
    ScopeQuery,
    after_start,
    expected_version,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    BookingOut,
    SeriesOut,
    SessionCancel,
    SessionCreate,
    SessionOut,
    SessionPage,
    SessionPatch,
    SessionSeriesCreate,
)
from frontdesk.scheduling.application import bookings, series, sessions

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])

NOT_NULL = ("title", "starts_at", "duration_minutes", "capacity", "payment")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    responses={
        409: {"description": "The trainer or room already has a class or an appointment then"}
    },
)
async def create_session(
    body: SessionCreate, response: Response, uow: UnitOfWorkDep, principal: Admin
) -> SessionOut:
    """The trainer and room (when given) are held for ``[starts_at, ends_at)``: an
    overlap with another class, event or appointment of either answers 409 naming
    ``staff_id`` or ``room_id``."""
    session = await sessions.create_session(uow, principal, body.new())
    response.headers["Location"] = f"/v1/sessions/{session.id}"
    response.headers["ETag"] = etag(session.version)
    return SessionOut.of(session)


@router.post(
    "/series",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesOut,
    responses={
        409: {"description": "An occurrence's trainer or room is taken, or outside hours"},
        422: {"description": "The rule does not parse, is unbounded or too long"},
    },
)
async def create_series(
    body: SessionSeriesCreate, response: Response, uow: UnitOfWorkDep, principal: Admin
) -> SeriesOut:
    """A recurring class or event: every occurrence of ``rrule`` from ``starts_at`` (the
    location's wall clock, kept across DST) is a real session, made as one alone would be;
    one refused occurrence refuses the series (nothing is made)."""
    view = await series.create_session_series(uow, principal, body.new(), body.rrule)
    response.headers["Location"] = f"/v1/sessions/series/{view.series.id}"
    return SeriesOut.of(view)


@router.get("/series/{series_id}", response_model=SeriesOut)
async def get_series(
    series_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> SeriesOut:
    """The rule and its occurrences as they are now (moved or cancelled ones too)."""
    return SeriesOut.of(await series.get_series(uow, principal, series_id))


@router.get("", response_model=SessionPage)
async def list_sessions(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    starts_from: AwareDatetime | None = None,
    starts_before: AwareDatetime | None = None,
    on: BoundedDate | None = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> SessionPage:
    """Sessions by start (then id), optionally one local day (``on``, needs
    ``location_id``); ``starts_from`` keeps those still running then. Keyset-paginated:
    ``next_cursor`` asks for the next page with the same filters."""
    rows = await sessions.list_sessions(
        uow,
        principal,
        location_id=location_id,
        staff_id=staff_id,
        room_id=room_id,
        starts_from=starts_from,
        starts_before=starts_before,
        on=on,
        after=after_start(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, start_cursor)
    return SessionPage(items=[SessionOut.of(s) for s in page], next_cursor=next_cursor)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> SessionOut:
    session = await sessions.get_session(uow, principal, session_id)
    response.headers["ETag"] = etag(session.version)
    return SessionOut.of(session)


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
    uow: UnitOfWorkDep,
    principal: Admin,
    if_match: IfMatch = None,
    scope: ScopeQuery = "this",
) -> SessionOut:
    """Edit a class or event that has not started. ``starts_at`` is local time at the
    location, as on create. Moving it publishes ``BookingRescheduled`` for every confirmed
    booking (pending ones are decided with the new time, the saga locks the session
    first); every edit publishes ``SessionChanged``. A new price or credit cost applies
    to later bookings only. A new time, trainer or room is held as on create (409
    naming ``staff_id`` or ``room_id``, nothing changed). ``scope=following`` (an
    occurrence of a series): this one and every later one not cancelled or started, a
    new ``starts_at`` moving each by the same wall-clock shift."""
    changes = patch_changes(body, NOT_NULL)
    if body.payment is not None:
        changes["payment"] = body.payment.domain()
    session = await sessions.edit_session(
        uow,
        principal,
        session_id,
        changes,
        expected_version=expected_version(if_match),
        scope=scope,
    )
    response.headers["ETag"] = etag(session.version)
    return SessionOut.of(session)


@router.post("/{session_id}/cancel", response_model=SessionOut)
async def cancel_session(
    session_id: uuid.UUID,
    body: SessionCancel,
    uow: UnitOfWorkDep,
    principal: Admin,
    scope: ScopeQuery = "this",
) -> SessionOut:
    """The studio cancels: every confirmed booking is cancelled with a refund (each
    attendee's BookingCancelled is published), pending ones are rejected, waiting ones
    leave the waitlist, the trainer and room are freed, then SessionCancelled.
    ``scope=following``: this occurrence of a series and every later one."""
    return SessionOut.of(
        await sessions.cancel_session(uow, principal, session_id, body.reason, scope)
    )


@router.get("/{session_id}/waitlist", response_model=list[BookingOut])
async def session_waitlist(
    session_id: uuid.UUID, uow: UnitOfWorkDep, principal: Attendant
) -> list[BookingOut]:
    """The session's waitlist in queue order, each with its ``waitlist_position``."""
    return [BookingOut.of(v) for v in await bookings.waitlist(uow, principal, session_id)]
