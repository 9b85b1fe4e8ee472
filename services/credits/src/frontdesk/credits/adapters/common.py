"""What the repositories of credits share: keyset pages, inserting aggregates, and the
append-only histories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from sqlalchemy import RowMapping, Select, Table, and_, or_, select, update

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.db import TenantRepository

A = TypeVar("A", bound=Aggregate)

# The sort key of lists in creation order: (created_at, id) of the last row read.
CreatedKey = tuple[datetime, uuid.UUID]


def created_page(
    stmt: Select[tuple[object]], table: Table, limit: int, after: CreatedKey | None
) -> Select[tuple[object]]:
    """``limit`` rows of ``stmt`` in creation order, after the row keyed ``after``."""
    if after is not None:
        created_at, row_id = after
        stmt = stmt.where(
            or_(
                table.c.created_at > created_at,
                and_(table.c.created_at == created_at, table.c.id > row_id),
            )
        )
    return stmt.order_by(table.c.created_at, table.c.id).limit(limit)


class AppendOnlyHistory(TenantRepository):
    """A history read in ``seq`` order; the one change its append-only trigger allows is
    erasure removing the free-text reasons."""

    history_table: ClassVar[Table]

    async def history_page(
        self, limit: int, after_seq: int | None, **filters: uuid.UUID | None
    ) -> Sequence[RowMapping]:
        h = self.history_table
        stmt = select(h).where(h.c.tenant_id == self.tenant_id)
        for column, value in filters.items():
            if value is not None:
                stmt = stmt.where(h.c[column] == value)
        if after_seq is not None:
            stmt = stmt.where(h.c.seq > after_seq)
        return await self._all(stmt.order_by(h.c.seq).limit(limit))

    async def scrub_reasons(self, customer_id: uuid.UUID) -> None:
        h = self.history_table
        await self.session.execute(
            update(h)
            .where(
                h.c.tenant_id == self.tenant_id,
                h.c.customer_id == customer_id,
                h.c.reason.is_not(None),
            )
            .values(reason=None)
        )
