"""Tenants: by id within the tenant, and by slug (a login names its tenant)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.gateway.adapters.tables import tenants
from frontdesk.gateway.domain.tenants import Tenant
from frontdesk.kit.db import AggregateRepository


class TenantsRepository(AggregateRepository[Tenant]):
    table = tenants
    aggregate = Tenant
    what = "tenant"


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    """The one query across tenants: a login names its tenant by slug."""
    row = (await session.execute(select(tenants).where(tenants.c.slug == slug))).mappings().first()
    return None if row is None else Tenant.from_row(row)
