"""The tenant's copy as the gateway last told it (one row per tenant)."""

from __future__ import annotations

from sqlalchemy import func, select

from frontdesk.billing.adapters.tables import tenant_settings as t
from frontdesk.billing.domain.tenants import TenantCopy
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert


class TenantCopyRepository(TenantRepository):
    async def keep(self, copy: TenantCopy) -> bool:
        """Replace the copy with ``copy`` unless a newer one is kept (False then)."""
        values = {
            "version": copy.version,
            "name": copy.name[:200],
            "default_country": copy.default_country,
            "language": copy.language,
            "currency": copy.currency,
            "time_zone": copy.time_zone,
            "seller": dict(copy.seller),
        }
        stmt = insert(t).values(tenant_id=self.tenant_id, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.tenant_id],
            set_={**{k: stmt.excluded[k] for k in values}, "updated_at": func.now()},
            where=t.c.version < stmt.excluded.version,
        )
        return (await self.session.execute(stmt.returning(t.c.tenant_id))).first() is not None

    async def get(self) -> TenantCopy | None:
        row = await self._first(select(t).where(t.c.tenant_id == self.tenant_id))
        if row is None:
            return None
        return TenantCopy(
            name=row["name"],
            version=row["version"],
            default_country=row["default_country"],
            language=row["language"],
            currency=row["currency"],
            time_zone=row["time_zone"],
            seller=row["seller"] or {},
        )
