"""Handlers of other services' events: one typed handler per contract class, each a call
into ``application.summaries`` (which keeps the summary read model and the timeline).

The events about a customer arrive in runs (a rush's bookings, their balances): the
consumer hands a run of them to ``on_customer_events`` at once, which locks and reads
their customers together and then applies each with its typed handler."""

from __future__ import annotations

from typing import Any

from frontdesk.contracts import Envelope
from frontdesk.contracts.billing import (
    AccountChanged,
    InvoiceCancelled,
    InvoiceFacts,
    InvoiceIssued,
    InvoicePaid,
)
from frontdesk.contracts.credits import (
    BalanceChanged,
    MembershipAssigned,
    MembershipChanged,
    MembershipExpired,
    MembershipSnapshot,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.contracts.identity import CustomerAccountCreated, LoginSucceeded, TenantChanged
from frontdesk.contracts.notifications import (
    MessageDelivered,
    MessageFacts,
    MessageFailed,
    MessageSent,
)
from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingFacts,
    BookingNoShow,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
    SessionChanged,
)
from frontdesk.customers.application import summaries, tenants
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork

# What the consumer runs: a class's or a tenant's change alone (``handlers``), any event
# about a customer (``each``: one typed handler per contract class) in a run with others.
handlers = Handlers()
each = Handlers()


@each.on(BookingRequested)
async def on_booking_requested(
    uow: UnitOfWork, envelope: Envelope, event: BookingRequested
) -> None:
    await summaries.booking_requested(uow, envelope, event)


async def on_booking(uow: UnitOfWork, envelope: Envelope, event: BookingFacts) -> None:
    await summaries.booking_changed(uow, envelope, event)


@handlers.on(SessionChanged)
async def on_session_changed(uow: UnitOfWork, envelope: Envelope, event: SessionChanged) -> None:
    await summaries.session_changed(uow, envelope, event)


@handlers.on(TenantChanged)
async def on_tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    await tenants.tenant_changed(uow, envelope, event)


@each.on(LoginSucceeded)
async def on_login(uow: UnitOfWork, envelope: Envelope, event: LoginSucceeded) -> None:
    await summaries.account_event(uow, envelope, event)


@each.on(CustomerAccountCreated)
async def on_account_created(
    uow: UnitOfWork, envelope: Envelope, event: CustomerAccountCreated
) -> None:
    await summaries.account_event(uow, envelope, event)


@each.on(BalanceChanged)
async def on_balance(uow: UnitOfWork, envelope: Envelope, event: BalanceChanged) -> None:
    await summaries.balance_changed(uow, envelope, event)


@each.on(AccountChanged)
async def on_account(uow: UnitOfWork, envelope: Envelope, event: AccountChanged) -> None:
    await summaries.account_changed(uow, envelope, event)


async def on_membership(uow: UnitOfWork, envelope: Envelope, event: MembershipSnapshot) -> None:
    await summaries.membership_changed(uow, envelope, event)


@each.on(PackagePurchased)
async def on_package_purchased(
    uow: UnitOfWork, envelope: Envelope, event: PackagePurchased
) -> None:
    await summaries.credits_bought_event(uow, envelope, event)


@each.on(PackageToppedUp)
async def on_package_topped_up(uow: UnitOfWork, envelope: Envelope, event: PackageToppedUp) -> None:
    await summaries.credits_bought_event(uow, envelope, event)


async def on_invoice(uow: UnitOfWork, envelope: Envelope, event: InvoiceFacts) -> None:
    await summaries.invoice_changed(uow, envelope, event)


async def on_message(uow: UnitOfWork, envelope: Envelope, event: MessageFacts) -> None:
    await summaries.message_changed(uow, envelope, event)


# Contract classes that share their facts (a base class) share one typed handler.
for booking in (
    BookingConfirmed,
    BookingCancelled,
    BookingRejected,
    BookingAttended,
    BookingNoShow,
    BookingRescheduled,
    BookingCustomerLinked,
):
    each.on(booking)(on_booking)
for membership in (MembershipAssigned, MembershipChanged, MembershipExpired):
    each.on(membership)(on_membership)
for invoice in (InvoiceIssued, InvoicePaid, InvoiceCancelled):
    each.on(invoice)(on_invoice)
for message in (MessageSent, MessageDelivered, MessageFailed):
    each.on(message)(on_message)


@handlers.on_many(*each)
async def on_customer_events(uow: UnitOfWork, items: list[tuple[Envelope, Any]]) -> None:
    await summaries.apply_together(uow, items, lambda u, e, ev: each[type(ev)](u, e, ev))
