"""Handlers of other services' events, one per contract class, each a call into
``application`` (the consumer claims the inbox row in the same unit of work)."""

from __future__ import annotations

from frontdesk.contracts import Envelope
from frontdesk.contracts.credits import DebitRejected, DebitSucceeded
from frontdesk.contracts.customers import (
    AssetChanged,
    CustomerDeleted,
    CustomerErased,
    CustomerMerged,
    CustomerStatusChanged,
    CustomerUnmerged,
    GuestResolved,
    HouseholdLinked,
    HouseholdUnlinked,
)
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.application import bookings, customers

handlers = Handlers()


@handlers.on(DebitSucceeded)
async def on_debit_succeeded(uow: UnitOfWork, envelope: Envelope, event: DebitSucceeded) -> None:
    await bookings.on_debit(uow, envelope.tenant_id, event.booking_id, succeeded=True)


@handlers.on(DebitRejected)
async def on_debit_rejected(uow: UnitOfWork, envelope: Envelope, event: DebitRejected) -> None:
    await bookings.on_debit(
        uow, envelope.tenant_id, event.booking_id, succeeded=False, reason=str(event.reason)
    )


@handlers.on(GuestResolved)
async def on_guest_resolved(uow: UnitOfWork, envelope: Envelope, event: GuestResolved) -> None:
    await bookings.on_guest_resolved(uow, envelope.tenant_id, event.booking_id, event.customer_id)


@handlers.on(CustomerStatusChanged)
async def on_status_changed(
    uow: UnitOfWork, envelope: Envelope, event: CustomerStatusChanged
) -> None:
    await customers.record_status(
        uow, envelope.tenant_id, event.customer_id, event.new_status, envelope.aggregate_version
    )


@handlers.on(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await customers.forget(uow, envelope.tenant_id, event.customer_id)


@handlers.on(CustomerErased)
async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    await customers.forget(uow, envelope.tenant_id, event.customer_id)


@handlers.on(CustomerMerged)
async def on_customer_merged(uow: UnitOfWork, envelope: Envelope, event: CustomerMerged) -> None:
    await customers.merge(
        uow, envelope.tenant_id, event.merge_id, event.survivor_id, event.merged_id
    )


@handlers.on(CustomerUnmerged)
async def on_customer_unmerged(
    uow: UnitOfWork, envelope: Envelope, event: CustomerUnmerged
) -> None:
    await customers.unmerge(
        uow, envelope.tenant_id, event.merge_id, event.survivor_id, event.merged_id
    )


@handlers.on(HouseholdLinked)
async def on_household_linked(uow: UnitOfWork, envelope: Envelope, event: HouseholdLinked) -> None:
    await customers.record_household(
        uow,
        envelope.tenant_id,
        event.payer_id,
        event.member_id,
        linked=True,
        relation=event.relation,
        version=envelope.aggregate_version,
    )


@handlers.on(HouseholdUnlinked)
async def on_household_unlinked(
    uow: UnitOfWork, envelope: Envelope, event: HouseholdUnlinked
) -> None:
    await customers.record_household(
        uow,
        envelope.tenant_id,
        event.payer_id,
        event.member_id,
        linked=False,
        relation=None,
        version=envelope.aggregate_version,
    )


@handlers.on(AssetChanged)
async def on_asset_changed(uow: UnitOfWork, envelope: Envelope, event: AssetChanged) -> None:
    await customers.record_asset(
        uow,
        envelope.tenant_id,
        event.asset_id,
        customer_id=event.customer_id,
        kind=event.kind,
        label=event.label,
        removed=event.removed,
        version=envelope.aggregate_version,
    )
