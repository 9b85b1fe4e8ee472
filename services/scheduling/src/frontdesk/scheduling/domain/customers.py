"""What scheduling knows of a customer (kept from customers' events): whether it may book,
and who pays for whom in a household."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken

BARRED = frozenset({"blocked", "deleted"})
# A deleted or erased customer's status: no later status event may lift it.
FOREVER = 2**31 - 1


@dataclass(frozen=True)
class CustomerStanding:
    """A customer's status as customers last told it (None: never told, so active)."""

    customer_id: uuid.UUID
    status: str | None = None

    @property
    def may_book(self) -> bool:
        """The one rule: a blocked or deleted customer cannot book (classes, events or
        appointments)."""
        return self.status not in BARRED

    def ensure_may_book(self) -> None:
        if not self.may_book:
            raise ConflictError(
                "This customer is blocked from booking.",
                field="customer_id",
                title="Customer blocked",
            )


def household_payer(
    *,
    customer_id: uuid.UUID,
    payer_customer_id: uuid.UUID | None,
    acting_customer: uuid.UUID | None,
    linked: bool,
) -> uuid.UUID | None:
    """Who pays for a booking of ``customer_id`` (None: the customer itself).

    A customer token (``acting_customer``) books for itself, or for a member of its
    household as that member's payer; anyone else's id answers 404 (as any customer it
    cannot see). Staff name ``payer_customer_id`` to let a household's payer pay; the
    payer must be linked to the customer (422 naming ``payer_customer_id``). ``linked``:
    whether the payer in question (the acting customer, or the one named) is linked to
    ``customer_id`` as its payer.
    """
    if acting_customer is not None:
        if payer_customer_id not in (None, acting_customer):
            raise NotFoundError.of("customer")
        if customer_id == acting_customer:
            return None
        if not linked:
            raise NotFoundError.of("customer")
        return acting_customer
    if payer_customer_id is None or payer_customer_id == customer_id:
        return None
    if not linked:
        raise RuleBroken("payer_customer_id", "not a household payer of this customer")
    return payer_customer_id


# A merge as scheduling knows it: "new" (never heard of), "merged", "unmerged".
MergeState = str


def merge_moves_now(known: MergeState) -> bool:
    """A merge moves rows once: not again on a redelivery, and never after its unmerge
    arrived first (out of order), which leaves nothing to move back."""
    return known == "new"


def unmerge_moves_now(known: MergeState) -> bool:
    """An unmerge moves back only what its merge moved, once."""
    return known == "merged"
