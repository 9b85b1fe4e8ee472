"""Custom field definitions per tenant (C16): list, define, edit, delete."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from frontdesk.customers.adapters.custom_fields import DefinitionRepository
from frontdesk.customers.domain.custom_fields import Definition
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork


async def all_of(uow: UnitOfWork, principal: Principal) -> list[Definition]:
    return await DefinitionRepository(uow.session, principal.tenant_id).all()


async def define(uow: UnitOfWork, principal: Principal, values: Mapping[str, Any]) -> Definition:
    """A new field; its key is unique in the tenant (409 naming ``key``)."""
    repo = DefinitionRepository(uow.session, principal.tenant_id)
    definition = Definition.define(
        principal.tenant_id,
        key=values["key"],
        label=values["label"],
        type=values["type"],
        required=values.get("required") or False,
        choices=values.get("choices") or [],
        position=values.get("position") or 0,
        existing=await repo.count(),
    )
    await repo.create(definition)
    await uow.commit()
    return definition


async def edit(
    uow: UnitOfWork,
    principal: Principal,
    field_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Definition:
    repo = DefinitionRepository(uow.session, principal.tenant_id)
    definition = await repo.require(field_id, for_update=True)
    definition.edit(changes, expected_version=expected_version)
    await repo.save(definition)
    await uow.commit()
    return definition


async def delete(uow: UnitOfWork, principal: Principal, field_id: uuid.UUID) -> None:
    """The field and every customer's value of it."""
    repo = DefinitionRepository(uow.session, principal.tenant_id)
    definition = await repo.require(field_id, for_update=True)
    await repo.remove(definition)
    await uow.commit()
