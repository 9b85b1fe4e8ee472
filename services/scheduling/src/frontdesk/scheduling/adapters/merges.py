"""Customer merges: what a merge moved from the merged record to the survivor, row by
row, so that the unmerge moves exactly those rows back (and nothing the survivor gained
since)."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import Table, and_, exists, func, insert, select, update

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert as pg_insert
from frontdesk.scheduling.adapters.tables import (
    appointments,
    bookings,
    calendar_feeds,
    customer_assets,
    customer_merges,
    merge_moves,
)

# Everything scheduling keys by customer: (table, column, its primary key column).
KEYED: tuple[tuple[Table, str, str], ...] = (
    (bookings, "customer_id", "id"),
    (bookings, "payer_customer_id", "id"),
    (appointments, "customer_id", "id"),
    (calendar_feeds, "customer_id", "id"),
    (customer_assets, "customer_id", "asset_id"),
)

MergeState = Literal["new", "merged", "unmerged"]


class MergeRepository(TenantRepository):
    async def claim(
        self, merge_id: uuid.UUID, survivor_id: uuid.UUID, merged_id: uuid.UUID, status: str
    ) -> MergeState:
        """Record the merge at ``status`` unless it is known; what it was before ("new"
        when it was not). Locks the row, so a merge and its unmerge never cross."""
        inserted = await self.session.execute(
            pg_insert(customer_merges)
            .values(
                tenant_id=self.tenant_id,
                merge_id=merge_id,
                survivor_id=survivor_id,
                merged_id=merged_id,
                status=status,
            )
            .on_conflict_do_nothing()
            .returning(customer_merges.c.merge_id)
        )
        if inserted.first() is not None:
            return "new"
        row = await self._one(
            select(customer_merges.c.status)
            .where(
                customer_merges.c.tenant_id == self.tenant_id,
                customer_merges.c.merge_id == merge_id,
            )
            .with_for_update()
        )
        return "merged" if row["status"] == "merged" else "unmerged"

    async def set_status(self, merge_id: uuid.UUID, status: str) -> None:
        await self.session.execute(
            update(customer_merges)
            .where(
                customer_merges.c.tenant_id == self.tenant_id,
                customer_merges.c.merge_id == merge_id,
            )
            .values(status=status, updated_at=func.now())
        )

    async def move(self, merge_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID) -> int:
        """Every row keyed by ``source`` now keyed by ``target``, each recorded under
        ``merge_id``. An active booking of a session ``target`` already holds an active
        booking of stays where it is (one booking per customer and session). The rows
        moved."""
        moved = 0
        for table, column, key in KEYED:
            c = table.c
            where = [c.tenant_id == self.tenant_id, c[column] == source]
            if table is bookings and column == "customer_id":
                other = bookings.alias("other")
                where.append(
                    ~and_(
                        bookings.c.status.not_in(("cancelled", "rejected")),
                        exists().where(
                            other.c.tenant_id == self.tenant_id,
                            other.c.session_id == bookings.c.session_id,
                            other.c.customer_id == target,
                            other.c.status.not_in(("cancelled", "rejected")),
                        ),
                    )
                )
            result = await self.session.execute(
                update(table).where(*where).values({column: target}).returning(c[key])
            )
            ids = [row[0] for row in result]
            if ids:
                await self.session.execute(
                    insert(merge_moves),
                    [
                        {
                            "tenant_id": self.tenant_id,
                            "merge_id": merge_id,
                            "table_name": table.name,
                            "column_name": column,
                            "row_id": row_id,
                        }
                        for row_id in ids
                    ],
                )
            moved += len(ids)
        return moved

    async def move_back(self, merge_id: uuid.UUID, survivor: uuid.UUID, merged: uuid.UUID) -> int:
        """The rows ``merge_id`` moved (and still keyed by the survivor) back to the
        merged record. The rows moved back."""
        moved = 0
        for table, column, key in KEYED:
            c = table.c
            recorded = select(merge_moves.c.row_id).where(
                merge_moves.c.tenant_id == self.tenant_id,
                merge_moves.c.merge_id == merge_id,
                merge_moves.c.table_name == table.name,
                merge_moves.c.column_name == column,
            )
            result = await self.session.execute(
                update(table)
                .where(c.tenant_id == self.tenant_id, c[column] == survivor, c[key].in_(recorded))
                .values({column: merged})
            )
            moved += result.rowcount or 0  # type: ignore[attr-defined]
        return moved
