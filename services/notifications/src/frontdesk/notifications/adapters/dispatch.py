"""The sender worker's queries: which tenants have due messages, claiming them (``FOR
UPDATE SKIP LOCKED``, so several workers share the work and never take the same row),
and the sends whose outcome is still unknown."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.notifications.adapters.tables import messages as m
from frontdesk.notifications.domain.messages import Status


def _claimable(now: datetime) -> object:
    return and_(
        m.c.status == Status.queued,
        m.c.due_at <= now,
        or_(m.c.claimed_until.is_(None), m.c.claimed_until < now),
    )


async def due_groups(
    session: AsyncSession, now: datetime, limit: int = 500
) -> list[tuple[uuid.UUID, str]]:
    """(tenant, channel) pairs with messages due and unclaimed."""
    stmt = (
        select(m.c.tenant_id, m.c.channel)
        .where(_claimable(now))  # type: ignore[arg-type]
        .group_by(m.c.tenant_id, m.c.channel)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def claim(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel: str,
    count: int,
    *,
    token: uuid.UUID,
    until: datetime,
    now: datetime,
) -> list[uuid.UUID]:
    """Up to ``count`` due messages of one tenant and channel, earliest first, leased to
    ``token`` until ``until`` (rows another worker holds are skipped, not waited for)."""
    if count <= 0:
        return []
    due = (
        select(m.c.id)
        .where(m.c.tenant_id == tenant_id, m.c.channel == channel, _claimable(now))  # type: ignore[arg-type]
        .order_by(m.c.due_at, m.c.id)
        .limit(count)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(m)
        .where(m.c.tenant_id == tenant_id, m.c.id.in_(due))
        .values(claim_token=token, claimed_until=until)
        .returning(m.c.id, m.c.due_at)
    )
    rows = (await session.execute(stmt)).all()
    return [row[0] for row in sorted(rows, key=lambda r: (r[1], r[0]))]


async def unknown_outcomes(
    session: AsyncSession, before: datetime, limit: int = 100
) -> Sequence[tuple[uuid.UUID, uuid.UUID]]:
    """(tenant, message) of sends still ``sending`` since before ``before``: a worker died
    mid-send, or the request timed out after it went out."""
    stmt = (
        select(m.c.tenant_id, m.c.id)
        .where(m.c.status == Status.sending, m.c.sending_at < before)
        .order_by(m.c.sending_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def database_now(session: AsyncSession) -> datetime:
    now: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return now
