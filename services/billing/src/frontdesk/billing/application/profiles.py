"""The tenant's billing profile: read, and set by staff (``If-Match``)."""

from __future__ import annotations

from typing import Any

from frontdesk.billing.adapters.profiles import ProfileRepository
from frontdesk.billing.adapters.tenants import TenantCopyRepository
from frontdesk.billing.application.books import profile_of
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork


async def get(uow: UnitOfWork, principal: Principal) -> BillingProfile:
    """The profile as documents use it (fields staff never set: the tenant's copy)."""
    return await profile_of(uow, principal.tenant_id)


async def update(
    uow: UnitOfWork,
    principal: Principal,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> BillingProfile:
    """Later documents use the new details; issued ones keep what they were issued with.
    A field set here wins over the tenant's copy from then on."""
    profiles = ProfileRepository(uow.session, principal.tenant_id)
    profile = await profiles.lock()
    profile.require_version(expected_version, "billing profile")
    profile.edit(changes)
    await profiles.save(profile)
    tenant = await TenantCopyRepository(uow.session, principal.tenant_id).get()
    await uow.commit()
    return profile.with_tenant(tenant)
