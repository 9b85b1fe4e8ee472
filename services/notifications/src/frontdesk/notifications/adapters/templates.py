"""A tenant's own templates (the shipped defaults live in the domain)."""

from __future__ import annotations

from sqlalchemy import delete, select

from frontdesk.kit.db import AggregateRepository
from frontdesk.notifications.adapters.tables import templates as t
from frontdesk.notifications.domain.templates import Template


class TemplateRepository(AggregateRepository[Template]):
    table = t
    aggregate = Template
    what = "template"

    async def find(self, kind: str, channel: str, *, for_update: bool = False) -> Template | None:
        stmt = select(t).where(
            t.c.tenant_id == self.tenant_id, t.c.kind == kind, t.c.channel == channel
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def all(self) -> list[Template]:
        stmt = select(t).where(t.c.tenant_id == self.tenant_id).order_by(t.c.kind, t.c.channel)
        return [self.load(row) for row in await self._all(stmt)]

    async def remove(self, template: Template) -> None:
        await self.session.execute(
            delete(t).where(t.c.tenant_id == self.tenant_id, t.c.id == template.id)
        )
