"""The customer's credit account: the packages it holds are spent together.

A debit takes from the usable packages (active, not empty, not past their expiry),
earliest expiry first, packages without expiry last, oldest first on ties; paused
and expired ones are skipped. All or nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from frontdesk.credits.domain.packages import Package
from frontdesk.kit.errors import ConflictError, RuleBroken


@dataclasses.dataclass(frozen=True)
class Allocation:
    package_id: uuid.UUID
    credits: int


def plan_debit(packages: Iterable[Package], credits: int, now: datetime) -> list[Allocation] | None:
    """Spread ``credits`` over the usable packages, earliest expiry first.

    None when the usable balance is short (nothing is taken then).
    """
    if credits < 0:
        raise RuleBroken("credits", "must not be negative")
    usable = sorted((p for p in packages if p.is_usable(now)), key=Package.debit_order)
    if sum(p.balance for p in usable) < credits:
        return None
    plan: list[Allocation] = []
    left = credits
    for package in usable:
        if left == 0:
            break
        take = min(left, package.balance)
        plan.append(Allocation(package.id, take))
        left -= take
    return plan


@dataclasses.dataclass(kw_only=True, eq=False)
class CreditAccount:
    """One customer's account: the usable and paused credits (recounted from the packages
    after every change), all credits ever bought, and whether the customer is gone.
    Its ``version`` goes up with every change, for ``BalanceChanged``."""

    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    version: int = 0
    available: int = 0
    paused: int = 0
    purchased_total: int = 0
    closed_at: datetime | None = None  # the customer was deleted
    erased_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> CreditAccount:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row})

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def require_open(self) -> None:
        if self.closed:
            raise ConflictError("the customer was deleted", field="customer_id")

    def debit(
        self, packages: Iterable[Package], credits: int, now: datetime, *, booking_id: uuid.UUID
    ) -> list[Allocation] | None:
        """Take ``credits`` from ``packages`` (the customer's, locked) as ``plan_debit``
        spreads them; None, taking nothing, when they do not hold enough."""
        by_id = {package.id: package for package in packages}
        plan = plan_debit(by_id.values(), credits, now)
        for allocation in plan or ():
            by_id[allocation.package_id].debit(allocation.credits, booking_id=booking_id)
        return plan
