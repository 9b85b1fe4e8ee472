"""Handlers of other services' events, one per contract class, each a call into
``application``.

Each runs in the consumer's transaction, after the inbox claim; the application commits
the inbox row with its effects. Invoices from events carry a business key (the package,
top-up, program, booking or membership period) under a unique index, so a sale redelivered under
a new message id still invoices once.
"""

from __future__ import annotations

from frontdesk.billing.application import customers, merges, sources, tenants, vouchers
from frontdesk.contracts import Envelope
from frontdesk.contracts.credits import (
    LoyaltyVoucherIssued,
    MembershipAssigned,
    MembershipChanged,
    MembershipExpired,
    MembershipSnapshot,
    PackagePurchased,
    PackageToppedUp,
    ProgramPurchased,
)
from frontdesk.contracts.customers import (
    CustomerErased,
    CustomerMerged,
    CustomerRegistered,
    CustomerUnmerged,
    CustomerUpdated,
)
from frontdesk.contracts.identity import TenantChanged
from frontdesk.contracts.scheduling import BookingCancelled, BookingConfirmed
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork

handlers = Handlers()


@handlers.on(PackagePurchased)
async def on_package_purchased(
    uow: UnitOfWork, envelope: Envelope, event: PackagePurchased
) -> None:
    await sources.package_sold(uow, envelope.tenant_id, event)


@handlers.on(PackageToppedUp)
async def on_package_topped_up(uow: UnitOfWork, envelope: Envelope, event: PackageToppedUp) -> None:
    await sources.package_sold(uow, envelope.tenant_id, event)


@handlers.on(ProgramPurchased)
async def on_program_purchased(
    uow: UnitOfWork, envelope: Envelope, event: ProgramPurchased
) -> None:
    await sources.program_sold(uow, envelope.tenant_id, event)


@handlers.on(LoyaltyVoucherIssued)
async def on_voucher_issued(
    uow: UnitOfWork, envelope: Envelope, event: LoyaltyVoucherIssued
) -> None:
    await vouchers.voucher_issued(uow, envelope.tenant_id, event)


async def on_membership(uow: UnitOfWork, envelope: Envelope, event: MembershipSnapshot) -> None:
    await sources.membership_changed(uow, envelope.tenant_id, envelope.aggregate_version, event)


@handlers.on(BookingConfirmed)
async def on_booking_confirmed(
    uow: UnitOfWork, envelope: Envelope, event: BookingConfirmed
) -> None:
    await sources.booking_confirmed(uow, envelope.tenant_id, event)


@handlers.on(BookingCancelled)
async def on_booking_cancelled(
    uow: UnitOfWork, envelope: Envelope, event: BookingCancelled
) -> None:
    await sources.booking_cancelled(uow, envelope.tenant_id, event)


@handlers.on(CustomerRegistered)
async def on_customer_registered(
    uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered
) -> None:
    await customers.customer_known(uow, envelope.tenant_id, envelope.aggregate_version, event)


@handlers.on(CustomerUpdated)
async def on_customer_updated(uow: UnitOfWork, envelope: Envelope, event: CustomerUpdated) -> None:
    await customers.customer_known(uow, envelope.tenant_id, envelope.aggregate_version, event)


@handlers.on(CustomerErased)
async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    await customers.customer_erased(uow, envelope.tenant_id, event.customer_id)


@handlers.on(CustomerMerged)
async def on_customer_merged(uow: UnitOfWork, envelope: Envelope, event: CustomerMerged) -> None:
    await merges.customer_merged(uow, envelope.tenant_id, event)


@handlers.on(CustomerUnmerged)
async def on_customer_unmerged(
    uow: UnitOfWork, envelope: Envelope, event: CustomerUnmerged
) -> None:
    await merges.customer_unmerged(uow, envelope.tenant_id, event)


@handlers.on(TenantChanged)
async def on_tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    await tenants.tenant_changed(uow, envelope, event)


# Membership events share their facts (a base class) and one typed handler.
for membership in (MembershipAssigned, MembershipChanged, MembershipExpired):
    handlers.on(membership)(on_membership)
