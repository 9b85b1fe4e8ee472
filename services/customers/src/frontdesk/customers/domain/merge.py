"""Merges (C13): which two records may become one, the merge's log entry and how long
it can be undone. No framework code here.

A merge never erases: the merged record is marked (``merged_into``) and everything it
held moves to the survivor, remembered by id in ``moved`` so that an undo moves exactly
that back (what the survivor gained since stays with it).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.customers.domain.customer import Customer
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken

# How a candidate's reasons add up to its score (each reason alone gives its weight; a
# name's weight is scaled by its similarity): 1 - prod(1 - weight).
EMAIL_WEIGHT = 0.9
PHONE_WEIGHT = 0.8
NAME_WEIGHT = 0.7
# Names at least this similar (pg_trgm similarity, 0..1) are candidates.
NAME_SIMILARITY = 0.5


def duplicate_score(reasons: Mapping[str, float]) -> float:
    """``reasons``: ``email``/``phone`` (1.0 when the same) and ``name`` (its similarity)."""
    weights = {"email": EMAIL_WEIGHT, "phone": PHONE_WEIGHT, "name": NAME_WEIGHT}
    miss = 1.0
    for reason, strength in reasons.items():
        miss *= 1 - weights[reason] * max(0.0, min(1.0, strength))
    return round(1 - miss, 4)


def check_mergeable(survivor: Customer, merged: Customer) -> None:
    """Two different records of the tenant, neither erased nor merged already."""
    if survivor.id == merged.id:
        raise RuleBroken("merged_id", "A customer cannot be merged into itself.")
    for who, customer in (("survivor", survivor), ("merged", merged)):
        if customer.erased:
            raise ConflictError(f"The {who} record was erased; it cannot take part in a merge.")
        if customer.merged:
            raise ConflictError(f"The {who} record was already merged into {customer.merged_into}.")


@dataclasses.dataclass(kw_only=True, eq=False)
class Merge(Aggregate):
    """The log entry of one merge: who, when, what moved, and its undo."""

    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_by: str
    undo_until: datetime
    merged_at: datetime | None = None
    undone_at: datetime | None = None
    undone_by: str | None = None
    moved: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> Merge:
        merge = super().from_row(row)
        if isinstance(merge.moved, str):
            merge.moved = json.loads(merge.moved)
        return merge

    @classmethod
    def start(
        cls,
        survivor: Customer,
        merged: Customer,
        *,
        by: str,
        now: datetime,
        undo_days: int,
    ) -> Merge:
        """The merge of ``merged`` into ``survivor`` (both locked by the caller): the
        records change here, what the service keeps about them moves in the application."""
        check_mergeable(survivor, merged)
        merge = cls(
            id=uuid.uuid4(),
            tenant_id=survivor.tenant_id,
            survivor_id=survivor.id,
            merged_id=merged.id,
            merged_by=by,
            merged_at=now,
            undo_until=now + timedelta(days=undo_days),
        )
        tags, values = survivor.absorb(merged)
        merged.merge_into(survivor.id, now)
        merge.moved = {"tags": tags, "custom_fields": values}
        merge.record(
            CustomerMerged(
                merge_id=merge.id, survivor_id=survivor.id, merged_id=merged.id, merged_by=by
            )
        )
        return merge

    @property
    def undone(self) -> bool:
        return self.undone_at is not None

    def undo(self, survivor: Customer, merged: Customer, *, by: str, now: datetime) -> None:
        """Both records as they were; refused once undone, past its period, or while the
        survivor is itself merged into another record (undo that merge first)."""
        if self.undone:
            raise ConflictError("This merge was already undone.")
        if now > self.undo_until:
            raise ConflictError(
                f"This merge can no longer be undone (it could until {self.undo_until})."
            )
        if survivor.merged:
            raise ConflictError(
                f"The surviving record was merged into {survivor.merged_into} since; "
                "undo that merge first."
            )
        if merged.merged_into != survivor.id:
            raise ConflictError("The merged record no longer points at the survivor.")
        survivor.give_back(list(self.moved.get("tags", [])), self.moved.get("custom_fields", {}))
        merged.unmerge()
        self.change(undone_at=now, undone_by=by)
        self.record(
            CustomerUnmerged(
                merge_id=self.id,
                survivor_id=self.survivor_id,
                merged_id=self.merged_id,
                unmerged_by=by,
            )
        )
