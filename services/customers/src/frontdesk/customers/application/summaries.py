"""The summary read model, fed by other services' events (C5, C18).

Each command runs inside the consumer's unit of work with the inbox row already claimed,
so a duplicate delivery has no effect; every read-model write is version-checked, so an
event that arrives after a newer one changes nothing. Events about a customer not known
(yet) are kept, keyed by the customer id, so the summary is right when the record
appears; events about a customer deleted here are dropped (``forgotten``), so a deleted
customer never comes back. Last activity only moves forward (``touch``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from frontdesk.contracts import Envelope
from frontdesk.contracts.billing import AccountChanged, InvoiceFacts
from frontdesk.contracts.credits import (
    BalanceChanged,
    MembershipSnapshot,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.contracts.customers import GuestResolved
from frontdesk.contracts.identity import CustomerAccountCreated, LoginSucceeded
from frontdesk.contracts.notifications import MessageFacts
from frontdesk.contracts.scheduling import BookingFacts, BookingRequested, SessionChanged
from frontdesk.customers.adapters.summaries import SummaryRepository
from frontdesk.customers.application import customers, tenants
from frontdesk.customers.domain.customer import guest_contact
from frontdesk.customers.domain.summary import (
    BOOKING_STATUS,
    TITLE_MAX,
    Activity,
    account_activity,
    booking_activity,
    credits_bought,
    customer_acted,
    invoice_activity,
    invoice_paid,
    membership_values,
    message_activity,
)
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _summaries(
    uow: UnitOfWork, envelope: Envelope, customer_id: uuid.UUID
) -> SummaryRepository | None:
    """The read model to apply the event to; None (and logged) for a deleted customer."""
    model = SummaryRepository(uow.session, envelope.tenant_id)
    if await model.forgotten(customer_id):
        _gone(envelope, customer_id)
        return None
    return model


async def _survivor(
    model: SummaryRepository, envelope: Envelope, customer_id: uuid.UUID
) -> uuid.UUID | None:
    """The record that is the customer now (a merged record's survivor); None (and
    logged) for a deleted customer."""
    forgotten, survivor = await model.standing(customer_id)
    if forgotten:
        _gone(envelope, customer_id)
        return None
    return survivor


def _gone(envelope: Envelope, customer_id: uuid.UUID) -> None:
    log.info(
        "%s for deleted customer %s (tenant %s) dropped",
        envelope.type,
        customer_id,
        envelope.tenant_id,
    )


def _stale(envelope: Envelope, what: str) -> None:
    log.info("stale %s %s (version %d) ignored", envelope.type, what, envelope.aggregate_version)


async def _add_activity(
    model: SummaryRepository, envelope: Envelope, customer_id: uuid.UUID, activity: Activity
) -> None:
    await model.add_activity(
        event_id=envelope.id,
        customer_id=customer_id,
        event=envelope.type,
        occurred_at=envelope.occurred_at,
        activity=activity,
    )


async def apply_together(
    uow: UnitOfWork,
    items: list[tuple[Envelope, Any]],
    apply: Callable[[UnitOfWork, Envelope, Any], Awaitable[None]],
) -> None:
    """Events about customers, several in one transaction: the shared lock and standing of
    every customer they name first (two statements per tenant, not two per event), then
    each event applied as it would be alone."""
    if len(items) > 1:
        named: dict[uuid.UUID, set[uuid.UUID]] = {}
        for envelope, event in items:
            customer_id = getattr(event, "customer_id", None)
            if customer_id is not None:
                named.setdefault(envelope.tenant_id, set()).add(customer_id)
        for tenant_id, customer_ids in named.items():
            await SummaryRepository(uow.session, tenant_id).hold(customer_ids)
    try:
        for envelope, event in items:
            uow.caused_by(envelope)
            await apply(uow, envelope, event)
    finally:
        SummaryRepository.let_go(uow.session)


# -- bookings -----------------------------------------------------------------------------


async def booking_requested(uow: UnitOfWork, envelope: Envelope, event: BookingRequested) -> None:
    """A guest's booking resolves the guest to a customer (found or created by email) and
    answers ``GuestResolved`` so scheduling links the booking."""
    customer_id = event.customer_id
    if customer_id is None and event.guest is not None:
        # A phone without a country code is read in the tenant's country (issue 12).
        region = await tenants.phone_region(uow, envelope.tenant_id)
        contact = guest_contact(event.guest, region)
        if contact is None:
            log.warning("guest booking %s has no usable email; not resolved", event.booking_id)
        else:
            if event.guest.phone and contact["phone"] is None:
                log.info("guest phone of booking %s is unusable; kept the email", event.booking_id)
            customer, created = await customers.resolve_guest(uow, envelope.tenant_id, contact)
            customer_id = customer.id
            uow.publish(
                GuestResolved(
                    booking_id=event.booking_id, customer_id=customer_id, created=created
                ),
                tenant_id=envelope.tenant_id,
                aggregate_id=event.booking_id,
                aggregate_version=1,
            )
    await _apply_booking(uow, envelope, event, customer_id)
    await uow.commit()


async def booking_changed(uow: UnitOfWork, envelope: Envelope, event: BookingFacts) -> None:
    await _apply_booking(uow, envelope, event, event.customer_id)
    await uow.commit()


async def _apply_booking(
    uow: UnitOfWork, envelope: Envelope, event: BookingFacts, customer_id: uuid.UUID | None
) -> None:
    model = SummaryRepository(uow.session, envelope.tenant_id)
    if customer_id is not None:
        # A booking of a merged record (scheduling not caught up with the merge yet) is
        # the survivor's: the merge moved it there, this event must not move it back.
        customer_id = await _survivor(model, envelope, customer_id)
        if customer_id is None:
            return
    status = BOOKING_STATUS[type(event)]
    applied = await model.apply_booking(
        event.booking_id,
        envelope.aggregate_version,
        {
            "customer_id": customer_id,
            "title": event.title[:TITLE_MAX],
            "session_kind": event.session_kind,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "last_event_at": envelope.occurred_at,
            "status": status or "pending",
            "activity_at": envelope.occurred_at if customer_acted(event) else None,
        },
        keep_status=status is None,
    )
    if applied is None:
        _stale(envelope, f"for booking {event.booking_id}")
    else:
        gone = {c for c in applied.affected if c != customer_id and await model.forgotten(c)}
        # The booking's customer activity, carried to the customer it belongs to now
        # (a guest booking linked later brings its booking time along).
        owner, acted_at = applied.customer_id, applied.activity_at
        for customer in sorted(applied.affected - gone):  # a fixed order: no deadlocks
            await model.recompute_bookings(
                customer, active_at=acted_at if customer == owner else None
            )
    activity = booking_activity(event)
    if activity is not None and customer_id is not None:
        # The timeline keeps every event, stale or not: each one happened.
        await _add_activity(model, envelope, customer_id, activity)


async def session_changed(uow: UnitOfWork, envelope: Envelope, event: SessionChanged) -> None:
    """A renamed class: its bookings (and so the next session shown) take the new title.
    Times follow through each booking's own events (BookingRescheduled)."""
    if "title" in event.changed and event.booking_ids:
        await SummaryRepository(uow.session, envelope.tenant_id).retitle_bookings(
            event.booking_ids, event.title[:TITLE_MAX], envelope.aggregate_version
        )
        await uow.commit()


# -- credits and billing ------------------------------------------------------------------


async def balance_changed(uow: UnitOfWork, envelope: Envelope, event: BalanceChanged) -> None:
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    applied = await model.apply_balance(
        event.customer_id,
        envelope.aggregate_version,
        available=event.available,
        paused=event.paused,
        purchased=event.purchased_total,
    )
    if not applied:
        _stale(envelope, f"balance of {event.customer_id}")
    await uow.commit()


async def account_changed(uow: UnitOfWork, envelope: Envelope, event: AccountChanged) -> None:
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    applied = await model.apply_account(
        event.customer_id,
        envelope.aggregate_version,
        lifetime_spend_minor=event.lifetime_spend_minor,
        outstanding_minor=event.outstanding_minor,
        currency=event.currency,
    )
    if not applied:
        _stale(envelope, f"account of {event.customer_id}")
    await uow.commit()


async def membership_changed(
    uow: UnitOfWork, envelope: Envelope, event: MembershipSnapshot
) -> None:
    model = SummaryRepository(uow.session, envelope.tenant_id)
    survivor = await _survivor(model, envelope, event.customer_id)  # as for bookings
    if survivor is None:
        return
    values = membership_values(event)
    values["customer_id"] = survivor
    await model.apply_membership(values, envelope.aggregate_version)
    await uow.commit()


async def credits_bought_event(
    uow: UnitOfWork, envelope: Envelope, event: PackagePurchased | PackageToppedUp
) -> None:
    """Buying credits (a package or a top-up) is the customer's activity; a free grant is
    not. The balance itself comes with BalanceChanged."""
    if not credits_bought(event):
        return
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    await model.touch(event.customer_id, envelope.occurred_at)
    await uow.commit()


async def invoice_changed(uow: UnitOfWork, envelope: Envelope, event: InvoiceFacts) -> None:
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    if invoice_paid(event):
        await model.touch(event.customer_id, envelope.occurred_at)  # the customer paid
    await _add_activity(model, envelope, event.customer_id, invoice_activity(event, envelope.type))
    await uow.commit()


# -- identity -----------------------------------------------------------------------------


async def account_event(
    uow: UnitOfWork, envelope: Envelope, event: LoginSucceeded | CustomerAccountCreated
) -> None:
    """A customer's self-service account: on the timeline; signing in is also the
    customer's activity."""
    activity = account_activity(event)
    if activity is None or event.customer_id is None:
        return
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    if isinstance(event, LoginSucceeded):
        await model.touch(event.customer_id, envelope.occurred_at)
    await _add_activity(model, envelope, event.customer_id, activity)
    await uow.commit()


# -- notifications ------------------------------------------------------------------------


async def message_changed(uow: UnitOfWork, envelope: Envelope, event: MessageFacts) -> None:
    """Messages the studio sends are on the timeline; they are not the customer's activity."""
    if event.customer_id is None:
        return
    model = await _summaries(uow, envelope, event.customer_id)
    if model is None:
        return
    await _add_activity(model, envelope, event.customer_id, message_activity(event, envelope.type))
    await uow.commit()
