"""The tenant's settings (issue 12): the copy kept from the gateway's announcements, and
what the rest of the service asks of it (the phone region, the display zone), falling
back to the deployment's settings for a tenant not announced (yet)."""

from __future__ import annotations

import functools
import logging
import uuid

from frontdesk.contracts import Envelope
from frontdesk.contracts.identity import TenantChanged
from frontdesk.customers.adapters.tenants import TenantSettingsRepository
from frontdesk.customers.domain import tenants
from frontdesk.customers.domain.tenants import TenantSettings
from frontdesk.customers.settings import CustomersSettings
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


@functools.cache
def deployment() -> CustomersSettings:
    """The deployment-wide settings the tenant's own stand in for."""
    return CustomersSettings()


async def tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    """Keeps the newest copy (by the tenant's version, then time): a redelivery or an older
    announcement arriving late changes nothing."""
    if event.tenant_id != envelope.tenant_id:
        log.warning(
            "tenant.changed for %s sent as tenant %s: ignored", event.tenant_id, envelope.tenant_id
        )
        return
    copy = TenantSettings.of(
        event, version=envelope.aggregate_version, occurred_at=envelope.occurred_at
    )
    if not await TenantSettingsRepository(uow.session, envelope.tenant_id).keep(copy):
        log.info("stale tenant.changed (version %d) ignored", envelope.aggregate_version)
    await uow.commit()


async def settings_of(uow: UnitOfWork, tenant_id: uuid.UUID) -> TenantSettings | None:
    return await TenantSettingsRepository(uow.session, tenant_id).get()


async def phone_region(uow: UnitOfWork, tenant_id: uuid.UUID, fallback: str | None = None) -> str:
    """The region a phone number without a country code is read in, for this tenant."""
    return tenants.phone_region(
        await settings_of(uow, tenant_id), fallback or deployment().default_region
    )


async def time_zone(uow: UnitOfWork, tenant_id: uuid.UUID, fallback: str | None = None) -> str:
    """The zone this tenant's local times are written in."""
    return tenants.time_zone(await settings_of(uow, tenant_id), fallback or deployment().time_zone)
