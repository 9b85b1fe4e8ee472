"""What scheduling knows of a customer: whether it may book (kept from customers' events)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from frontdesk.kit.errors import ConflictError

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
