"""Handlers of other services' events, one per contract class, each a call into
``application``.

Each runs in the consumer's transaction, after the inbox claim, and the application
command commits the inbox row with its effects. The ``booking_debits`` row adds a
second guard keyed by booking, so a request redelivered under a new message id
still debits once.
"""

from __future__ import annotations

from frontdesk.contracts import Envelope
from frontdesk.contracts.billing import InvoicePaid, PaymentRefunded
from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerMerged,
    CustomerUnmerged,
)
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
)
from frontdesk.credits.application import customers, debits, loyalty, merges
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork

handlers = Handlers()


@handlers.on(BookingRequested)
async def on_booking_requested(
    uow: UnitOfWork, envelope: Envelope, event: BookingRequested
) -> None:
    await debits.booking_requested(uow, envelope.tenant_id, event)


@handlers.on(BookingCustomerLinked)
async def on_booking_customer_linked(
    uow: UnitOfWork, envelope: Envelope, event: BookingCustomerLinked
) -> None:
    await debits.booking_customer_linked(uow, envelope.tenant_id, event)


@handlers.on(BookingCancelled)
async def on_booking_cancelled(
    uow: UnitOfWork, envelope: Envelope, event: BookingCancelled
) -> None:
    await debits.booking_ended(uow, envelope.tenant_id, event)


@handlers.on(BookingRejected)
async def on_booking_rejected(uow: UnitOfWork, envelope: Envelope, event: BookingRejected) -> None:
    await debits.booking_ended(uow, envelope.tenant_id, event)


@handlers.on(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await customers.customer_deleted(uow, envelope.tenant_id, event.customer_id)


@handlers.on(CustomerErased)
async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    await customers.customer_erased(uow, envelope.tenant_id, event.customer_id)


@handlers.on(BookingConfirmed)
async def on_booking_confirmed(
    uow: UnitOfWork, envelope: Envelope, event: BookingConfirmed
) -> None:
    await debits.booking_confirmed(uow, envelope.tenant_id, event)


@handlers.on(BookingRescheduled)
async def on_booking_rescheduled(
    uow: UnitOfWork, envelope: Envelope, event: BookingRescheduled
) -> None:
    await debits.booking_rescheduled(uow, envelope.tenant_id, event)


@handlers.on(InvoicePaid)
async def on_invoice_paid(uow: UnitOfWork, envelope: Envelope, event: InvoicePaid) -> None:
    await loyalty.invoice_paid(uow, envelope.tenant_id, event)


@handlers.on(PaymentRefunded)
async def on_payment_refunded(uow: UnitOfWork, envelope: Envelope, event: PaymentRefunded) -> None:
    # One reversal per refund: its id, or (from older producers) the message's.
    await loyalty.payment_refunded(uow, envelope.tenant_id, event, event.refund_id or envelope.id)


@handlers.on(CustomerMerged)
async def on_customer_merged(uow: UnitOfWork, envelope: Envelope, event: CustomerMerged) -> None:
    await merges.customer_merged(uow, envelope.tenant_id, event)


@handlers.on(CustomerUnmerged)
async def on_customer_unmerged(
    uow: UnitOfWork, envelope: Envelope, event: CustomerUnmerged
) -> None:
    await merges.customer_unmerged(uow, envelope.tenant_id, event)
