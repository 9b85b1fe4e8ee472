"""Contacts kept from customers' events, channel preferences (staff, or the customer for
itself), and what deletion and erasure do to a customer's messages."""

from __future__ import annotations

import dataclasses
import uuid

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
)
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.application.common import Repositories
from frontdesk.notifications.domain.contacts import ConsentSource, Contact
from frontdesk.notifications.domain.messages import Channel


async def _contact(repos: Repositories, customer_id: uuid.UUID) -> Contact:
    return await repos.contacts.ensure(customer_id, {})


async def customer_told(
    uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered | CustomerUpdated
) -> None:
    """Name, email and phone as customers last told them (a number that replied STOP
    before turns the customer's SMS consent off)."""
    repos = Repositories(uow, envelope.tenant_id)
    contact = await _contact(repos, event.customer_id)
    if contact.told(
        envelope.aggregate_version,
        first_name=event.first_name,
        last_name=event.last_name,
        email=event.email,
        phone=event.phone,
    ):
        # A number that replied STOP before it was this customer's stays unsubscribed.
        if contact.phone:
            await repos.contacts.lock_number(contact.phone)
        if contact.phone and await repos.contacts.opted_out(contact.phone):
            contact.set_consent("sms", False, "reply")
        await repos.contacts.save(contact)
        uow.publish_recorded(contact)
    await uow.commit()


async def customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    """Nothing more is sent to a deleted customer (no message about the deletion either)."""
    repos = Repositories(uow, envelope.tenant_id)
    contact = await _contact(repos, event.customer_id)
    if contact.told(envelope.aggregate_version, deleted=True):
        await repos.contacts.save(contact)
    await repos.messages.cancel_queued_of_customer(event.customer_id, "the customer was deleted")
    await uow.commit()


async def customer_erased(uow: UnitOfWork, envelope: Envelope, event: CustomerErased) -> None:
    """GDPR erasure: names, addresses, recipients and words go; the message rows stay
    (counts, kinds, states, dates). A number that replied STOP stays on the suppression
    list: honouring an opt-out is what that list is for."""
    repos = Repositories(uow, envelope.tenant_id)
    contact = await _contact(repos, event.customer_id)
    contact.scrub()
    contact.change(event_version=max(contact.event_version, envelope.aggregate_version))
    await repos.contacts.save(contact)
    await repos.messages.cancel_queued_of_customer(event.customer_id, "the customer was erased")
    await repos.messages.scrub_customer(event.customer_id)
    await uow.commit()


# --- preferences ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Preferences:
    customer_id: uuid.UUID
    sms: bool
    email: bool
    sms_number_opted_out: bool  # the number replied STOP (a START turns it back on)
    version: int


async def _preferences(repos: Repositories, contact: Contact) -> Preferences:
    return Preferences(
        customer_id=contact.id,
        sms=contact.sms_consent,
        email=contact.email_consent,
        sms_number_opted_out=await repos.contacts.opted_out(contact.phone),
        version=contact.consent_version,
    )


async def preferences(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> Preferences:
    principal.ensure_sees(customer_id, "customer")
    repos = Repositories(uow, principal.tenant_id)
    contact = await repos.contacts.get(customer_id)
    if contact is None:  # nothing known yet: everything allowed
        return Preferences(customer_id, True, True, False, 1)
    return await _preferences(repos, contact)


async def set_preferences(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    changes: dict[Channel, bool],
    *,
    expected_version: int | None = None,
) -> Preferences:
    """Staff, or the customer for itself, turn a channel on or off; customers learns of
    it (``notifications.consent.changed``)."""
    principal.ensure_sees(customer_id, "customer")
    repos = Repositories(uow, principal.tenant_id)
    contact = await _contact(repos, customer_id)
    contact.require_consent_version(expected_version)
    source: ConsentSource = "customer" if principal.is_customer else "staff"
    for channel, consent in changes.items():
        contact.set_consent(channel, consent, source)
    if contact.changed:
        await repos.contacts.save(contact)
        uow.publish_recorded(contact)
    out = await _preferences(repos, contact)
    await uow.commit()
    return out


async def opt_out_number(uow: UnitOfWork, repos: Repositories, phone: str, source: str) -> None:
    """The number is unsubscribed (a STOP reply, or Twilio's 21610): no SMS goes to it
    again, for any customer who has it, until it replies START."""
    await repos.contacts.lock_number(phone)
    await repos.contacts.opt_out(phone, source)
    for contact in await repos.contacts.with_phone(phone):
        if contact.set_consent("sms", False, "reply" if source == "reply" else "provider"):
            await repos.contacts.save(contact)
            uow.publish_recorded(contact)
