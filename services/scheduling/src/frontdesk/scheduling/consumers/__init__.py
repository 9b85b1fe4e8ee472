"""Handlers of other services' events, one per contract class, each a call into
``application`` (the consumer claims the inbox row in the same unit of work)."""

from __future__ import annotations

from frontdesk.contracts import Envelope
from frontdesk.contracts.credits import DebitRejected, DebitSucceeded
from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerStatusChanged,
    GuestResolved,
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
