"""The copy of each tenant's settings (``tenant_settings``, migration 0007), kept from the
gateway's ``identity.tenant.changed``."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    select,
    tuple_,
)

from frontdesk.customers.adapters.tables import metadata
from frontdesk.customers.domain.tenants import TenantSettings
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert as pg_insert

tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_country", String(2), nullable=False),
    Column("language", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    # The gateway's version of the tenant and when it announced it (newest wins).
    Column("version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id"),
)

FIELDS = ("name", "default_country", "language", "currency", "time_zone", "version", "occurred_at")
t = tenant_settings.c


class TenantSettingsRepository(TenantRepository):
    async def get(self) -> TenantSettings | None:
        row = await self._first(select(tenant_settings).where(t.tenant_id == self.tenant_id))
        if row is None:
            return None
        return TenantSettings(tenant_id=self.tenant_id, **{name: row[name] for name in FIELDS})

    async def keep(self, copy: TenantSettings) -> bool:
        """Stores ``copy`` unless the one kept is as new or newer (``newer_than``, in SQL:
        one statement, so concurrent deliveries cannot both win); whether it was kept."""
        values = {name: getattr(copy, name) for name in FIELDS}
        stmt = pg_insert(tenant_settings).values(tenant_id=self.tenant_id, **values)
        excluded = stmt.excluded
        kept = await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.tenant_id],
                set_={**{name: excluded[name] for name in FIELDS}, "updated_at": func.now()},
                where=tuple_(excluded.version, excluded.occurred_at)
                > tuple_(t.version, t.occurred_at),
            ).returning(t.tenant_id)
        )
        return kept.first() is not None
