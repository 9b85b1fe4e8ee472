"""Customers merged and unmerged (customers' events): the merged customer's messages and
bookings move to the survivor and back, consent follows the stricter record, and the
merged contact points at the survivor meanwhile (``domain.merges``). A consent change
publishes ``notifications.consent.changed`` through the outbox in the same transaction."""

from __future__ import annotations

import logging

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.merges import MergeRepository
from frontdesk.notifications.application.common import Repositories
from frontdesk.notifications.domain.contacts import Contact
from frontdesk.notifications.domain.merges import (
    CustomerMerge,
    on_merged,
    on_unmerged,
    restore_consent,
    stricter_consent,
)

log = logging.getLogger(__name__)


async def _contacts(repos: Repositories, merge: CustomerMerge) -> tuple[Contact, Contact]:
    """Both contacts, locked in one order (made if not known yet)."""
    ids = sorted((merge.survivor_id, merge.merged_id))
    found = {cid: await repos.contacts.ensure(cid, {}) for cid in ids}
    return found[merge.survivor_id], found[merge.merged_id]


async def _save(uow: UnitOfWork, repos: Repositories, *contacts: Contact) -> None:
    for contact in contacts:
        if contact.changed:
            await repos.contacts.save(contact)
            uow.publish_recorded(contact)


async def customer_merged(uow: UnitOfWork, envelope: Envelope, event: CustomerMerged) -> None:
    repos = Repositories(uow, envelope.tenant_id)
    merges = MergeRepository(uow.session, envelope.tenant_id)
    known = await merges.lock(event.merge_id)
    if event.survivor_id == event.merged_id or on_merged(known) == "nothing":
        log.info("merge %s already known (or one customer): nothing moves", event.merge_id)
        await uow.commit()
        return
    merge = CustomerMerge(event.merge_id, event.survivor_id, event.merged_id, "merged")
    survivor, merged = await _contacts(repos, merge)
    # Preferences are known even before the details (a contact at event version 0).
    merge.consent_turned_off = stricter_consent(survivor, merged)
    merged.change(merged_into=survivor.id)
    await _save(uow, repos, survivor, merged)
    await merges.move(merge)
    await merges.keep(merge)
    await uow.commit()


async def customer_unmerged(uow: UnitOfWork, envelope: Envelope, event: CustomerUnmerged) -> None:
    repos = Repositories(uow, envelope.tenant_id)
    merges = MergeRepository(uow.session, envelope.tenant_id)
    known = await merges.lock(event.merge_id)
    if event.survivor_id == event.merged_id:
        await uow.commit()
        return
    if known is not None and on_unmerged(known) == "move_back":
        survivor, merged = await _contacts(repos, known)
        restore_consent(survivor, known)
        if merged.merged_into == survivor.id:
            merged.change(merged_into=None)
        await _save(uow, repos, survivor, merged)
        await merges.move_back(known)
        known.state = "unmerged"
        await merges.keep(known)
    elif known is None:
        # Before its merge: remembered, so the merge, when it comes, moves nothing.
        await merges.keep(
            CustomerMerge(event.merge_id, event.survivor_id, event.merged_id, "unmerged")
        )
    await uow.commit()
