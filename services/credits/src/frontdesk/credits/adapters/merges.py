"""Merges: which rows a merge moved (``merge_moves``), so the unmerge moves exactly those
back. Every statement is tenant-filtered; the tables and columns are the fixed list in
``domain.merges.MOVED``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Table, insert, select, update

from frontdesk.credits.adapters.tables import customer_merges as cm
from frontdesk.credits.adapters.tables import merge_moves as mm
from frontdesk.credits.adapters.tables import metadata
from frontdesk.credits.domain.merges import CustomerMerge
from frontdesk.kit.db import TableRepository
from frontdesk.kit.upsert import insert as pg_insert


class MergeRepository(TableRepository[CustomerMerge]):
    table = cm
    what = "merge"

    def load(self, row: RowMapping) -> CustomerMerge:
        return CustomerMerge.from_row(row)

    def _where(self, row_id: uuid.UUID) -> Any:
        return (cm.c.tenant_id == self.tenant_id) & (cm.c.merge_id == row_id)

    async def claim(self, merge: CustomerMerge) -> bool:
        """Insert the merge's row; False if one exists already (then ``lock`` it)."""
        stmt = (
            pg_insert(cm)
            .values(tenant_id=self.tenant_id, **merge.to_row())
            .on_conflict_do_nothing()
            .returning(cm.c.merge_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def lock(self, merge_id: uuid.UUID) -> CustomerMerge:
        return await self.require(merge_id, for_update=True)

    async def save(self, merge: CustomerMerge) -> None:
        row = merge.to_row()
        row.pop("merge_id")
        await self.update(merge.merge_id, row)

    async def move(
        self,
        merge_id: uuid.UUID,
        table_name: str,
        column: str,
        id_column: str,
        from_id: uuid.UUID,
        to_id: uuid.UUID,
    ) -> list[uuid.UUID]:
        """Give ``from_id``'s rows of the table to ``to_id``; remember each moved row."""
        t: Table = metadata.tables[table_name]
        stmt = (
            update(t)
            .where(t.c.tenant_id == self.tenant_id, t.c[column] == from_id)
            .values({column: to_id})
            .returning(t.c[id_column])
        )
        moved = [row[0] for row in (await self.session.execute(stmt)).all()]
        if moved:
            await self.session.execute(
                insert(mm),
                [
                    {
                        "tenant_id": self.tenant_id,
                        "merge_id": merge_id,
                        "table_name": table_name,
                        "column_name": column,
                        "row_id": row_id,
                    }
                    for row_id in moved
                ],
            )
        return moved

    async def move_back(
        self, merge_id: uuid.UUID, table_name: str, column: str, id_column: str, to_id: uuid.UUID
    ) -> int:
        """Give the rows the merge moved back to ``to_id`` (what was added since stays)."""
        t: Table = metadata.tables[table_name]
        moved = select(mm.c.row_id).where(
            mm.c.tenant_id == self.tenant_id,
            mm.c.merge_id == merge_id,
            mm.c.table_name == table_name,
            mm.c.column_name == column,
        )
        stmt = (
            update(t)
            .where(t.c.tenant_id == self.tenant_id, t.c[id_column].in_(moved))
            .values({column: to_id})
            .returning(t.c[id_column])
        )
        return len((await self.session.execute(stmt)).all())

    async def remember(
        self, merge_id: uuid.UUID, table_name: str, row_id: uuid.UUID, before: dict[str, Any]
    ) -> None:
        """What else the merge changed on a moved row (a membership it set aside)."""
        await self.session.execute(
            update(mm)
            .where(
                mm.c.tenant_id == self.tenant_id,
                mm.c.merge_id == merge_id,
                mm.c.table_name == table_name,
                mm.c.column_name == "customer_id",
                mm.c.row_id == row_id,
            )
            .values(before=before)
        )

    async def remembered(self, merge_id: uuid.UUID, table_name: str) -> Sequence[RowMapping]:
        stmt = select(mm).where(
            mm.c.tenant_id == self.tenant_id,
            mm.c.merge_id == merge_id,
            mm.c.table_name == table_name,
            mm.c.before.is_not(None),
        )
        return await self._all(stmt)
