"""Inbox: one row per (message, consumer), committed with the handler's changes."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.contracts import Envelope
from frontdesk.kit.db import MessagingTables
from frontdesk.kit.upsert import insert


async def claim(
    session: AsyncSession, tables: MessagingTables, envelope: Envelope, consumer: str
) -> bool:
    """True the first time this consumer sees the message; False for a duplicate.

    A concurrent duplicate blocks on the primary key until the first
    transaction ends, then sees the conflict, so the handler runs once.
    """
    return envelope.id in await claim_many(session, tables, [envelope], consumer)


async def claim_many(
    session: AsyncSession, tables: MessagingTables, envelopes: list[Envelope], consumer: str
) -> set[uuid.UUID]:
    """The ids of ``envelopes`` this consumer sees for the first time, claimed in one
    statement (a message twice in the list is claimed once)."""
    rows = [
        {
            "message_id": envelope.id,
            "consumer": consumer,
            "tenant_id": envelope.tenant_id,
            "routing_key": envelope.routing_key,
        }
        for envelope in envelopes
    ]
    stmt = (
        insert(tables.inbox)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(tables.inbox.c.message_id)
    )
    return set((await session.execute(stmt)).scalars())
