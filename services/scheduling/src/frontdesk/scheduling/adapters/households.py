"""Copies of customers' events scheduling needs: household links (who pays for whom)
and each customer's assets (what an appointment may name). Newer versions win."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, func, select

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert as pg_insert
from frontdesk.scheduling.adapters.tables import customer_assets, household_links


class HouseholdRepository(TenantRepository):
    async def record(
        self,
        payer_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        linked: bool,
        relation: str | None,
        version: int,
    ) -> None:
        """Upsert a link (or its end); an older event never overwrites a newer one."""
        stmt = pg_insert(household_links).values(
            tenant_id=self.tenant_id,
            payer_id=payer_id,
            member_id=member_id,
            linked=linked,
            relation=relation,
            version=version,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                household_links.c.tenant_id,
                household_links.c.payer_id,
                household_links.c.member_id,
            ],
            set_={
                "linked": stmt.excluded.linked,
                "relation": func.coalesce(stmt.excluded.relation, household_links.c.relation),
                "version": stmt.excluded.version,
                "updated_at": func.now(),
            },
            where=household_links.c.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def linked(self, payer_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        row = await self._first(
            select(household_links.c.linked).where(
                household_links.c.tenant_id == self.tenant_id,
                household_links.c.payer_id == payer_id,
                household_links.c.member_id == member_id,
            )
        )
        return bool(row and row["linked"])

    async def members(self, payer_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._all(
            select(household_links.c.member_id).where(
                household_links.c.tenant_id == self.tenant_id,
                household_links.c.payer_id == payer_id,
                household_links.c.linked.is_(True),
            )
        )
        return [row["member_id"] for row in rows]


class AssetRepository(TenantRepository):
    async def record(
        self,
        asset_id: uuid.UUID,
        *,
        customer_id: uuid.UUID,
        kind: str,
        label: str,
        removed: bool,
        version: int,
    ) -> None:
        stmt = pg_insert(customer_assets).values(
            tenant_id=self.tenant_id,
            asset_id=asset_id,
            customer_id=customer_id,
            kind=kind[:100],
            label=label[:500],
            removed=removed,
            version=version,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[customer_assets.c.tenant_id, customer_assets.c.asset_id],
            set_={
                name: getattr(stmt.excluded, name)
                for name in ("customer_id", "kind", "label", "removed", "version")
            }
            | {"updated_at": func.now()},
            where=customer_assets.c.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def get(self, asset_id: uuid.UUID) -> RowMapping | None:
        return await self._first(
            select(customer_assets).where(
                customer_assets.c.tenant_id == self.tenant_id,
                customer_assets.c.asset_id == asset_id,
            )
        )

    async def of_customer(self, customer_id: uuid.UUID) -> Sequence[RowMapping]:
        return await self._all(
            select(customer_assets).where(
                customer_assets.c.tenant_id == self.tenant_id,
                customer_assets.c.customer_id == customer_id,
            )
        )
