"""/v1/calendar-feeds: subscribable iCalendar feeds (S8).

Calendar apps cannot send a bearer token, so a feed is a secret URL
(``/v1/calendar-feeds/{secret}.ics``) that anyone holding it may read until the
feed is deleted. Only the secret's SHA-256 is stored; the secret is shown once,
when the feed is made. Staff scope a feed like ``/v1/calendar.ics`` (a location,
a staff member or a room); a customer's feed holds its own bookings and
appointments.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.problems import Forbidden
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import BoundedDate
from frontdesk.scheduling.api.calendar import ICS
from frontdesk.scheduling.api.schemas import (
    CalendarFeedCreate,
    CalendarFeedCreated,
    CalendarFeedOut,
)
from frontdesk.scheduling.application import feeds

router = APIRouter(prefix="/v1/calendar-feeds", tags=["calendar feeds"])


def feed_url(secret: str) -> str:
    return f"/v1/calendar-feeds/{secret}.ics"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    responses={422: {"description": "No scope, or a scope that does not exist"}},
)
async def create_feed(
    body: CalendarFeedCreate, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CalendarFeedCreated:
    """A new secret feed URL (shown only in this answer). Staff: of a location, staff
    member or room; a customer: of its own bookings and appointments."""
    row, secret = await feeds.create_feed(uow, principal, **body.model_dump())
    response.headers["Location"] = feed_url(secret)
    return CalendarFeedCreated(**CalendarFeedOut.of(row).model_dump(), url=feed_url(secret))


@router.get("", response_model=list[CalendarFeedOut])
async def list_feeds(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    every: Annotated[bool, Query(alias="all")] = False,
) -> list[CalendarFeedOut]:
    """The caller's live feeds, newest first (never their secrets); ``all=true`` (owners
    and admins): every live feed of the tenant."""
    if every and not principal.is_admin:
        raise Forbidden("Listing every feed is for owners and admins.")
    return [CalendarFeedOut.of(r) for r in await feeds.list_feeds(uow, principal, every=every)]


@router.delete(
    "/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such live feed of the caller"}},
)
async def delete_feed(
    feed_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    """Revoke the feed: its URL answers 404 from now on. Owners and admins may revoke any
    feed of the tenant; everyone else their own."""
    await feeds.revoke_feed(uow, principal, feed_id)
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
    secret: str,
    uow: UnitOfWorkDep,
    start: BoundedDate | None = None,
    end: BoundedDate | None = None,
) -> Response:
    """The feed itself: no bearer token, the secret in the URL is the credential.
    30 days back to 180 days ahead unless ``start``/``end`` say otherwise, times in each
    location's time zone. A window with more entries than one feed holds answers 422
    naming ``end`` (never a feed with events left out)."""
    body = await feeds.read_feed(uow, secret, start=start, end=end)
    return Response(
        body,
        media_type=ICS,
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )
