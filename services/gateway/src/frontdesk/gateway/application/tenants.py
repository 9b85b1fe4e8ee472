"""Tenants: sign-up (a tenant and its owner, logged in), reading it, and the owner's edits,
each announced with every current value (``identity.tenant.changed``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontdesk.gateway.adapters.tenants import TenantsRepository, tenant_by_slug
from frontdesk.gateway.application import logins
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.application.logins import Client, TokenPair
from frontdesk.gateway.domain.tenants import Tenant
from frontdesk.kit.auth import Principal, Role
from frontdesk.kit.errors import ConflictError, NotAllowed
from frontdesk.kit.uow import UnitOfWork


async def sign_up(
    uow: UnitOfWork,
    gate: Gate,
    values: Mapping[str, Any],
    owner: Mapping[str, str],
    client: Client,
) -> tuple[Tenant, TokenPair]:
    if not gate.settings.signup_open:
        raise NotAllowed("Sign-up is closed here; ask the operator for a tenant.")
    if await tenant_by_slug(uow.session, values["slug"]) is not None:
        raise ConflictError("This slug is taken.", field="slug")
    tenant = Tenant.new(values)
    await TenantsRepository(uow.session, tenant.id).add(tenant)
    uow.publish_recorded(tenant)
    user = await logins.create_owner(
        uow, tenant, email=owner["email"], name=owner["name"], password=owner["password"]
    )
    pair = await logins.login_founder(uow, gate, user, client)
    await uow.commit()
    return tenant, pair


async def get(uow: UnitOfWork, principal: Principal) -> Tenant:
    return await TenantsRepository(uow.session, principal.tenant_id).require(principal.tenant_id)


async def edit(
    uow: UnitOfWork,
    principal: Principal,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Tenant:
    """Only the owner edits the tenant (the slug logins use included)."""
    if principal.role is not Role.owner:
        raise NotAllowed("Only the owner changes the tenant.")
    repo = TenantsRepository(uow.session, principal.tenant_id)
    tenant = await repo.require(principal.tenant_id, for_update=True)
    tenant.require_version(expected_version, "tenant")
    if "slug" in changes and changes["slug"] != tenant.slug:
        other = await tenant_by_slug(uow.session, changes["slug"])
        if other is not None:
            raise ConflictError("This slug is taken.", field="slug")
    tenant.edit(changes)
    await repo.save(tenant)
    uow.publish_recorded(tenant)
    await uow.commit()
    return tenant
