"""Merges of customers and what each moved: the customer link of messages and bookings
goes from the merged customer to the survivor (and back), each moved row remembered."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text, update

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.tables import bookings, customer_merges, merge_moves, messages
from frontdesk.notifications.domain.merges import CustomerMerge

cm = customer_merges
mm = merge_moves
MOVABLE = {"message": messages, "booking": bookings}


class MergeRepository(TenantRepository):
    async def lock(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        """The merge as known (None: not yet), its events serialised until commit (a merge
        and its unmerge handled at once would otherwise both find nothing)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"notifications:merge:{self.tenant_id}:{merge_id}"},
        )
        row = await self._first(
            select(cm).where(cm.c.tenant_id == self.tenant_id, cm.c.merge_id == merge_id)
        )
        if row is None:
            return None
        return CustomerMerge(
            merge_id=row["merge_id"],
            survivor_id=row["survivor_id"],
            merged_id=row["merged_id"],
            state=row["state"],
            consent_turned_off=list(row["consent_turned_off"]),
        )

    async def keep(self, merge: CustomerMerge) -> None:
        values = {"state": merge.state, "consent_turned_off": list(merge.consent_turned_off)}
        stmt = insert(cm).values(
            tenant_id=self.tenant_id,
            merge_id=merge.merge_id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            **values,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[cm.c.tenant_id, cm.c.merge_id],
                set_={**{k: stmt.excluded[k] for k in values}, "updated_at": func.now()},
            )
        )

    async def move(self, merge: CustomerMerge) -> int:
        moved = 0
        for kind, table in MOVABLE.items():
            rows = await self._all(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.customer_id == merge.merged_id)
                .values(customer_id=merge.survivor_id)
                .returning(table.c.id)
            )
            if rows:
                await self.session.execute(
                    insert(mm)
                    .values(
                        [
                            {
                                "tenant_id": self.tenant_id,
                                "merge_id": merge.merge_id,
                                "kind": kind,
                                "row_id": row["id"],
                            }
                            for row in rows
                        ]
                    )
                    .on_conflict_do_nothing()
                )
            moved += len(rows)
        return moved

    async def move_back(self, merge: CustomerMerge) -> int:
        """Exactly what the merge moved goes back (what the survivor gained since stays)."""
        moved = 0
        for kind, table in MOVABLE.items():
            was_moved = select(mm.c.row_id).where(
                mm.c.tenant_id == self.tenant_id, mm.c.merge_id == merge.merge_id, mm.c.kind == kind
            )
            result = await self.session.execute(
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.customer_id == merge.survivor_id,
                    table.c.id.in_(was_moved),
                )
                .values(customer_id=merge.merged_id)
            )
            moved += result.rowcount  # type: ignore[attr-defined]
        return moved
