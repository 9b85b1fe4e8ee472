"""Subscribable iCalendar feeds: a secret URL that anyone holding it may read until the
feed is revoked. Staff scope a feed like ``/v1/calendar.ics``; a customer's feed holds
its own bookings and appointments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters.feeds import feed_by_secret_hash
from frontdesk.scheduling.application.calendar import render_ics
from frontdesk.scheduling.application.common import Row, location, repositories, staff_member
from frontdesk.scheduling.domain import feeds
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.calendar import Scope, feed_window


async def create_feed(
    uow: UnitOfWork,
    principal: Principal,
    *,
    name: str | None,
    location_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    room_id: uuid.UUID | None,
) -> tuple[Row, str]:
    """A new feed and its secret (shown only now: only its hash is kept). Staff: of a
    location, staff member or room; a customer: of its own bookings and appointments."""
    repos = repositories(uow, principal.tenant_id)
    if principal.customer_id is not None:
        scope = Scope.for_customer(principal.customer_id, location_id, staff_id, room_id)
    else:
        scope = Scope.for_staff(location_id, staff_id, room_id)
        if location_id is not None:
            await location(repos, location_id)
        await staff_member(repos, staff_id)
        if room_id is not None and await repos.rooms.get(room_id) is None:
            raise RuleBroken("room_id", "no such room or bay")
    secret = feeds.new_secret()
    row = await repos.feeds.insert(
        {
            "id": uuid.uuid4(),
            "secret_hash": feeds.secret_hash(secret),
            "created_by": principal.sub,
            "name": feeds.feed_name(name),
            "location_id": scope.location_id,
            "staff_id": scope.staff_id,
            "room_id": scope.room_id,
            "customer_id": scope.customer_id,
        }
    )
    await uow.commit()
    return row, secret


async def list_feeds(uow: UnitOfWork, principal: Principal, *, every: bool) -> Sequence[Row]:
    """The caller's live feeds, newest first; ``every``: every live feed of the tenant."""
    return await repositories(uow, principal.tenant_id).feeds.created_by(
        None if every else principal.sub
    )


async def revoke_feed(uow: UnitOfWork, principal: Principal, feed_id: uuid.UUID) -> None:
    """The feed's URL answers 404 from now on. Owners and admins may revoke any feed of
    the tenant; everyone else their own."""
    repos = repositories(uow, principal.tenant_id)
    feed = await repos.feeds.get(feed_id, for_update=True)
    if feed is None or (not principal.is_admin and feed["created_by"] != principal.sub):
        raise NotFoundError.of("calendar feed")
    await repos.feeds.revoke(feed_id)
    await uow.commit()


async def read_feed(uow: UnitOfWork, secret: str, *, start: date | None, end: date | None) -> bytes:
    """The calendar a secret URL names (no other credential): a malformed, unknown or
    revoked secret is not found."""
    if not feeds.could_be_secret(secret):
        raise NotFoundError.of("calendar feed")
    window = feed_window(start, end, tz.now().date())
    feed = await feed_by_secret_hash(uow.session, feeds.secret_hash(secret))
    if feed is None:
        raise NotFoundError.of("calendar feed")
    scope = Scope(
        location_id=feed["location_id"],
        staff_id=feed["staff_id"],
        room_id=feed["room_id"],
        customer_id=feed["customer_id"],
    )
    return await render_ics(repositories(uow, feed["tenant_id"]), scope, window, feed["name"])
