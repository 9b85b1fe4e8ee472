"""The tenant's copy as the gateway last told it (one row per tenant)."""

from __future__ import annotations

from sqlalchemy import func, select

from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.tables import tenant_settings as t
from frontdesk.notifications.domain.tenants import TenantCopy


class TenantCopyRepository(TenantRepository):
    async def keep(self, copy: TenantCopy) -> bool:
        """Replace the copy with ``copy`` unless a newer one is kept (False then)."""
        values = {
            "version": copy.version,
            "name": copy.name[:200],
            "language": copy.language,
            "time_zone": copy.time_zone,
            "default_country": copy.default_country,
            "currency": copy.currency,
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
            language=row["language"],
            time_zone=row["time_zone"],
            default_country=row["default_country"],
            currency=row["currency"],
        )
