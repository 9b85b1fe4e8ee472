"""The tenant's copy, kept from the gateway's ``identity.tenant.changed`` (newest wins by
the tenant's ``aggregate_version``, so events out of order leave the latest). Messages
rendered after it use its name and language where the sender settings say nothing, and
bookings without a told zone its zone (``domain.tenants``)."""

from __future__ import annotations

import logging

from frontdesk.contracts import Envelope
from frontdesk.contracts.identity import TenantChanged
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.tenants import TenantCopyRepository
from frontdesk.notifications.domain.tenants import TenantCopy

log = logging.getLogger(__name__)


async def tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    copy = TenantCopy(
        name=event.name,
        version=envelope.aggregate_version,
        language=event.language,
        time_zone=event.time_zone,
        default_country=event.default_country,
        currency=event.currency,
    )
    # The envelope's tenant, never the payload's: a tenant only changes its own copy.
    if not await TenantCopyRepository(uow.session, envelope.tenant_id).keep(copy):
        log.info("stale tenant settings (version %d) ignored", envelope.aggregate_version)
    await uow.commit()
