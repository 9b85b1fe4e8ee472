"""Contacts (customers as notifications knows them) and the numbers that replied STOP."""

from __future__ import annotations

from sqlalchemy import delete, exists, select, text

from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.common import ReadModelRepository
from frontdesk.notifications.adapters.tables import contacts as c
from frontdesk.notifications.adapters.tables import sms_opt_outs as o
from frontdesk.notifications.domain.contacts import Contact


class ContactRepository(ReadModelRepository[Contact]):
    table = c
    aggregate = Contact
    what = "customer"

    async def lock_number(self, phone: str) -> None:
        """Serialise, until the transaction ends, everything that decides on this number's
        consent: a STOP and the customer's new details arriving at once would otherwise
        each miss the other (neither committed yet) and leave SMS consent on."""
        key = f"notifications:number:{self.tenant_id}:{phone}"
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )

    async def with_phone(self, phone: str) -> list[Contact]:
        stmt = (
            select(c)
            .where(c.c.tenant_id == self.tenant_id, c.c.phone == phone)
            .order_by(c.c.id)
            .with_for_update()
        )
        return [self.load(row) for row in await self._all(stmt)]

    async def opted_out(self, phone: str | None) -> bool:
        if not phone:
            return False
        stmt = select(exists().where(o.c.tenant_id == self.tenant_id, o.c.phone == phone))
        return bool((await self.session.execute(stmt)).scalar())

    async def opted_out_of(self, phones: set[str]) -> set[str]:
        """Which of ``phones`` replied STOP."""
        if not phones:
            return set()
        stmt = select(o.c.phone).where(o.c.tenant_id == self.tenant_id, o.c.phone.in_(phones))
        return set((await self.session.execute(stmt)).scalars().all())

    async def opt_out(self, phone: str, source: str) -> None:
        await self.session.execute(
            insert(o)
            .values(tenant_id=self.tenant_id, phone=phone, source=source)
            .on_conflict_do_nothing()
        )

    async def opt_in(self, phone: str) -> None:
        await self.session.execute(
            delete(o).where(o.c.tenant_id == self.tenant_id, o.c.phone == phone)
        )

    async def forget_number(self, phone: str) -> None:
        """Erasure: a number that opted out is kept only while a customer has it."""
        await self.opt_in(phone)
