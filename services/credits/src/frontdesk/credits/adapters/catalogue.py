"""Credit products and membership plans: one repository each, the same queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select

from frontdesk.credits.adapters.common import CreatedKey, created_page
from frontdesk.credits.adapters.tables import credit_products, membership_plans
from frontdesk.credits.domain.catalogue import CatalogueItem, CreditProduct, MembershipPlan
from frontdesk.kit.db import AggregateRepository

Item = TypeVar("Item", bound=CatalogueItem)


class CatalogueRepository(AggregateRepository[Item]):
    async def page(
        self, limit: int, after: CreatedKey | None = None, *, active: bool | None = None
    ) -> Sequence[Item]:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id)
        if active is not None:
            stmt = stmt.where(t.c.active.is_(active))
        return [self.load(row) for row in await self._all(created_page(stmt, t, limit, after))]


class ProductRepository(CatalogueRepository[CreditProduct]):
    table = credit_products
    aggregate = CreditProduct
    what = "credit product"


class PlanRepository(CatalogueRepository[MembershipPlan]):
    table = membership_plans
    aggregate = MembershipPlan
    what = "membership plan"
