"""Handlers of other services' events, one per contract class, each a call into
``application``.

Each runs in the consumer's transaction, after the inbox claim, and the application
command commits the inbox row with its effects. The ``booking_debits`` row adds a
second guard keyed by booking, so a request redelivered under a new message id
still debits once.
"""

from __future__ import annotations

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerDeleted, CustomerErased
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingCustomerLinked,
    BookingRejected,
    BookingRequested,
)
from frontdesk.credits.application import customers, debits
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
