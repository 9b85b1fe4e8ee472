"""What scheduling keeps of customers' events: who may book, forgetting a customer,
household links, assets, and merges (moved and moved back)."""

from __future__ import annotations

import logging
import uuid

from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application.common import repositories
from frontdesk.scheduling.domain.customers import FOREVER, merge_moves_now, unmerge_moves_now

log = logging.getLogger(__name__)


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


async def record_household(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    payer_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    linked: bool,
    relation: str | None,
    version: int,
) -> None:
    """Keep who pays for whom (newer versions win): a payer may book for its members."""
    await repositories(uow, tenant_id).households.record(
        payer_id, member_id, linked=linked, relation=relation, version=version
    )
    await uow.commit()


async def record_asset(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    asset_id: uuid.UUID,
    *,
    customer_id: uuid.UUID,
    kind: str,
    label: str,
    removed: bool,
    version: int,
) -> None:
    """Keep each customer's assets (newer versions win): what an appointment may name."""
    await repositories(uow, tenant_id).assets.record(
        asset_id, customer_id=customer_id, kind=kind, label=label, removed=removed, version=version
    )
    await uow.commit()


async def merge(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    merge_id: uuid.UUID,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
) -> None:
    """Everything scheduling keys by ``merged_id`` (bookings, also those it paid for,
    appointments, calendar feeds, assets) moves to ``survivor_id``, each row recorded
    under ``merge_id``; applied once, however often the event comes."""
    repos = repositories(uow, tenant_id)
    if merge_moves_now(await repos.merges.claim(merge_id, survivor_id, merged_id, "merged")):
        moved = await repos.merges.move(merge_id, merged_id, survivor_id)
        log.info("merge %s moved %d row(s) to %s", merge_id, moved, survivor_id)
    await uow.commit()


async def unmerge(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    merge_id: uuid.UUID,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
) -> None:
    """Exactly the rows ``merge_id`` moved go back to ``merged_id`` (what the survivor
    gained since stays); once."""
    repos = repositories(uow, tenant_id)
    known = await repos.merges.claim(merge_id, survivor_id, merged_id, "unmerged")
    if unmerge_moves_now(known):
        moved = await repos.merges.move_back(merge_id, survivor_id, merged_id)
        await repos.merges.set_status(merge_id, "unmerged")
        log.info("unmerge %s moved %d row(s) back to %s", merge_id, moved, merged_id)
    await uow.commit()
