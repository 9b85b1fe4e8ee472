"""Custom field definitions (C16), and the removal of a deleted field's values."""

from __future__ import annotations

from sqlalchemy import func, select, update

from frontdesk.customers.adapters.tables import custom_fields, customers
from frontdesk.customers.domain.custom_fields import Definition
from frontdesk.kit.db import AggregateRepository, sqlstate
from frontdesk.kit.errors import ConflictError

f = custom_fields.c


class DefinitionRepository(AggregateRepository[Definition]):
    table = custom_fields
    aggregate = Definition
    what = "custom field"

    async def all(self) -> list[Definition]:
        rows = await self._all(
            select(custom_fields)
            .where(f.tenant_id == self.tenant_id)
            .order_by(f.position, f.created_at, f.id)
        )
        return [self.load(row) for row in rows]

    async def by_key(self) -> dict[str, Definition]:
        return {d.key: d for d in await self.all()}

    async def with_key(self, key: str) -> Definition | None:
        row = await self._first(
            select(custom_fields).where(f.tenant_id == self.tenant_id, f.key == key)
        )
        return None if row is None else self.load(row)

    async def create(self, definition: Definition) -> Definition:
        """Insert; a key the tenant has already (also one taken meanwhile) is a 409."""
        if await self.with_key(definition.key) is not None:
            raise ConflictError("A custom field with this key exists.", field="key")
        nested = await self.session.begin_nested()
        try:
            await self.add(definition)
        except Exception as error:
            await nested.rollback()
            if sqlstate(error) == "23505":
                raise ConflictError("A custom field with this key exists.", field="key") from None
            raise
        await nested.commit()
        return definition

    async def count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(custom_fields).where(f.tenant_id == self.tenant_id)
            )
            or 0
        )

    async def remove(self, definition: Definition) -> None:
        """The definition and every record's value of it (a field defined again with this
        key starts empty)."""
        c = customers.c
        await self.session.execute(
            update(customers)
            .where(c.tenant_id == self.tenant_id, c.custom_fields.has_key(definition.key))
            .values(custom_fields=c.custom_fields - definition.key)
        )
        await self.session.execute(
            custom_fields.delete().where(f.tenant_id == self.tenant_id, f.id == definition.id)
        )
