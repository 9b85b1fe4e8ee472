"""Merges of customers and what each moved: the customer link of billing's rows goes
from the merged customer to the survivor (and back on the unmerge), each moved row
remembered in ``merge_moves``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Column, Table, cast, func, select, text, update

from frontdesk.billing.adapters.tables import (
    credit_notes,
    customer_memberships,
    customer_merges,
    invoices,
    journal_entries,
    loyalty_vouchers,
    merge_moves,
    payments,
    postings,
    refunds,
)
from frontdesk.billing.domain.merges import CustomerMerge
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert

mm = merge_moves
cm = customer_merges

# What moves with a merge: kind -> (table, its key column).
MOVABLE: dict[str, tuple[Table, Column[Any]]] = {
    "invoice": (invoices, invoices.c.id),
    "credit_note": (credit_notes, credit_notes.c.id),
    "payment": (payments, payments.c.id),
    "refund": (refunds, refunds.c.id),
    "journal_entry": (journal_entries, journal_entries.c.id),
    "posting": (postings, postings.c.id),
    "membership": (customer_memberships, customer_memberships.c.membership_id),
    # Vouchers go with their customer; their uses name invoices, which move on their own.
    "voucher": (loyalty_vouchers, loyalty_vouchers.c.voucher_id),
}


class MergeRepository(TenantRepository):
    async def lock(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        """The merge as known (None: not yet), with its events serialised until commit: a
        merge and its unmerge handled at once would otherwise both find nothing."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"billing:merge:{self.tenant_id}:{merge_id}"},
        )
        row = await self._first(
            select(cm).where(cm.c.tenant_id == self.tenant_id, cm.c.merge_id == merge_id)
        )
        if row is None:
            return None
        return CustomerMerge(row["merge_id"], row["survivor_id"], row["merged_id"], row["state"])

    async def keep(self, merge: CustomerMerge) -> None:
        stmt = insert(cm).values(
            tenant_id=self.tenant_id,
            merge_id=merge.merge_id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            state=merge.state,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[cm.c.tenant_id, cm.c.merge_id],
                set_={"state": stmt.excluded.state, "updated_at": func.now()},
            )
        )

    async def move(self, merge: CustomerMerge) -> int:
        """Everything of the merged customer now the survivor's; answers how many rows."""
        moved = 0
        for kind, (table, key) in MOVABLE.items():
            rows = await self._all(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.customer_id == merge.merged_id)
                .values(customer_id=merge.survivor_id)
                .returning(key)
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
                                "row_key": str(row[key.name]),
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
        for kind, (table, key) in MOVABLE.items():
            was_moved = select(cast(mm.c.row_key, key.type)).where(
                mm.c.tenant_id == self.tenant_id, mm.c.merge_id == merge.merge_id, mm.c.kind == kind
            )
            result = await self.session.execute(
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.customer_id == merge.survivor_id,
                    key.in_(was_moved),
                )
                .values(customer_id=merge.merged_id)
            )
            moved += result.rowcount  # type: ignore[attr-defined]
        return moved + await self._follow_invoices(merge)

    async def _follow_invoices(self, merge: CustomerMerge) -> int:
        """What was done while merged to an invoice that goes back (a payment, a refund,
        a credit note, their journal entries) goes back with it: it belongs to that
        invoice's customer."""
        invoices_back = select(cast(mm.c.row_key, invoices.c.id.type)).where(
            mm.c.tenant_id == self.tenant_id,
            mm.c.merge_id == merge.merge_id,
            mm.c.kind == "invoice",
        )
        moved = 0
        entries: list[Any] = []
        for table in (payments, refunds, credit_notes, journal_entries):
            stmt = (
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.customer_id == merge.survivor_id,
                    table.c.invoice_id.in_(invoices_back),
                )
                .values(customer_id=merge.merged_id)
                .returning(table.c.id)
            )
            ids = [row["id"] for row in await self._all(stmt)]
            if table is journal_entries:
                entries = ids
            moved += len(ids)
        if entries:
            result = await self.session.execute(
                update(postings)
                .where(
                    postings.c.tenant_id == self.tenant_id,
                    postings.c.customer_id == merge.survivor_id,
                    postings.c.entry_id.in_(entries),
                )
                .values(customer_id=merge.merged_id)
            )
            moved += result.rowcount  # type: ignore[attr-defined]
        return moved

    async def currencies(self, merge: CustomerMerge) -> set[str]:
        """The currencies either customer has postings in (whose balances may have moved)."""
        rows = await self.session.execute(
            select(postings.c.currency)
            .where(
                postings.c.tenant_id == self.tenant_id,
                postings.c.customer_id.in_((merge.survivor_id, merge.merged_id)),
            )
            .distinct()
        )
        return set(rows.scalars().all())
