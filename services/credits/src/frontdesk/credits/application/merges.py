"""Customers' merges as credits applies them (C13): ``customers.customer.merged`` moves
what ``merged_id`` holds here to ``survivor_id`` (packages and their history, booking
debits, memberships and their history, programs, loyalty points, entries and vouchers),
each moved row remembered under ``merge_id``; ``customers.customer.unmerged`` moves
exactly those rows back. Both run once per merge whatever the redeliveries.

Lock order: both customers' loyalty accounts, then both credit accounts (each pair in id
order), then the rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.credits.adapters.loyalty import LoyaltyRepository
from frontdesk.credits.adapters.memberships import MembershipRepository
from frontdesk.credits.adapters.merges import MergeRepository
from frontdesk.credits.application.accounts import Ledger, utcnow
from frontdesk.credits.application.memberships import saved_with_history
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.loyalty import LoyaltyAccount
from frontdesk.credits.domain.merges import MOVED, CustomerMerge
from frontdesk.kit.uow import UnitOfWork


class _Pair:
    """The two customers' accounts, locked in one order."""

    def __init__(self, uow: UnitOfWork, tenant_id: uuid.UUID, now: datetime) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self.now = now
        self.loyalty_repo = LoyaltyRepository(uow.session, tenant_id)
        self.loyalty: dict[uuid.UUID, LoyaltyAccount] = {}
        self.ledgers: dict[uuid.UUID, Ledger] = {}

    async def lock(self, *customers: uuid.UUID) -> None:
        ordered = sorted(customers, key=str)
        for customer in ordered:
            self.loyalty[customer] = await self.loyalty_repo.lock(customer)
        for customer in ordered:
            self.ledgers[customer] = await Ledger.open(
                self.uow, self.tenant_id, customer, SYSTEM, self.now, allow_closed=True
            )

    async def save(self, reason: str, purchased: dict[uuid.UUID, int]) -> None:
        for customer, account in self.loyalty.items():
            events = account.events()
            await self.loyalty_repo.save(account, SYSTEM)
            for event in events:
                self.uow.publish(
                    event,
                    tenant_id=self.tenant_id,
                    aggregate_id=customer,
                    aggregate_version=account.version,
                )
        for customer, ledger in self.ledgers.items():
            await ledger.close(reason, purchased_moved=purchased.get(customer, 0))


async def customer_merged(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: CustomerMerged, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    merges = MergeRepository(uow.session, tenant_id)
    merge = CustomerMerge.applied(event.merge_id, event.survivor_id, event.merged_id, now)
    if not await merges.claim(merge):
        return  # applied already, or undone before it arrived
    survivor, merged = event.survivor_id, event.merged_id
    pair = _Pair(uow, tenant_id, now)
    await pair.lock(survivor, merged)

    # One current membership per customer: the merged one's is set aside while merged.
    memberships = MembershipRepository(uow.session, tenant_id)
    set_aside = []
    if await memberships.current_of(survivor, lock=True):
        for membership in await memberships.current_of(merged, lock=True):
            before = membership.set_aside(
                actor=SYSTEM, now=now, reason="the customer was merged into another record"
            )
            await memberships.save(membership)
            await saved_with_history(uow, memberships, membership)
            set_aside.append((membership.id, before))

    for table, column, id_column in MOVED:
        await merges.move(merge.merge_id, table, column, id_column, merged, survivor)
    for membership_id, before in set_aside:
        await merges.remember(merge.merge_id, "memberships", membership_id, before)

    merge.points_moved = pair.loyalty[merged].balance
    merge.purchased_moved = pair.ledgers[merged].account.purchased_total
    pair.loyalty[merged].move(-merge.points_moved, merge.merge_id)
    pair.loyalty[survivor].move(merge.points_moved, merge.merge_id)
    await merges.save(merge)
    await pair.save("merged", {survivor: merge.purchased_moved, merged: -merge.purchased_moved})
    await uow.commit()


async def customer_unmerged(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: CustomerUnmerged, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    merges = MergeRepository(uow.session, tenant_id)
    tombstone = CustomerMerge.tombstone(event.merge_id, event.survivor_id, event.merged_id, now)
    if await merges.claim(tombstone):
        await uow.commit()  # the merge, should it still come, moves nothing
        return
    merge = await merges.lock(event.merge_id)
    if not merge.undo(now):
        return  # undone already
    survivor, merged = merge.survivor_id, merge.merged_id
    pair = _Pair(uow, tenant_id, now)
    await pair.lock(survivor, merged)
    for table, column, id_column in MOVED:
        await merges.move_back(merge.merge_id, table, column, id_column, merged)

    memberships = MembershipRepository(uow.session, tenant_id)
    for moved in await merges.remembered(merge.merge_id, "memberships"):
        membership = await memberships.require(moved["row_id"], for_update=True)
        membership.reinstate(dict(moved["before"]), actor=SYSTEM)
        await memberships.save(membership)
        await saved_with_history(uow, memberships, membership)

    points = merge.points_back(pair.loyalty[survivor].balance)
    pair.loyalty[survivor].move(-points, merge.merge_id)
    pair.loyalty[merged].move(points, merge.merge_id)
    purchased = merge.purchased_back(pair.ledgers[survivor].account.purchased_total)
    await merges.save(merge)
    await pair.save("unmerged", {survivor: -purchased, merged: purchased})
    await uow.commit()
