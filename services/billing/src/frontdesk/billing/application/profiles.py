"""The tenant's billing profile: read, and set by staff (``If-Match``)."""

from __future__ import annotations

from typing import Any

from frontdesk.billing.adapters.profiles import ProfileRepository
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork


async def get(uow: UnitOfWork, principal: Principal) -> BillingProfile:
    return await ProfileRepository(uow.session, principal.tenant_id).current()


async def update(
    uow: UnitOfWork,
    principal: Principal,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> BillingProfile:
    """Later documents use the new details; issued ones keep what they were issued with."""
    profiles = ProfileRepository(uow.session, principal.tenant_id)
    profile = await profiles.lock()
    profile.require_version(expected_version, "billing profile")
    profile.edit(changes)
    await profiles.save(profile)
    await uow.commit()
    return profile
