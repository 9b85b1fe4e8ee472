"""What other services' events mean for a customer's summary and timeline (C5, C18).

Last activity is the latest thing the customer did: booked (requested or confirmed),
cancelled a booking themselves, attended, bought credits (a priced package or top-up; not
a free grant), paid an invoice. Messages the studio sends, invoices it issues, no-shows,
rejections and reschedules (no actor in the contract: the studio moving a class would
otherwise make every attendee "active") do not count. No framework code here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from frontdesk.contracts.billing import InvoiceFacts, InvoicePaid
from frontdesk.contracts.credits import (
    MembershipExpired,
    MembershipSnapshot,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.contracts.identity import CustomerAccountCreated, LoginSucceeded
from frontdesk.contracts.notifications import MessageFacts, MessageFailed
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
)

# Titles and plan names are kept at the length of their columns.
TITLE_MAX = 200

# The booking's status after each event; None keeps the status it has.
BOOKING_STATUS: dict[type[BookingFacts], str | None] = {
    BookingRequested: "pending",
    BookingConfirmed: "confirmed",
    BookingRescheduled: "confirmed",
    BookingCancelled: "cancelled",
    BookingRejected: "rejected",
    BookingAttended: "attended",
    BookingNoShow: "no_show",
    BookingCustomerLinked: None,
}
# The booking events the timeline shows, and how.
BOOKING_WORDS: dict[type[BookingFacts], str] = {
    BookingConfirmed: "Booked",
    BookingRescheduled: "Rescheduled",
    BookingCancelled: "Cancelled",
    BookingRejected: "Booking rejected",
    BookingAttended: "Attended",
    BookingNoShow: "No-show",
}


@dataclass(frozen=True)
class Activity:
    """One line of the customer's timeline."""

    kind: str
    subject_id: uuid.UUID
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def customer_acted(event: BookingFacts) -> bool:
    """Whether the booking event is something the customer did (for last activity)."""
    if isinstance(event, BookingCancelled):
        return event.cancelled_by == "customer"
    return isinstance(event, BookingRequested | BookingConfirmed | BookingAttended)


def booking_activity(event: BookingFacts) -> Activity | None:
    word = BOOKING_WORDS.get(type(event))
    if word is None:
        return None
    return Activity(
        kind="booking",
        subject_id=event.booking_id,
        summary=f"{word}: {event.title} ({event.starts_at.isoformat()})",
        details={
            "title": event.title,
            "starts_at": event.starts_at.isoformat(),
            "session_kind": event.session_kind,
        },
    )


def message_activity(event: MessageFacts, event_type: str) -> Activity:
    what = event_type.rsplit(".", 1)[-1]
    details: dict[str, Any] = {
        "channel": event.channel,
        "template": event.template,
        "subject": event.subject,
    }
    if isinstance(event, MessageFailed):
        details |= {"error": event.error, "permanent": event.permanent}
    return Activity(
        kind="message",
        subject_id=event.message_id,
        summary=f"{event.channel.upper()} {what}" + (f": {event.subject}" if event.subject else ""),
        details=details,
    )


def invoice_activity(event: InvoiceFacts, event_type: str) -> Activity:
    what = event_type.rsplit(".", 1)[-1]
    details: dict[str, Any] = {
        "number": event.number,
        "total_minor": event.total_minor,
        "currency": event.currency,
    }
    if isinstance(event, InvoicePaid):
        details["paid_minor"] = event.paid_minor
    return Activity(
        kind="invoice",
        subject_id=event.invoice_id,
        summary=f"Invoice {event.number} {what}",
        details=details,
    )


def invoice_paid(event: InvoiceFacts) -> bool:
    """Paying is the customer's activity; an invoice issued or cancelled is the studio's."""
    return isinstance(event, InvoicePaid)


SIGN_IN_WORDS = {
    "link": "by emailed link",
    "password": "with a password",
    "password_reset": "after a password reset",
}


def account_activity(event: LoginSucceeded | CustomerAccountCreated) -> Activity | None:
    """A customer's self-service account on the timeline: made, and each sign-in (the
    customer's own activity); a staff member's login is not about a customer."""
    if isinstance(event, CustomerAccountCreated):
        return Activity(
            kind="account", subject_id=event.account_id, summary="Self-service account created"
        )
    if event.kind != "customer" or event.customer_id is None:
        return None
    how = SIGN_IN_WORDS.get(event.method, event.method)
    return Activity(
        kind="account",
        subject_id=event.session_id,
        summary=f"Signed in to self-service {how}",
        details={"method": event.method},
    )


def credits_bought(event: PackagePurchased | PackageToppedUp) -> bool:
    """Buying credits is the customer's activity; a free grant or adjustment by staff is not."""
    return event.price_minor > 0


def membership_values(event: MembershipSnapshot) -> dict[str, Any]:
    """The membership as the read model keeps it (an expiry is its last status)."""
    return {
        "membership_id": event.membership_id,
        "customer_id": event.customer_id,
        "plan_name": event.plan_name[:TITLE_MAX],
        "status": "expired" if isinstance(event, MembershipExpired) else event.status,
        "starts_at": event.starts_at,
        "expires_at": event.expires_at,
    }
