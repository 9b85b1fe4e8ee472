"""Staff users, customers' accounts, and the customers' contacts kept from their events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from frontdesk.gateway.adapters.common import CreatedKey, created_page
from frontdesk.gateway.adapters.tables import customer_accounts, customer_contacts, users
from frontdesk.gateway.domain.accounts import CustomerAccount, User
from frontdesk.kit.db import AggregateRepository, TenantRepository
from frontdesk.kit.upsert import insert as pg_insert


class UserRepository(AggregateRepository[User]):
    table = users
    aggregate = User
    what = "user"

    async def by_email(self, email: str, *, for_update: bool = False) -> User | None:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id, t.c.email == email)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def page(self, limit: int, after: CreatedKey | None) -> Sequence[User]:
        stmt = select(self.table).where(self.table.c.tenant_id == self.tenant_id)
        return [self.load(r) for r in await self._all(created_page(stmt, self.table, limit, after))]


class CustomerAccountRepository(AggregateRepository[CustomerAccount]):
    table = customer_accounts
    aggregate = CustomerAccount
    what = "customer account"

    async def by_customer(
        self, customer_id: uuid.UUID, *, for_update: bool = False
    ) -> CustomerAccount | None:
        t = self.table
        stmt = select(t).where(t.c.tenant_id == self.tenant_id, t.c.customer_id == customer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def with_password(self, email: str, *, limit: int) -> Sequence[CustomerAccount]:
        """The accounts with this email that have a password (locked: a login writes
        them); an email shared by several customers gives each its own account."""
        t = self.table
        stmt = (
            select(t)
            .where(
                t.c.tenant_id == self.tenant_id,
                t.c.email == email,
                t.c.password_hash.is_not(None),
            )
            .order_by(t.c.created_at, t.c.id)
            .limit(limit)
            .with_for_update()
        )
        return [self.load(r) for r in await self._all(stmt)]

    async def remove(self, customer_id: uuid.UUID) -> CustomerAccount | None:
        t = self.table
        row = await self._first(
            t.delete()
            .where(t.c.tenant_id == self.tenant_id, t.c.customer_id == customer_id)
            .returning(t)
        )
        return None if row is None else self.load(row)


class ContactRepository(TenantRepository):
    """Each customer's email and name, from customers' events (an older event loses)."""

    async def apply(self, customer_id: uuid.UUID, version: int, values: dict[str, Any]) -> None:
        t = customer_contacts
        stmt = pg_insert(t).values(
            tenant_id=self.tenant_id, customer_id=customer_id, source_version=version, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.tenant_id, t.c.customer_id],
            set_={**values, "source_version": version, "updated_at": stmt.excluded.updated_at},
            where=t.c.source_version <= version,
        )
        await self.session.execute(stmt)

    async def forget(self, customer_id: uuid.UUID) -> None:
        """Erased or deleted: nothing personal stays, and no later event brings it back."""
        t = customer_contacts
        stmt = pg_insert(t).values(
            tenant_id=self.tenant_id, customer_id=customer_id, gone=True, source_version=2**31 - 1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.tenant_id, t.c.customer_id],
            set_={
                "email": None,
                "first_name": None,
                "last_name": None,
                "gone": True,
                "source_version": 2**31 - 1,
            },
        )
        await self.session.execute(stmt)

    async def by_email(self, email: str) -> Sequence[Any]:
        t = customer_contacts
        return await self._all(
            select(t)
            .where(t.c.tenant_id == self.tenant_id, t.c.email == email, t.c.gone.is_(False))
            .order_by(t.c.customer_id)
        )

    async def get(self, customer_id: uuid.UUID) -> Any:
        t = customer_contacts
        return await self._first(
            select(t).where(
                t.c.tenant_id == self.tenant_id, t.c.customer_id == customer_id, t.c.gone.is_(False)
            )
        )
