"""/v1/calendar-feeds: subscribable iCalendar feeds (S8).

Calendar apps cannot send a bearer token, so a feed is a secret URL
(``/v1/calendar-feeds/{secret}.ics``) that anyone holding it may read until the
feed is deleted. Only the secret's SHA-256 is stored; the secret is shown once,
when the feed is made. Staff scope a feed like ``/v1/calendar.ics`` (a location,
a staff member or a room); a customer's feed holds its own bookings and
appointments.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.kit.auth import CurrentPrincipal, Principal
from frontdesk.kit.problems import Forbidden, InvalidInput, NotFound
from frontdesk.kit.service import RuntimeDep
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.calendar import ICS, feed_window, render_ics
from frontdesk.scheduling.api.deps import check_staff, location_zone
from frontdesk.scheduling.api.schemas import (
    CalendarFeedCreate,
    CalendarFeedCreated,
    CalendarFeedOut,
)

router = APIRouter(prefix="/v1/calendar-feeds", tags=["calendar feeds"])
_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
SCOPES = ("location_id", "staff_id", "room_id")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_url(secret: str) -> str:
    return f"/v1/calendar-feeds/{secret}.ics"


async def _scope(
    repo: Repository, principal: Principal, body: CalendarFeedCreate
) -> dict[str, uuid.UUID]:
    if principal.is_customer:
        for field in SCOPES:
            if getattr(body, field) is not None:
                raise InvalidInput.for_field(
                    field, "a customer's feed holds its own bookings; leave this out"
                )
        if principal.customer_id is None:
            raise Forbidden("This token names no customer.")
        return {"customer_id": principal.customer_id}
    given: dict[str, uuid.UUID] = {
        field: getattr(body, field) for field in SCOPES if getattr(body, field) is not None
    }
    if not given:
        raise InvalidInput.for_field("location_id", "give location_id, staff_id or room_id")
    if body.location_id is not None:
        await location_zone(repo, body.location_id)
    await check_staff(repo, body.staff_id)
    if body.room_id is not None and await repo.room(body.room_id) is None:
        raise InvalidInput.for_field("room_id", "no such room or bay")
    return given


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    responses={422: {"description": "No scope, or a scope that does not exist"}},
)
async def create_feed(
    body: CalendarFeedCreate, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> CalendarFeedCreated:
    """A new secret feed URL (shown only in this answer). Staff: of a location, staff
    member or room; a customer: of its own bookings and appointments."""
    secret = secrets.token_urlsafe(32)
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        scope = await _scope(repo, principal, body)
        row = await repo.add_feed(
            {
                "id": uuid.uuid4(),
                "secret_hash": secret_hash(secret),
                "created_by": principal.sub,
                "name": body.name.strip() if body.name and body.name.strip() else None,
                **scope,
            }
        )
        await uow.commit()
    response.headers["Location"] = feed_url(secret)
    return CalendarFeedCreated(**CalendarFeedOut.of(row).model_dump(), url=feed_url(secret))


@router.get("", response_model=list[CalendarFeedOut])
async def list_feeds(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    every: Annotated[bool, Query(alias="all")] = False,
) -> list[CalendarFeedOut]:
    """The caller's live feeds, newest first (never their secrets); ``all=true`` (owners
    and admins): every live feed of the tenant."""
    if every and not principal.is_admin:
        raise Forbidden("Listing every feed is for owners and admins.")
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_feeds(
            None if every else principal.sub
        )
    return [CalendarFeedOut.of(r) for r in rows]


@router.delete(
    "/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such live feed of the caller"}},
)
async def delete_feed(feed_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal) -> Response:
    """Revoke the feed: its URL answers 404 from now on. Owners and admins may revoke any
    feed of the tenant; everyone else their own."""
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        feed = await repo.feed(feed_id, for_update=True)
        if feed is None or (not principal.is_admin and feed["created_by"] != principal.sub):
            raise NotFound("No such calendar feed.")
        await repo.revoke_feed(feed_id)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{secret}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar"},
        404: {"description": "No such feed, or it was revoked"},
        422: {"description": "Bad dates, or more entries in the window than one feed holds"},
    },
)
async def read_feed(
    secret: str, rt: RuntimeDep, start: date | None = None, end: date | None = None
) -> Response:
    """The feed itself: no bearer token, the secret in the URL is the credential.
    30 days back to 180 days ahead unless ``start``/``end`` say otherwise, times in each
    location's time zone. A window with more entries than one feed holds answers 422
    naming ``end`` (never a feed with events left out)."""
    if not _SECRET.match(secret):
        raise NotFound("No such calendar feed.")
    window = feed_window(start, end)
    async with rt.uow() as uow:
        feed = await Repository(uow.session, uuid.UUID(int=0)).feed_by_secret_hash(
            secret_hash(secret)
        )
        if feed is None:
            raise NotFound("No such calendar feed.")
        body = await render_ics(
            Repository(uow.session, feed["tenant_id"]),
            window=window,
            location_id=feed["location_id"],
            staff_id=feed["staff_id"],
            room_id=feed["room_id"],
            customer_id=feed["customer_id"],
            name=feed["name"],
        )
    return Response(
        body,
        media_type=ICS,
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )
