"""Two customers merged into one (customers' ``customer.merged``) and the merge undone
(``customer.unmerged``). What billing held for the merged customer (invoices, credit
notes, payments and refunds, the journal's customer link, memberships, loyalty vouchers)
moves to the
survivor; each moved row is remembered under the merge, and the unmerge moves exactly
those back. Numbers, amounts and an issued document's bill-to details never change:
only the customer link moves.

One row per merge makes both events idempotent and order-proof: a merge already known
(replayed under a new message id) moves nothing again, and an unmerge that arrives
before its merge is remembered, so the late merge moves nothing."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Literal

MergeState = Literal["merged", "unmerged"]
Step = Literal["move", "move_back", "nothing"]


@dataclasses.dataclass
class CustomerMerge:
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    state: MergeState

    @property
    def customers(self) -> list[uuid.UUID]:
        """Both customers, in the one order their accounts are locked."""
        return sorted((self.survivor_id, self.merged_id))


def settlement(
    survivor_credit: int, merged_credit: int
) -> tuple[Literal["survivor", "merged"], int] | None:
    """After an unmerge, a record whose credit is negative used the other's while they
    were one (an invoice of its own settled by the other's overpayment): that much goes
    over from the other, whose credit it was. Answers (who gets it, how much)."""
    if survivor_credit < 0:
        return "survivor", -survivor_credit
    if merged_credit < 0:
        return "merged", -merged_credit
    return None


def on_merged(known: CustomerMerge | None) -> Step:
    """A merge: moved once; a replay, or a merge already undone, moves nothing."""
    return "move" if known is None else "nothing"


def on_unmerged(known: CustomerMerge | None) -> Step:
    """An unmerge moves back what its merge moved, once; before its merge, nothing (and
    the merge, when it comes, finds it undone)."""
    return "move_back" if known is not None and known.state == "merged" else "nothing"
