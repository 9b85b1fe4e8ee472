"""Customer assets (C15): the ``Asset`` aggregate's table."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from frontdesk.customers.adapters.tables import customer_assets
from frontdesk.customers.domain.assets import Asset
from frontdesk.kit.db import AggregateRepository, sqlstate
from frontdesk.kit.errors import ConflictError

a = customer_assets.c
UNIQUE_VIOLATION = "23505"


class AssetRepository(AggregateRepository[Asset]):
    table = customer_assets
    aggregate = Asset
    what = "asset"

    async def of_customer(self, customer_id: uuid.UUID) -> list[Asset]:
        rows = await self._all(
            select(customer_assets)
            .where(a.tenant_id == self.tenant_id, a.customer_id == customer_id)
            .order_by(a.created_at, a.id)
        )
        return [self.load(row) for row in rows]

    async def owned(
        self, customer_id: uuid.UUID, asset_id: uuid.UUID, *, for_update: bool = False
    ) -> Asset | None:
        asset = await self.get(asset_id, for_update=for_update)
        return asset if asset is not None and asset.customer_id == customer_id else None

    async def taken(self, asset: Asset) -> None:
        """A plate or VIN another asset of the tenant has: 409 naming the field."""
        for field, value in (("plate_key", asset.plate_key), ("vin", asset.vin)):
            if value is None:
                continue
            other = await self.session.scalar(
                select(a.id).where(
                    a.tenant_id == self.tenant_id, a[field] == value, a.id != asset.id
                )
            )
            if other is not None:
                name = "plate" if field == "plate_key" else "vin"
                raise ConflictError(f"Another asset of this business has this {name}.", field=name)

    async def write(self, asset: Asset, *, new: bool) -> Asset:
        """Insert or save; a plate or VIN taken meanwhile (the unique index) is a 409 too."""
        await self.taken(asset)
        nested = await self.session.begin_nested()
        try:
            saved = await (self.add(asset) if new else self.save(asset))
        except Exception as error:
            await nested.rollback()
            if sqlstate(error) == UNIQUE_VIOLATION:
                raise ConflictError(
                    "Another asset of this business has this plate or VIN.", field="plate"
                ) from None
            raise
        await nested.commit()
        return saved

    async def remove(self, asset_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(customer_assets).where(a.tenant_id == self.tenant_id, a.id == asset_id)
        )
