"""What every router shares (HTTP only): the typed runtime, principals, the list cursor,
``If-Match`` and ``Prefer`` as the application takes them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal, Protocol

from fastapi import Depends, Query
from pydantic import BaseModel

from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal, require_admin
from frontdesk.kit.pagination import decode_cursor, encode_cursor
from frontdesk.kit.problems import Forbidden
from frontdesk.kit.service import Runtime, runtime_dependency
from frontdesk.kit.types import AwareDatetime
from frontdesk.scheduling.application.common import Idempotency
from frontdesk.scheduling.domain.bookings import CancellationPolicy
from frontdesk.scheduling.settings import SchedulingSettings

SchedulingRuntime = Annotated[Runtime[SchedulingSettings], Depends(runtime_dependency)]
# An occurrence of a series: change or cancel it alone, or it and every later one.
ScopeQuery = Annotated[
    Literal["this", "following"],
    Query(
        description="this: only this one; following: this occurrence of its series "
        "and every later one"
    ),
]
Admin = Annotated[Principal, Depends(require_admin())]


async def _default_policy(rt: SchedulingRuntime) -> CancellationPolicy:
    """The cancellation policy of a tenant that set none (``FRONTDESK_FREE_CANCEL_HOURS``)."""
    return CancellationPolicy(rt.settings.free_cancel_hours)


DefaultPolicy = Annotated[CancellationPolicy, Depends(_default_policy)]


async def _attendant(principal: CurrentPrincipal) -> Principal:
    if principal.is_customer:
        raise Forbidden("Attendance is recorded by staff.")
    return principal


# Who records attendance (check-in, no-show): anyone working for the tenant.
Attendant = Annotated[Principal, Depends(_attendant)]


def may_book_for_others(principal: Principal) -> None:
    """Staff book, cancel and move customers' bookings with ``add_participants``."""
    if not principal.is_customer and not principal.can(Permission.add_participants):
        raise Forbidden("Booking customers needs the 'add_participants' permission.")


# Lists page by (starts_at, id): the cursor is the key of the last row seen, signed.
StartKey = tuple[AwareDatetime, uuid.UUID]
# A day's calendar takes up to this many entries a page.
CALENDAR_PAGE = 500


class Started(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def starts_at(self) -> datetime: ...


def start_cursor(item: Started) -> str:
    """The cursor after ``item``: its sort key (starts_at, id)."""
    return encode_cursor([item.starts_at, item.id])


def after_start(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (starts_at, id) a cursor from ``start_cursor`` names; anything else is 400
    naming ``cursor``. No cursor (or an empty one): the first page."""
    if not cursor:
        return None
    at, ident = decode_cursor(cursor, StartKey)
    return at, ident


_ETAG = re.compile(r'^"(\d{1,18})"$')


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` names: None for none or ``*`` (any); a value that is
    no ETag of ours names no version (-1), so the edit answers 412 with the current."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    return int(match.group(1)) if match else -1


_WAIT = re.compile(r"(?:^|[\s,;])wait\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def prefer_wait(prefer: str | None, most: float) -> float:
    """The seconds ``Prefer: wait=N`` asks for, at most ``most``; 0 without one."""
    match = _WAIT.search(prefer) if prefer else None
    return 0.0 if match is None else min(float(match.group(1)), most)


def idempotency(key: str | None, body: BaseModel) -> Idempotency | None:
    """An ``Idempotency-Key`` with the request it came with (a repeat must be the same)."""
    return None if key is None else Idempotency(key, body.model_dump(mode="json"))
