"""The two catalogues, credit products and membership plans, alike: create, page, read,
edit (with the version read) and retire. Customers see only active entries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from frontdesk.credits.adapters.catalogue import (
    CatalogueRepository,
    PlanRepository,
    ProductRepository,
)
from frontdesk.credits.adapters.common import CreatedKey
from frontdesk.credits.domain.catalogue import CatalogueItem, CreditProduct, MembershipPlan
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork

Item = TypeVar("Item", bound=CatalogueItem)


@dataclass(frozen=True)
class Catalogue(Generic[Item]):
    repository: type[CatalogueRepository[Item]]
    item: type[Item]

    def _repo(self, uow: UnitOfWork, principal: Principal) -> CatalogueRepository[Item]:
        return self.repository(uow.session, principal.tenant_id)

    async def create(
        self, uow: UnitOfWork, principal: Principal, values: Mapping[str, Any]
    ) -> Item:
        item = self.item.new(principal.tenant_id, values)
        await self._repo(uow, principal).add(item)
        await uow.commit()
        return item

    async def page(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        active: bool | None = None,
        after: CreatedKey | None = None,
        limit: int,
    ) -> list[Item]:
        """Entries in creation order (one past ``limit``, to tell whether more follow);
        customers see only the active ones."""
        if principal.is_customer:
            active = True
        return list(await self._repo(uow, principal).page(limit + 1, after, active=active))

    async def get(self, uow: UnitOfWork, principal: Principal, item_id: uuid.UUID) -> Item:
        item = await self._repo(uow, principal).get(item_id)
        if item is None or (principal.is_customer and not item.active):
            raise NotFoundError.of(self.repository.what)
        return item

    async def edit(
        self,
        uow: UnitOfWork,
        principal: Principal,
        item_id: uuid.UUID,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Item:
        """Changes apply to later sales; what was sold keeps its terms."""
        repo = self._repo(uow, principal)
        item = await repo.require(item_id, for_update=True)
        item.require_version(expected_version, self.repository.what)
        item.edit(changes)
        await repo.save(item)
        await uow.commit()
        return item

    async def retire(self, uow: UnitOfWork, principal: Principal, item_id: uuid.UUID) -> None:
        """No longer sold or assigned; what was sold from it stays."""
        repo = self._repo(uow, principal)
        item = await repo.require(item_id, for_update=True)
        item.retire()
        await repo.save(item)
        await uow.commit()


PRODUCTS: Catalogue[CreditProduct] = Catalogue(ProductRepository, CreditProduct)
PLANS: Catalogue[MembershipPlan] = Catalogue(PlanRepository, MembershipPlan)
