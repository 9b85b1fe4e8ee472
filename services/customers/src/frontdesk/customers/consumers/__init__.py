"""Handlers of other services' events, keyed by contract class.

Each runs inside the kit's unit of work with the inbox row already claimed, so
a duplicate delivery has no effect; every read-model write is version-checked,
so an event that arrives after a newer one changes nothing. Events about a
customer not known (yet) are kept, keyed by the customer id, so the summary is
right when the record appears; events about a customer deleted here are dropped
(``ReadModel.forgotten``), so a deleted customer never comes back.

Last activity is the latest thing the customer did: booked (requested or
confirmed), cancelled a booking themselves, attended, bought credits (a priced
package or top-up; not a free grant), paid an invoice. Messages the studio
sends, invoices it issues, no-shows, rejections and reschedules (no actor in
the contract: the studio moving a class would otherwise make every attendee
"active") do not count. It only moves forward (``ReadModel.touch``).
"""

from __future__ import annotations

import logging
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
from frontdesk.contracts.customers import GuestResolved
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
from frontdesk.customers import actions
from frontdesk.customers.adapters.readmodel import ReadModel
from frontdesk.customers.domain.customer import (
    ContactError,
    clean_name,
    normalise_email,
    normalise_phone,
)
from frontdesk.customers.settings import CustomersSettings
from frontdesk.kit.consumer import Handler, Handlers
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


def _gone(envelope: Envelope, customer_id: Any) -> None:
    log.info(
        "%s for deleted customer %s (tenant %s) dropped",
        envelope.type,
        customer_id,
        envelope.tenant_id,
    )


async def _read_model(uow: UnitOfWork, envelope: Envelope, customer_id: Any) -> ReadModel | None:
    """The read model to apply the event to; None (and logged) for a deleted customer."""
    model = ReadModel(uow.session, envelope.tenant_id)
    if await model.forgotten(customer_id):
        _gone(envelope, customer_id)
        return None
    return model


def customer_acted(event: BookingFacts) -> bool:
    """Whether the booking event is something the customer did (for last activity)."""
    if isinstance(event, BookingCancelled):
        return event.cancelled_by == "customer"
    return isinstance(event, BookingRequested | BookingConfirmed | BookingAttended)


_region = CustomersSettings().default_region

BOOKING_STATUS: dict[type[BookingFacts], str | None] = {
    BookingRequested: "pending",
    BookingConfirmed: "confirmed",
    BookingRescheduled: "confirmed",
    BookingCancelled: "cancelled",
    BookingRejected: "rejected",
    BookingAttended: "attended",
    BookingNoShow: "no_show",
    BookingCustomerLinked: None,  # keeps the status it has
}
BOOKING_WORDS = {
    BookingConfirmed: "Booked",
    BookingRescheduled: "Rescheduled",
    BookingCancelled: "Cancelled",
    BookingRejected: "Booking rejected",
    BookingAttended: "Attended",
    BookingNoShow: "No-show",
}


def guest_values(event: BookingRequested) -> dict[str, Any] | None:
    """The guest's contact, cleaned; None when there is no usable email."""
    guest = event.guest
    if guest is None or not guest.email:
        return None
    try:
        email = normalise_email(guest.email)
    except ContactError:
        return None
    values: dict[str, Any] = {"email": email, "phone": None, "source": "booking"}
    for field, fallback in (("first_name", "Guest"), ("last_name", "Guest")):
        try:
            values[field] = clean_name(field, getattr(guest, field) or "")
        except ContactError:
            values[field] = fallback
    if guest.phone:
        try:
            values["phone"] = normalise_phone(guest.phone, _region)
        except ContactError:
            log.info("guest phone of booking %s is unusable; kept the email only", event.booking_id)
    return values


async def on_booking_requested(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, BookingRequested)
    customer_id = event.customer_id
    if customer_id is None and event.guest is not None:
        values = guest_values(event)
        if values is None:
            log.warning("guest booking %s has no usable email; not resolved", event.booking_id)
        else:
            row, created = await actions.find_or_create(uow, envelope.tenant_id, values)
            customer_id = row["id"]
            uow.publish(
                GuestResolved(
                    booking_id=event.booking_id, customer_id=customer_id, created=created
                ),
                tenant_id=envelope.tenant_id,
                aggregate_id=event.booking_id,
                aggregate_version=1,
            )
    await _apply_booking(uow, envelope, event, customer_id)


async def on_booking(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, BookingFacts)
    await _apply_booking(uow, envelope, event, event.customer_id)


async def _apply_booking(
    uow: UnitOfWork, envelope: Envelope, event: BookingFacts, customer_id: Any
) -> None:
    model = ReadModel(uow.session, envelope.tenant_id)
    if customer_id is not None and await model.forgotten(customer_id):
        _gone(envelope, customer_id)
        return
    status = BOOKING_STATUS[type(event)]
    values = {
        "customer_id": customer_id,
        "title": event.title[:200],
        "session_kind": event.session_kind,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "last_event_at": envelope.occurred_at,
        "status": status or "pending",
        "activity_at": envelope.occurred_at if customer_acted(event) else None,
    }
    applied = await model.apply_booking(
        event.booking_id, envelope.aggregate_version, values, keep_status=status is None
    )
    if applied is None:
        log.info(
            "stale %s for booking %s (version %d) ignored",
            envelope.type,
            event.booking_id,
            envelope.aggregate_version,
        )
    else:
        gone = {c for c in applied.affected if c != customer_id and await model.forgotten(c)}
        for customer in sorted(applied.affected - gone):  # a fixed order: no deadlocks
            await model.recompute_bookings(customer)
        # The booking's customer activity, carried to the customer it belongs to now
        # (a guest booking linked later brings its booking time along).
        owner, acted_at = applied.customer_id, applied.activity_at
        if owner is not None and owner not in gone and acted_at is not None:
            await model.touch(owner, acted_at)
    word = BOOKING_WORDS.get(type(event))
    if word and customer_id is not None:
        # The timeline keeps every event, stale or not: each one happened.
        await model.add_activity(
            event_id=envelope.id,
            customer_id=customer_id,
            kind="booking",
            event=envelope.type,
            occurred_at=envelope.occurred_at,
            subject_id=event.booking_id,
            summary=f"{word}: {event.title} ({event.starts_at.isoformat()})",
            details={
                "title": event.title,
                "starts_at": event.starts_at.isoformat(),
                "session_kind": event.session_kind,
            },
        )


async def on_balance(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, BalanceChanged)
    model = await _read_model(uow, envelope, event.customer_id)
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
        log.info(
            "stale balance of %s (version %d) ignored",
            event.customer_id,
            envelope.aggregate_version,
        )


async def on_account(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, AccountChanged)
    model = await _read_model(uow, envelope, event.customer_id)
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
        log.info(
            "stale account of %s (version %d) ignored",
            event.customer_id,
            envelope.aggregate_version,
        )


async def on_membership(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, MembershipSnapshot)
    status = "expired" if isinstance(event, MembershipExpired) else event.status
    model = await _read_model(uow, envelope, event.customer_id)
    if model is None:
        return
    await model.apply_membership(
        {
            "membership_id": event.membership_id,
            "customer_id": event.customer_id,
            "plan_name": event.plan_name[:200],
            "status": status,
            "starts_at": event.starts_at,
            "expires_at": event.expires_at,
        },
        envelope.aggregate_version,
    )


async def on_message(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, MessageFacts)
    if event.customer_id is None:
        return
    model = await _read_model(uow, envelope, event.customer_id)
    if model is None:
        return
    what = envelope.type.rsplit(".", 1)[-1]
    text = f"{event.channel.upper()} {what}" + (f": {event.subject}" if event.subject else "")
    details: dict[str, Any] = {
        "channel": event.channel,
        "template": event.template,
        "subject": event.subject,
    }
    if isinstance(event, MessageFailed):
        details |= {"error": event.error, "permanent": event.permanent}
    await model.add_activity(
        event_id=envelope.id,
        customer_id=event.customer_id,
        kind="message",
        event=envelope.type,
        occurred_at=envelope.occurred_at,
        subject_id=event.message_id,
        summary=text,
        details=details,
    )


async def on_invoice(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, InvoiceFacts)
    model = await _read_model(uow, envelope, event.customer_id)
    if model is None:
        return
    what = envelope.type.rsplit(".", 1)[-1]
    details: dict[str, Any] = {
        "number": event.number,
        "total_minor": event.total_minor,
        "currency": event.currency,
    }
    if isinstance(event, InvoicePaid):
        details["paid_minor"] = event.paid_minor
        await model.touch(event.customer_id, envelope.occurred_at)  # the customer paid
    await model.add_activity(
        event_id=envelope.id,
        customer_id=event.customer_id,
        kind="invoice",
        event=envelope.type,
        occurred_at=envelope.occurred_at,
        subject_id=event.invoice_id,
        summary=f"Invoice {event.number} {what}",
        details=details,
    )


async def on_credits_bought(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    """Buying credits (a package or a top-up) is the customer's activity; a free grant or
    adjustment by staff is not. The balance itself comes with BalanceChanged."""
    assert isinstance(event, PackagePurchased | PackageToppedUp)
    if event.price_minor <= 0:
        return
    model = await _read_model(uow, envelope, event.customer_id)
    if model is None:
        return
    await model.touch(event.customer_id, envelope.occurred_at)


async def on_session_changed(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    """A renamed class: its bookings (and so the next session shown) take the new title.
    Times follow through each booking's own events (BookingRescheduled)."""
    assert isinstance(event, SessionChanged)
    if "title" in event.changed and event.booking_ids:
        await ReadModel(uow.session, envelope.tenant_id).retitle_bookings(
            event.booking_ids, event.title[:200], envelope.aggregate_version
        )


def handlers() -> Handlers:
    table: dict[Any, Handler] = {
        BookingRequested: on_booking_requested,
        BalanceChanged: on_balance,
        AccountChanged: on_account,
        PackagePurchased: on_credits_bought,
        PackageToppedUp: on_credits_bought,
        SessionChanged: on_session_changed,
    }
    for booking in (
        BookingConfirmed,
        BookingCancelled,
        BookingRejected,
        BookingAttended,
        BookingNoShow,
        BookingRescheduled,
        BookingCustomerLinked,
    ):
        table[booking] = on_booking
    for membership in (MembershipAssigned, MembershipChanged, MembershipExpired):
        table[membership] = on_membership
    for message in (MessageSent, MessageDelivered, MessageFailed):
        table[message] = on_message
    for invoice in (InvoiceIssued, InvoicePaid, InvoiceCancelled):
        table[invoice] = on_invoice
    return table
