"""What scheduling keeps of customers' events: who may book, and forgetting a customer."""

from __future__ import annotations

import uuid

from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application.common import repositories
from frontdesk.scheduling.domain.customers import FOREVER


async def record_status(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, status: str, version: int
) -> None:
    """Keep who is blocked (newer versions win): blocked customers cannot book."""
    await repositories(uow, tenant_id).customers.record_status(customer_id, status, version)
    await uow.commit()


async def forget(uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """A deleted or erased customer: never books again, its guest contact and notes are
    scrubbed (the anonymous booking records stay), its feeds are revoked."""
    repos = repositories(uow, tenant_id)
    await repos.customers.record_status(customer_id, "deleted", FOREVER)
    await repos.bookings.scrub_customer(customer_id)
    await repos.appointments.scrub_customer(customer_id)
    await repos.feeds.revoke_customer(customer_id)
    await uow.commit()
