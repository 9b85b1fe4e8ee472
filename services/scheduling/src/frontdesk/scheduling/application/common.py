"""What the application modules share: one tenant's repositories, the references a
request names (a location, a room, a trainer), and Idempotency-Key claims."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters import Repositories
from frontdesk.scheduling.domain.staff import WorkingHours

# A row as the repositories of plain tables give it (a location, a room, a staff member).
Row = Mapping[Any, Any]


def repositories(uow: UnitOfWork, tenant_id: uuid.UUID) -> Repositories:
    return Repositories(uow.session, tenant_id)


async def location(
    repos: Repositories, location_id: uuid.UUID, field: str = "location_id"
) -> tuple[Row, ZoneInfo]:
    """The location a request names, with its zone; 422 naming ``field`` if there is none."""
    found = await repos.locations.get(location_id)
    if found is None:
        raise RuleBroken(field, "no such location")
    return found, ZoneInfo(found["timezone"])


async def check_room(
    repos: Repositories, room_id: uuid.UUID | None, location_id: uuid.UUID
) -> None:
    """A room or bay named for something at ``location_id`` must be there."""
    if room_id is None:
        return
    room = await repos.rooms.get(room_id)
    if room is None:
        raise RuleBroken("room_id", "no such room or bay")
    if room["location_id"] != location_id:
        raise RuleBroken("room_id", "the room is at another location")


async def staff_member(repos: Repositories, staff_id: uuid.UUID | None) -> Row | None:
    """The staff member a request names (or None); 422 naming ``staff_id`` if there is
    no such staff member."""
    if staff_id is None:
        return None
    member = await repos.staff.get(staff_id)
    if member is None:
        raise RuleBroken("staff_id", "no such staff member")
    return member


async def staff_hours(repos: Repositories, staff_id: uuid.UUID | None) -> WorkingHours:
    """The working hours of the staff member a request names (none named: always
    available); 422 naming ``staff_id`` if there is no such staff member."""
    member = await staff_member(repos, staff_id)
    return WorkingHours() if member is None else WorkingHours.from_json(member["working_hours"])


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` and the request it came with (what a repeat must match)."""

    key: str
    request: Any


async def claim(
    repos: Repositories, scope: str, idempotency: Idempotency | None, resource_id: uuid.UUID
) -> uuid.UUID | None:
    """Claim the key for the ``scope`` (booking, appointment) about to be made in this
    transaction; the earlier one's id when the same request used the key before."""
    if idempotency is None:
        return None
    return await repos.idempotency.claim(
        scope, idempotency.key, idempotency.request, resource_id, what=scope
    )


async def end_series(
    repos: Repositories, series_id: uuid.UUID | None, recurrence_at: datetime | None
) -> None:
    """ "This and all following" was cancelled: an open-ended series grows no more."""
    if series_id is None or recurrence_at is None:
        return
    series = await repos.series.get(series_id)
    if series is not None and series.open_ended:
        await repos.series.save(series.ended(recurrence_at))
