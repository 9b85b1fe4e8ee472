"""Handlers of other services' events, one per contract class, each a call into
``application``. Each runs in the consumer's transaction after the inbox claim; the
application commits the inbox row with its effects. Business keys guard what a
redelivery under a new message id could double: a message's ``dedupe_key`` (a booking's
confirmation, the reminders an event planned, a bulk request's message to a customer)
and the bulk request's id; read models drop events older than what they hold
(``aggregate_version``)."""

from __future__ import annotations

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import (
    BulkMessageRequested,
    CustomerDeleted,
    CustomerErased,
    CustomerMerged,
    CustomerRegistered,
    CustomerUnmerged,
    CustomerUpdated,
)
from frontdesk.contracts.identity import AccountEmailRequested, TenantChanged
from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingNoShow,
    BookingPromoted,
    BookingRejected,
    BookingRescheduled,
    BookingWaitlisted,
    BookingWaitlistLeft,
    SessionCancelled,
    SessionChanged,
)
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.application import bookings, contacts, merges, messages, tenants

handlers = Handlers()


@handlers.on(CustomerRegistered)
async def on_customer_registered(
    uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered
) -> None:
    await contacts.customer_told(uow, envelope, event)


@handlers.on(CustomerUpdated)
async def on_customer_updated(uow: UnitOfWork, envelope: Envelope, event: CustomerUpdated) -> None:
    await contacts.customer_told(uow, envelope, event)


@handlers.on(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await contacts.customer_deleted(uow, envelope, event)


@handlers.on(CustomerErased)
async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    await contacts.customer_erased(uow, envelope, event)


@handlers.on(CustomerMerged)
async def on_customer_merged(uow: UnitOfWork, envelope: Envelope, event: CustomerMerged) -> None:
    await merges.customer_merged(uow, envelope, event)


@handlers.on(CustomerUnmerged)
async def on_customer_unmerged(
    uow: UnitOfWork, envelope: Envelope, event: CustomerUnmerged
) -> None:
    await merges.customer_unmerged(uow, envelope, event)


@handlers.on(TenantChanged)
async def on_tenant_changed(uow: UnitOfWork, envelope: Envelope, event: TenantChanged) -> None:
    await tenants.tenant_changed(uow, envelope, event)


@handlers.on(BulkMessageRequested)
async def on_bulk_message_requested(
    uow: UnitOfWork, envelope: Envelope, event: BulkMessageRequested
) -> None:
    await messages.bulk_requested(uow, envelope, event)


@handlers.on(AccountEmailRequested)
async def on_account_email_requested(
    uow: UnitOfWork, envelope: Envelope, event: AccountEmailRequested
) -> None:
    await messages.account_email_requested(uow, envelope, event)


@handlers.on(BookingConfirmed)
async def on_booking_confirmed(
    uow: UnitOfWork, envelope: Envelope, event: BookingConfirmed
) -> None:
    await bookings.booking_confirmed(uow, envelope, event)


@handlers.on(BookingRescheduled)
async def on_booking_rescheduled(
    uow: UnitOfWork, envelope: Envelope, event: BookingRescheduled
) -> None:
    await bookings.booking_rescheduled(uow, envelope, event)


@handlers.on(BookingCancelled)
async def on_booking_cancelled(
    uow: UnitOfWork, envelope: Envelope, event: BookingCancelled
) -> None:
    await bookings.booking_cancelled(uow, envelope, event)


@handlers.on(BookingRejected)
async def on_booking_rejected(uow: UnitOfWork, envelope: Envelope, event: BookingRejected) -> None:
    await bookings.booking_ended(uow, envelope, event, "rejected")


@handlers.on(BookingAttended)
async def on_booking_attended(uow: UnitOfWork, envelope: Envelope, event: BookingAttended) -> None:
    await bookings.booking_ended(uow, envelope, event, "attended")


@handlers.on(BookingNoShow)
async def on_booking_no_show(uow: UnitOfWork, envelope: Envelope, event: BookingNoShow) -> None:
    await bookings.booking_ended(uow, envelope, event, "no_show")


@handlers.on(BookingWaitlisted)
async def on_booking_waitlisted(
    uow: UnitOfWork, envelope: Envelope, event: BookingWaitlisted
) -> None:
    await bookings.booking_waitlisted(uow, envelope, event)


@handlers.on(BookingPromoted)
async def on_booking_promoted(uow: UnitOfWork, envelope: Envelope, event: BookingPromoted) -> None:
    await bookings.booking_promoted(uow, envelope, event)


@handlers.on(BookingWaitlistLeft)
async def on_booking_waitlist_left(
    uow: UnitOfWork, envelope: Envelope, event: BookingWaitlistLeft
) -> None:
    await bookings.waitlist_left(uow, envelope, event)


@handlers.on(BookingCustomerLinked)
async def on_booking_customer_linked(
    uow: UnitOfWork, envelope: Envelope, event: BookingCustomerLinked
) -> None:
    await bookings.customer_linked(uow, envelope, event)


@handlers.on(SessionChanged)
async def on_session_changed(uow: UnitOfWork, envelope: Envelope, event: SessionChanged) -> None:
    await bookings.session_changed(uow, envelope, event)


@handlers.on(SessionCancelled)
async def on_session_cancelled(
    uow: UnitOfWork, envelope: Envelope, event: SessionCancelled
) -> None:
    await bookings.session_cancelled(uow, envelope, event)
