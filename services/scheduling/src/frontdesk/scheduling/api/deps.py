"""What every router shares: the runtime, time-zone lookups, database errors as problems."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError

from frontdesk.kit.auth import Principal
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.pagination import bad_cursor, decode_cursor, encode_cursor
from frontdesk.kit.problems import Conflict, InvalidInput, NotFound
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.adapters.tables import OCCUPANCY_OVERLAP, idempotency_keys
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import IllegalTransition
from frontdesk.scheduling.domain.staff import WorkingSlot, within_working_hours

# Lists page as every service's do (frontdesk.kit.pagination); the cursor names the
# (starts_at, id) of the last row seen. A day's calendar takes up to CALENDAR_PAGE entries.
CALENDAR_PAGE = 500

CONSTRAINT_MESSAGES = {
    "uq_bookings_one_per_customer": (
        "customer_id",
        "This customer already has a booking for this session.",
    ),
    "uq_bookings_one_per_guest": (
        "guest.email",
        "This guest already has a booking for this session.",
    ),
    "ck_sessions_seats_within_capacity": ("seats", "The session has no free seats left."),
    "ex_appointments_staff_overlap": (
        "staff_id",
        "The staff member already has an appointment at that time.",
    ),
    "ex_appointments_room_overlap": ("room_id", "The room or bay is already taken at that time."),
    # One constraint for both kinds of resource: ``hold`` inserts the staff row and the
    # room row apart and names the field of the one refused (staff_id by default).
    OCCUPANCY_OVERLAP: (
        "staff_id",
        "The staff member already has a class or an appointment at that time.",
    ),
}
OCCUPANCY_FIELDS = {
    "staff": {OCCUPANCY_OVERLAP: CONSTRAINT_MESSAGES[OCCUPANCY_OVERLAP]},
    "room": {
        OCCUPANCY_OVERLAP: (
            "room_id",
            "The room or bay already has a class or an appointment at that time.",
        )
    },
}


async def claim_key(
    repo: Repository, scope: str, key: str | None, body: BaseModel, resource_id: uuid.UUID
) -> uuid.UUID | None:
    """Claim ``key`` for the ``scope`` (booking, appointment) about to be made in the
    caller's transaction; the earlier one's id when the same request used the key."""
    if key is None:
        return None
    keys = IdempotencyKeys(repo.session, repo.tenant_id, idempotency_keys)
    return await keys.claim(scope, key, body.model_dump(mode="json"), resource_id, what=scope)


def constraint_name(error: DBAPIError) -> str | None:
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)


@contextmanager
def database_conflicts(
    overrides: dict[str, tuple[str, str]] | None = None,
) -> Iterator[None]:
    """Constraint violations (capacity, uniqueness, overlaps) answer 409 naming the field;
    ``overrides`` names another field for a constraint where the request differs (an
    edit of the capacity, not a booking's seats)."""
    messages = {**CONSTRAINT_MESSAGES, **(overrides or {})}
    try:
        yield
    except IntegrityError as error:
        name = constraint_name(error)
        if name in messages:
            field, message = messages[name]
            raise Conflict.for_field(field, message) from None
        raise Conflict(f"The change conflicts with existing data ({name}).") from None


async def hold(repo: Repository, holder_kind: str, holder: RowMapping) -> None:
    """In the caller's transaction: the holder (a session or an appointment row) lets go
    of what it held and takes its trainer, then its room, for ``[starts_at, ends_at)``.
    An overlap with anything else holding either answers 409 naming ``staff_id`` or
    ``room_id``; the caller's transaction is then rolled back whole."""
    holder_id, starts_at, ends_at = holder["id"], holder["starts_at"], holder["ends_at"]
    await repo.release(holder_kind, holder_id)
    for kind, resource_id in (("staff", holder["staff_id"]), ("room", holder["room_id"])):
        if resource_id is not None:
            with database_conflicts(OCCUPANCY_FIELDS[kind]):
                await repo.occupy(holder_kind, holder_id, kind, resource_id, starts_at, ends_at)


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except tz.TimeError_ as error:
        raise InvalidInput.for_field(error.field, str(error)) from None
    except IllegalTransition as error:
        raise Conflict.for_field("status", str(error), title="Illegal transition") from None


async def location_zone(
    repo: Repository, location_id: uuid.UUID, field: str = "location_id"
) -> tuple[RowMapping, ZoneInfo]:
    location = await repo.location(location_id)
    if location is None:
        raise (
            InvalidInput.for_field(field, "no such location")
            if field != "path"
            else NotFound("No such location.")
        )
    return location, ZoneInfo(location["timezone"])


async def location_zones(repo: Repository) -> dict[uuid.UUID, ZoneInfo]:
    """Every location's time zone, for lists that span locations."""
    return {loc["id"]: ZoneInfo(loc["timezone"]) for loc in await repo.list_locations()}


async def check_room(repo: Repository, room_id: uuid.UUID | None, location_id: uuid.UUID) -> None:
    if room_id is None:
        return
    room = await repo.room(room_id)
    if room is None:
        raise InvalidInput.for_field("room_id", "no such room or bay")
    if room["location_id"] != location_id:
        raise InvalidInput.for_field("room_id", "the room is at another location")


def check_working_hours(
    member: RowMapping | None, starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> None:
    """409 naming ``starts_at`` when the staff member (if any) does not work then (a staff
    member without working hours set is always available)."""
    if member is None:
        return
    slots = [WorkingSlot.model_validate(s) for s in member["working_hours"]]
    if not within_working_hours(slots, starts_at, ends_at, zone):
        raise Conflict.for_field("starts_at", "Outside the staff member's working hours.")


async def check_staff(repo: Repository, staff_id: uuid.UUID | None) -> RowMapping | None:
    if staff_id is None:
        return None
    member = await repo.staff_member(staff_id)
    if member is None:
        raise InvalidInput.for_field("staff_id", "no such staff member")
    return member


def local_iso(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def customer_scope(principal: Principal, customer_id: uuid.UUID | None) -> uuid.UUID | None:
    """A customer token only ever sees its own bookings."""
    if principal.is_customer:
        if customer_id is not None and customer_id != principal.customer_id:
            raise NotFound("No such customer.")
        return principal.customer_id or uuid.UUID(int=0)
    return customer_id


def start_cursor(row: Any) -> str:
    """The cursor after ``row``: its sort key (starts_at, id)."""
    return encode_cursor([row["starts_at"], row["id"]])


def after_start(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (starts_at, id) a cursor from ``start_cursor`` names; anything else is 400
    naming ``cursor``. No cursor (or an empty one): the first page."""
    if not cursor:
        return None
    key = decode_cursor(cursor)
    try:
        at, ident = key
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, uuid.UUID(ident)
    except (ValueError, TypeError):
        raise bad_cursor() from None
