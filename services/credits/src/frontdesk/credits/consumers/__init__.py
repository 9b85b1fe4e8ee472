"""Handlers of other services' events, keyed by contract class.

Each runs in the consumer's transaction, after the inbox claim; the
``booking_debits`` row adds a second guard keyed by booking, so a request
redelivered under a new message id still debits once.
"""

from __future__ import annotations

from typing import Any

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerDeleted, CustomerErased
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingCustomerLinked,
    BookingRejected,
    BookingRequested,
)
from frontdesk.credits.application import ledger, memberships
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork


async def on_booking_requested(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, BookingRequested)
    if event.payment.method != "credits":
        return  # paid another way: nothing for credits to do
    if event.customer_id is None and event.guest is not None and event.payment.credits > 0:
        # A guest may be a customer with credits: customers resolves the contact, and the
        # debit follows scheduling's BookingCustomerLinked (the saga timeout bounds the wait).
        return
    await ledger.debit_for_booking(
        uow, envelope.tenant_id, event.booking_id, event.customer_id, event.payment.credits
    )


async def on_booking_customer_linked(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    """The guest booking's customer is known: debit now (once, like any request). A booking
    rejected meanwhile left a closed tombstone, or its rejection refunds this debit."""
    assert isinstance(event, BookingCustomerLinked)
    if event.payment.method != "credits" or event.payment.credits <= 0:
        return
    await ledger.debit_for_booking(
        uow, envelope.tenant_id, event.booking_id, event.customer_id, event.payment.credits
    )


async def on_booking_cancelled(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, BookingCancelled)
    if event.payment.method != "credits":
        return
    await ledger.settle_booking(
        uow,
        envelope.tenant_id,
        event.booking_id,
        event.customer_id,
        refund=event.refund,
        cause="booking cancelled",
    )


async def on_booking_rejected(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    """A rejected booking that was debited (saga timeout) gets its credits back."""
    assert isinstance(event, BookingRejected)
    if event.payment.method != "credits":
        return
    await ledger.settle_booking(
        uow,
        envelope.tenant_id,
        event.booking_id,
        event.customer_id,
        refund=True,
        cause="booking rejected",
    )


async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, CustomerDeleted)
    await memberships.cancel_all_for(
        uow, envelope.tenant_id, event.customer_id, reason="customer deleted"
    )
    await ledger.close_account(uow, envelope.tenant_id, event.customer_id)


async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, CustomerErased)
    await ledger.scrub_customer(uow, envelope.tenant_id, event.customer_id)
    await memberships.scrub_customer(uow, envelope.tenant_id, event.customer_id)


def handlers() -> Handlers:
    return {
        BookingRequested: on_booking_requested,
        BookingCustomerLinked: on_booking_customer_linked,
        BookingCancelled: on_booking_cancelled,
        BookingRejected: on_booking_rejected,
        CustomerDeleted: on_customer_deleted,
        CustomerErased: on_customer_erased,
    }
