"""What the tenant sells and offers: credit products and membership plans.

Edits apply to later sales only (packages and memberships keep the terms they were
sold with); retiring an entry stops its sale and keeps it for what was sold from it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Self

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken


@dataclasses.dataclass(kw_only=True, eq=False)
class CatalogueItem(Aggregate):
    name: str
    active: bool = True
    created_at: datetime | None = None  # None until saved: the database stamps it
    updated_at: datetime | None = None

    @classmethod
    def new(cls, tenant_id: uuid.UUID, values: Mapping[str, Any]) -> Self:
        return cls(id=uuid.uuid4(), tenant_id=tenant_id, **values)

    def edit(self, changes: Mapping[str, Any]) -> None:
        self.change(**changes)

    def retire(self) -> None:
        """No longer sold or assignable; what was sold from it stays as it is."""
        self.change(active=False)


@dataclasses.dataclass(kw_only=True, eq=False)
class CreditProduct(CatalogueItem):
    description: str | None = None
    credits: int
    price_minor: int
    currency: str
    validity_days: int | None = None

    def expiry_from(self, start: datetime) -> datetime | None:
        return expiry_for(self.validity_days, start)


@dataclasses.dataclass(kw_only=True, eq=False)
class MembershipPlan(CatalogueItem):
    discount_percent: int
    included_services: list[str] = dataclasses.field(default_factory=list)
    priority_label: str | None = None
    duration_days: int


def expiry_for(validity_days: int | None, start: datetime) -> datetime | None:
    return start + timedelta(days=validity_days) if validity_days else None


def on_sale(product: CreditProduct | None) -> CreditProduct:
    """The product, if it is (still) sold."""
    if product is None or not product.active:
        raise RuleBroken("product_id", "no such active product")
    return product


def offered(plan: MembershipPlan | None) -> MembershipPlan:
    """The plan, if it is (still) assignable."""
    if plan is None or not plan.active:
        raise RuleBroken("plan_id", "no such active membership plan")
    return plan
