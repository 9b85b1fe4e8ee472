"""Handlers of the bus's events, each a call into ``application``.

Customers' events keep the contacts sign-in links are sent to (and close a removed
customer's account); every event of the catalogue is offered to the tenant's webhooks
(the customers' ones in the same transaction as the contact).
"""

from __future__ import annotations

from frontdesk.contracts import CATALOGUE, Envelope, Event
from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
)
from frontdesk.gateway.application import customers, webhooks
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork

handlers = Handlers()


@handlers.on(CustomerRegistered)
async def on_customer_registered(
    uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered
) -> None:
    await customers.contact_changed(uow, envelope, event)


@handlers.on(CustomerUpdated)
async def on_customer_updated(uow: UnitOfWork, envelope: Envelope, event: CustomerUpdated) -> None:
    await customers.contact_changed(uow, envelope, event)


@handlers.on(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await customers.customer_gone(uow, envelope, event.customer_id)


@handlers.on(CustomerErased)
async def on_customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    await customers.customer_gone(uow, envelope, event.customer_id)


async def offer_to_webhooks(uow: UnitOfWork, envelope: Envelope, event: Event) -> None:
    """Any other event: a delivery for each endpoint of the tenant that chose it."""
    await webhooks.event_arrived(uow, envelope)


for _event_type in CATALOGUE:
    if _event_type not in handlers:
        handlers.on(_event_type)(offer_to_webhooks)
