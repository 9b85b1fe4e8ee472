"""Household links (C14): a member's one payer, a payer's members, the chain of payers."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, delete, insert, literal_column, select, text

from frontdesk.customers.adapters.tables import customers, household_links, household_versions
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert as pg_insert

h = household_links.c
c = customers.c

# Payers above a customer, nearest first (a chain is short; the cap stops a runaway).
CHAIN = text(
    """
    WITH RECURSIVE up(id, depth) AS (
        SELECT payer_id, 1 FROM household_links
         WHERE tenant_id = :tenant_id AND member_id = :customer_id
        UNION ALL
        SELECT l.payer_id, up.depth + 1 FROM household_links l JOIN up ON l.member_id = up.id
         WHERE l.tenant_id = :tenant_id AND up.depth < 100
    )
    SELECT id FROM up ORDER BY depth
    """
)


class HouseholdRepository(TenantRepository):
    async def lock(self) -> None:
        """Links of the tenant change one at a time: two links made at once could
        otherwise close a cycle neither sees."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"customers:household:{self.tenant_id}"},
        )

    async def payer_of(self, member_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(h.payer_id).where(h.tenant_id == self.tenant_id, h.member_id == member_id)
        )

    async def chain(self, customer_id: uuid.UUID) -> list[uuid.UUID]:
        result = await self.session.execute(
            CHAIN, {"tenant_id": self.tenant_id, "customer_id": customer_id}
        )
        return list(result.scalars())

    async def add(self, payer_id: uuid.UUID, member_id: uuid.UUID, relation: str | None) -> None:
        await self.session.execute(
            insert(household_links).values(
                tenant_id=self.tenant_id, payer_id=payer_id, member_id=member_id, relation=relation
            )
        )

    async def next_version(self, member_id: uuid.UUID) -> int:
        """The version of the member's next household event."""
        insert_ = pg_insert(household_versions).values(
            tenant_id=self.tenant_id, member_id=member_id, version=1
        )
        stmt = insert_.on_conflict_do_update(
            index_elements=[household_versions.c.tenant_id, household_versions.c.member_id],
            set_={"version": household_versions.c.version + 1},
        ).returning(household_versions.c.version)
        return int((await self.session.execute(stmt)).scalar_one())

    async def remove(self, payer_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(household_links)
            .where(h.tenant_id == self.tenant_id, h.payer_id == payer_id, h.member_id == member_id)
            .returning(h.member_id)
        )
        return result.first() is not None

    async def linked(self, customer_id: uuid.UUID) -> bool:
        """Whether the customer pays for someone or is paid for."""
        result = await self.session.execute(
            select(h.member_id)
            .where(
                h.tenant_id == self.tenant_id,
                (h.payer_id == customer_id) | (h.member_id == customer_id),
            )
            .limit(1)
        )
        return result.first() is not None

    async def household(self, customer_id: uuid.UUID) -> list[RowMapping]:
        """The customer's payer and members, with their names: ``role`` ``payer`` or
        ``member`` (as seen from the customer)."""
        payer = (
            select(
                literal_column("'payer'").label("role"),
                c.id,
                c.first_name,
                c.last_name,
                h.relation,
                h.created_at,
            )
            .join(customers, (c.tenant_id == h.tenant_id) & (c.id == h.payer_id))
            .where(h.tenant_id == self.tenant_id, h.member_id == customer_id)
        )
        members = (
            select(
                literal_column("'member'").label("role"),
                c.id,
                c.first_name,
                c.last_name,
                h.relation,
                h.created_at,
            )
            .join(customers, (c.tenant_id == h.tenant_id) & (c.id == h.member_id))
            .where(h.tenant_id == self.tenant_id, h.payer_id == customer_id)
        )
        union = payer.union_all(members).subquery()
        return list(
            await self._all(select(union).order_by(union.c.role.desc(), union.c.created_at))
        )
