"""The tenant's copy, kept from the gateway's ``identity.tenant.changed``: the newest
wins (by the tenant's ``aggregate_version``), so events out of order leave the latest.
Documents issued after it use its name, seller, currency, language and zone where staff
set nothing in the billing profile; issued ones keep what they were issued with."""

from __future__ import annotations

import logging

from frontdesk.billing.adapters.tenants import TenantCopyRepository
from frontdesk.billing.domain.tenants import TenantCopy
from frontdesk.contracts import Envelope
from frontdesk.contracts.identity import TenantChanged
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    copy = TenantCopy(
        name=event.name,
        version=envelope.aggregate_version,
        default_country=event.default_country,
        language=event.language,
        currency=event.currency,
        time_zone=event.time_zone,
        seller=event.seller.model_dump(mode="json"),
    )
    # The envelope's tenant, never the payload's: a tenant only ever changes its own copy.
    if not await TenantCopyRepository(uow.session, envelope.tenant_id).keep(copy):
        log.info("stale tenant settings (version %d) ignored", envelope.aggregate_version)
    await uow.commit()
