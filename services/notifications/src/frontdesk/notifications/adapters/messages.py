"""The message log: one row per message (and per reply received)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from frontdesk.kit.db import AggregateRepository
from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.tables import messages as m
from frontdesk.notifications.domain.messages import Message, Status

INSERT_CHUNK = 500  # rows of about 30 columns each per INSERT
# The sort key of the log, newest first: (created_at, id) of the last row read.
LogKey = tuple[datetime, uuid.UUID]


class MessageRepository(AggregateRepository[Message]):
    table = m
    aggregate = Message
    what = "message"

    async def add_new(self, planned: Sequence[Message]) -> list[Message]:
        """Insert messages; one whose ``dedupe_key`` is taken already exists and is left
        out (a redelivered event under a new id adds nothing). Answers those inserted."""
        if not planned:
            return []
        rows = []
        for message in planned:
            if message.tenant_id != self.tenant_id:
                raise ValueError("a message of another tenant cannot be added here")
            values = message.to_row()
            rows.append(
                {k: v for k, v in values.items() if v is not None or m.c[k].server_default is None}
            )
        inserted: set[uuid.UUID] = set()
        # In chunks: PostgreSQL takes at most 32,767 parameters in one statement.
        for start in range(0, len(rows), INSERT_CHUNK):
            stmt = (
                insert(m)
                .values(rows[start : start + INSERT_CHUNK])
                .on_conflict_do_nothing(
                    index_elements=[m.c.tenant_id, m.c.dedupe_key],
                    index_where=m.c.dedupe_key.is_not(None),
                )
                .returning(m.c.id)
            )
            inserted.update((await self.session.execute(stmt)).scalars().all())
        return [message for message in planned if message.id in inserted]

    async def get_many(
        self, ids: Sequence[uuid.UUID], *, for_update: bool = False
    ) -> list[Message]:
        """Messages by id, locked in id order when asked (so batches never deadlock)."""
        if not ids:
            return []
        stmt = select(m).where(m.c.tenant_id == self.tenant_id, m.c.id.in_(list(ids)))
        stmt = stmt.order_by(m.c.id)
        if for_update:
            stmt = stmt.with_for_update()
        return [self.load(row) for row in await self._all(stmt)]

    async def queued_of_booking(
        self, booking_id: uuid.UUID, kinds: Sequence[str] | None = None
    ) -> list[Message]:
        """The booking's messages not yet handed to a provider, locked."""
        stmt = select(m).where(
            m.c.tenant_id == self.tenant_id,
            m.c.booking_id == booking_id,
            m.c.status == Status.queued,
        )
        if kinds is not None:
            stmt = stmt.where(m.c.kind.in_(list(kinds)))
        return [self.load(row) for row in await self._all(stmt.with_for_update())]

    async def link_customer(self, booking_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        """A guest's booking got its customer: its messages without one are theirs."""
        await self.session.execute(
            update(m)
            .where(
                m.c.tenant_id == self.tenant_id,
                m.c.booking_id == booking_id,
                m.c.customer_id.is_(None),
            )
            .values(customer_id=customer_id, version=m.c.version + 1, updated_at=func.now())
        )

    async def cancel_queued_of_customer(self, customer_id: uuid.UUID, reason: str) -> int:
        result = await self.session.execute(
            update(m)
            .where(
                m.c.tenant_id == self.tenant_id,
                m.c.customer_id == customer_id,
                m.c.status == Status.queued,
            )
            .values(
                status=Status.cancelled,
                error_code="cancelled",
                error_message=reason,
                claim_token=None,
                claimed_until=None,
                version=m.c.version + 1,
                updated_at=func.now(),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def scrub_customer(self, customer_id: uuid.UUID) -> int:
        """Erasure: recipients and words go; the rows (and so the counts) stay."""
        result = await self.session.execute(
            update(m)
            .where(m.c.tenant_id == self.tenant_id, m.c.customer_id == customer_id)
            .values(
                recipient=None,
                subject=None,
                body=None,
                written_body=None,
                reply_to=None,
                context=None,
                erased=True,
                version=m.c.version + 1,
                updated_at=func.now(),
            )
        )
        await self.session.execute(
            update(m)
            .where(
                m.c.tenant_id == self.tenant_id,
                m.c.customer_id == customer_id,
                m.c.direction == "inbound",
            )
            .values(sender=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def by_provider_id(self, provider_id: str, *, for_update: bool = False) -> Message | None:
        stmt = select(m).where(m.c.tenant_id == self.tenant_id, m.c.provider_id == provider_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def page(self, limit: int, after: LogKey | None = None, **filters: Any) -> list[Message]:
        """The log newest first, filtered by the columns given (None: any)."""
        stmt = select(m).where(m.c.tenant_id == self.tenant_id)
        for column, value in filters.items():
            if value is not None:
                stmt = stmt.where(m.c[column] == value)
        if after is not None:
            created_at, row_id = after
            stmt = stmt.where(
                or_(
                    m.c.created_at < created_at,
                    and_(m.c.created_at == created_at, m.c.id < row_id),
                )
            )
        stmt = stmt.order_by(m.c.created_at.desc(), m.c.id.desc()).limit(limit)
        return [self.load(row) for row in await self._all(stmt)]

    async def counts_of_bulk(self, bulk_id: uuid.UUID) -> dict[str, int]:
        stmt = (
            select(m.c.status, func.count())
            .where(m.c.tenant_id == self.tenant_id, m.c.bulk_id == bulk_id)
            .group_by(m.c.status)
        )
        return {str(row[0]): int(row[1]) for row in (await self.session.execute(stmt)).all()}
