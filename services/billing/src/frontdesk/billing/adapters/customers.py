"""Customers and their memberships as billing knows them (read models kept from
customers' and credits' events, each row at its aggregate's latest version)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from frontdesk.billing.adapters.tables import billing_customers as c
from frontdesk.billing.adapters.tables import customer_memberships as m
from frontdesk.billing.domain.customers import KnownCustomer
from frontdesk.billing.domain.memberships import KnownMembership
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert


class CustomerRepository(TenantRepository):
    async def upsert(self, customer: KnownCustomer, version: int) -> bool:
        """Keep the customer as of ``version``; False when a later version is known."""
        values = {
            "first_name": customer.first_name[:200],
            "last_name": customer.last_name[:200],
            "email": customer.email,
            "version": version,
        }
        stmt = insert(c).values(
            tenant_id=self.tenant_id, customer_id=customer.customer_id, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.c.tenant_id, c.c.customer_id],
            set_={**{k: stmt.excluded[k] for k in values}, "updated_at": stmt.excluded.updated_at},
            where=c.c.version < stmt.excluded.version,
        )
        result = await self.session.execute(stmt.returning(c.c.customer_id))
        return result.first() is not None

    async def get(self, customer_id: uuid.UUID) -> KnownCustomer | None:
        row = await self._first(
            select(c).where(c.c.tenant_id == self.tenant_id, c.c.customer_id == customer_id)
        )
        if row is None:
            return None
        return KnownCustomer(
            customer_id=row["customer_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            email=row["email"],
        )

    async def forget(self, customer_id: uuid.UUID) -> None:
        for table in (c, m):
            await self.session.execute(
                delete(table).where(
                    table.c.tenant_id == self.tenant_id, table.c.customer_id == customer_id
                )
            )


class MembershipRepository(TenantRepository):
    async def upsert(self, values: Mapping[str, Any], version: int) -> bool:
        """Keep the membership as of ``version``; False when a later version is known."""
        stmt = insert(m).values(tenant_id=self.tenant_id, version=version, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.c.tenant_id, m.c.membership_id],
            set_={**{k: stmt.excluded[k] for k in values}, "version": version},
            where=m.c.version < stmt.excluded.version,
        )
        result = await self.session.execute(stmt.returning(m.c.membership_id))
        return result.first() is not None

    async def of_customer(self, customer_id: uuid.UUID) -> list[KnownMembership]:
        rows = await self._all(
            select(m).where(m.c.tenant_id == self.tenant_id, m.c.customer_id == customer_id)
        )
        return [
            KnownMembership(
                membership_id=row["membership_id"],
                customer_id=row["customer_id"],
                plan_name=row["plan_name"],
                discount_percent=row["discount_percent"],
                included_services=list(row["included_services"]),
                starts_at=row["starts_at"],
                expires_at=row["expires_at"],
                status=row["status"],
            )
            for row in rows
        ]
