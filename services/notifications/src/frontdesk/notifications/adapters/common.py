"""What the repositories share: the one way a read model row is made sure to exist."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from sqlalchemy import select

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.db import AggregateRepository
from frontdesk.kit.upsert import insert

A = TypeVar("A", bound=Aggregate)


class ReadModelRepository(AggregateRepository[A]):
    """A read model kept from another service's events: rows keyed (tenant, id) that two
    events may create at once (the consumer handles several messages concurrently)."""

    async def ensure(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> A:
        """The row locked for update, inserted with ``values`` first if it was missing
        (of two concurrent inserts one waits and then finds the other's row)."""
        await self.session.execute(
            insert(self.table)
            .values(**{**values, "id": row_id, "tenant_id": self.tenant_id})
            .on_conflict_do_nothing()
        )
        return await self.require(row_id, for_update=True)

    async def get_many(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, A]:
        if not ids:
            return {}
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id, t.c.id.in_(list(ids)))
        return {row["id"]: self.load(row) for row in await self._all(stmt)}
