"""Inbox: one row per (message, consumer), committed with the handler's changes."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.contracts import Envelope
from frontdesk.kit.db import MessagingTables


async def claim(
    session: AsyncSession, tables: MessagingTables, envelope: Envelope, consumer: str
) -> bool:
    """True the first time this consumer sees the message; False for a duplicate.

    A concurrent duplicate blocks on the primary key until the first
    transaction ends, then sees the conflict, so the handler runs once.
    """
    stmt = (
        insert(tables.inbox)
        .values(
            message_id=envelope.id,
            consumer=consumer,
            tenant_id=envelope.tenant_id,
            routing_key=envelope.routing_key,
        )
        .on_conflict_do_nothing()
        .returning(tables.inbox.c.message_id)
    )
    return (await session.execute(stmt)).first() is not None
