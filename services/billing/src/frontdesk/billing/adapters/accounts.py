"""Customers' billing accounts: the row every change to a customer's money locks first,
and the version ``AccountChanged`` carries. No balance is kept here (see ``ledger``)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from frontdesk.billing.adapters.tables import billing_accounts as a
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert


class AccountRepository(TenantRepository):
    async def lock(self, customer_id: uuid.UUID) -> int:
        """Lock the customer's account (created if missing) for this transaction; answers
        its version."""
        await self.session.execute(
            insert(a)
            .values(tenant_id=self.tenant_id, customer_id=customer_id)
            .on_conflict_do_nothing()
        )
        row = await self._one(
            select(a.c.version)
            .where(a.c.tenant_id == self.tenant_id, a.c.customer_id == customer_id)
            .with_for_update()
        )
        return int(row["version"])

    async def bump(self, customer_id: uuid.UUID) -> int:
        row = await self._one(
            update(a)
            .where(a.c.tenant_id == self.tenant_id, a.c.customer_id == customer_id)
            .values(version=a.c.version + 1, updated_at=func.now())
            .returning(a.c.version)
        )
        return int(row["version"])

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
        await self.session.execute(
            update(a)
            .where(a.c.tenant_id == self.tenant_id, a.c.customer_id == customer_id)
            .values(customer_id=pseudonym, updated_at=func.now())
        )
