"""A customers' merge as credits applies it: once per ``merge_id``, and undone once.

``merged`` moves everything of ``merged_id`` to ``survivor_id`` and remembers each moved
row under the merge; ``unmerged`` moves exactly those rows back. An unmerge that arrives
before its merge leaves a tombstone, so the late merge moves nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from frontdesk.kit.errors import RuleBroken

# What a merge moves: (table, customer column, row id column).
MOVED: tuple[tuple[str, str, str], ...] = (
    ("booking_debits", "customer_id", "booking_id"),
    ("booking_debits", "payer_id", "booking_id"),
    ("program_uses", "customer_id", "booking_id"),
    ("programs", "customer_id", "id"),
    ("credit_packages", "customer_id", "id"),
    ("credit_history", "customer_id", "id"),
    ("memberships", "customer_id", "id"),
    ("membership_history", "customer_id", "id"),
    ("loyalty_entries", "customer_id", "id"),
    ("loyalty_vouchers", "customer_id", "id"),
)


@dataclasses.dataclass(kw_only=True, eq=False)
class CustomerMerge:
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    status: str  # merged, unmerged
    merged_at: datetime | None = None  # None: the unmerge arrived first (a tombstone)
    unmerged_at: datetime | None = None
    points_moved: int = 0
    purchased_moved: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> CustomerMerge:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def applied(
        cls, merge_id: uuid.UUID, survivor_id: uuid.UUID, merged_id: uuid.UUID, now: datetime
    ) -> CustomerMerge:
        if survivor_id == merged_id:
            raise RuleBroken("merged_id", "a customer cannot be merged into itself")
        return cls(
            merge_id=merge_id,
            survivor_id=survivor_id,
            merged_id=merged_id,
            status="merged",
            merged_at=now,
        )

    @classmethod
    def tombstone(
        cls, merge_id: uuid.UUID, survivor_id: uuid.UUID, merged_id: uuid.UUID, now: datetime
    ) -> CustomerMerge:
        """The unmerge of a merge not seen yet: the merge, when it comes, moves nothing."""
        return cls(
            merge_id=merge_id,
            survivor_id=survivor_id,
            merged_id=merged_id,
            status="unmerged",
            unmerged_at=now,
        )

    def undo(self, now: datetime) -> bool:
        """Whether there is something to move back (a merge undone only once)."""
        if self.status != "merged":
            return False
        self.status = "unmerged"
        self.unmerged_at = now
        return True

    def points_back(self, survivor_balance: int) -> int:
        """Points the unmerge gives back: what the merge moved, as far as the survivor
        has not spent them since."""
        return min(self.points_moved, survivor_balance)

    def purchased_back(self, survivor_purchased: int) -> int:
        return min(self.purchased_moved, survivor_purchased)
