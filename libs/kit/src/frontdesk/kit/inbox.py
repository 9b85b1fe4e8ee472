"""Inbox: one row per (message, consumer), committed with the handler's changes."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.contracts import Envelope
from frontdesk.kit.db import MessagingTables, Prepared, session_writes

# One statement whatever the batch's size (arrays, not a VALUES row per message), so it is
# prepared once per connection and nothing is built or compiled per batch.
_CLAIM = Prepared(
    text(
        "INSERT INTO inbox (message_id, consumer, tenant_id, routing_key) "
        "SELECT m.id, :consumer, m.tenant_id, m.routing_key "
        "FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:keys AS text[])) "
        "AS m (id, tenant_id, routing_key) "
        "ON CONFLICT DO NOTHING RETURNING message_id"
    )
)


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
    assert tables.inbox.name == "inbox"
    rows = await session_writes(session).rows(
        _CLAIM,
        consumer=consumer,
        ids=[envelope.id for envelope in envelopes],
        tenants=[envelope.tenant_id for envelope in envelopes],
        keys=[envelope.routing_key for envelope in envelopes],
    )
    return {row["message_id"] for row in rows}
