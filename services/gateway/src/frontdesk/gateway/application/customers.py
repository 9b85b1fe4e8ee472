"""What the gateway keeps of customers (their email and name, from customers' events) to
send sign-in links, and what becomes of a customer's account when the customer is deleted
or erased: closed, its sessions ended (the worker tells Redis). Every event is also offered
to the tenant's webhooks, in the same transaction."""

from __future__ import annotations

import uuid

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerRegistered, CustomerUpdated
from frontdesk.gateway.adapters.accounts import ContactRepository, CustomerAccountRepository
from frontdesk.gateway.application import logins, webhooks
from frontdesk.gateway.domain.accounts import normalise_email
from frontdesk.kit.uow import UnitOfWork


async def contact_changed(
    uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered | CustomerUpdated
) -> None:
    tenant_id = envelope.tenant_id
    email = normalise_email(event.email) if event.email else None
    await ContactRepository(uow.session, tenant_id).apply(
        event.customer_id,
        envelope.aggregate_version,
        {"email": email, "first_name": event.first_name, "last_name": event.last_name},
    )
    accounts = CustomerAccountRepository(uow.session, tenant_id)
    account = await accounts.by_customer(event.customer_id, for_update=True)
    if account is not None and email and account.email != email:
        account.change(email=email)
        await accounts.save(account)
    await webhooks.fan_out(uow, envelope)
    await uow.commit()


async def customer_gone(uow: UnitOfWork, envelope: Envelope, customer_id: uuid.UUID) -> None:
    """Deleted or erased: no contact kept, the account closed, its sessions ended."""
    tenant_id = envelope.tenant_id
    await ContactRepository(uow.session, tenant_id).forget(customer_id)
    account = await CustomerAccountRepository(uow.session, tenant_id).remove(customer_id)
    if account is not None:
        await logins.end_account_sessions(uow, tenant_id, account.id, "customer removed")
    await webhooks.fan_out(uow, envelope)
    await uow.commit()
