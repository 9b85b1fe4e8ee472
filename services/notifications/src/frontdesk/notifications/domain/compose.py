"""The last decision before a message goes out, made at the moment it is sent (so a STOP,
a new phone number or a cancellation that came in meanwhile is honoured): send it (to
whom, with which words), skip it for good, or wait for the customer's details."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from frontdesk.kit.errors import RuleBroken
from frontdesk.notifications.domain.bookings import Booking
from frontdesk.notifications.domain.contacts import Contact, why_not
from frontdesk.notifications.domain.messages import (
    ACCOUNT,
    REMINDERS,
    WRITTEN,
    Kind,
    Message,
)
from frontdesk.notifications.domain.senders import Venue
from frontdesk.notifications.domain.templates import (
    Rendered,
    Template,
    locale_of,
    sms_info,
    when,
)

BOOKING_KINDS = frozenset(
    {
        Kind.booking_confirmed,
        Kind.booking_rescheduled,
        Kind.booking_cancelled,
        Kind.booking_not_made,
        Kind.waitlist_joined,
        Kind.waitlist_promoted,
        Kind.waitlist_closed,
        *REMINDERS,
    }
)


TOLD_WHEN_ENDED = frozenset({Kind.booking_cancelled, Kind.booking_not_made, Kind.waitlist_closed})


@dataclasses.dataclass(frozen=True)
class Send:
    recipient: str
    rendered: Rendered
    segments: int | None
    template_version: int | None


@dataclasses.dataclass(frozen=True)
class Skip:
    reason: str


@dataclasses.dataclass(frozen=True)
class Wait:
    reason: str


Decision = Send | Skip | Wait


def variables(
    kind: Kind,
    contact: Contact | None,
    booking: Booking | None,
    venue: Venue,
    language: str | None,
) -> dict[str, Any]:
    """Everything a template of ``kind`` may use, in the tenant's language."""
    values: dict[str, Any] = {
        "first_name": (contact.first_name if contact else None) or "",
        "last_name": (contact.last_name if contact else None) or "",
        **venue.variables(),
    }
    if booking is not None:
        locale = locale_of(language)
        values |= when(booking.local_start, locale)
        values |= {
            "title": booking.title,
            "location": booking.location_name or "",
            "seats": booking.seats,
            "cancelled_by_studio": booking.cancelled_by in ("studio", "system"),
        }
        previous = booking.previous_starts_at or booking.starts_at
        earlier = when(previous.astimezone(booking.zone), locale)
        values |= {"previous_date": earlier["date"], "previous_time": earlier["time"]}
    return values


def decide(
    message: Message,
    *,
    contact: Contact | None,
    booking: Booking | None,
    template: Template,
    venue: Venue,
    language: str | None,
    number_opted_out: bool,
    waited_enough: bool,
    now: datetime,
) -> Decision:
    if message.kind in BOOKING_KINDS:
        if booking is None:
            return Skip("the booking is not known")
        if message.kind in TOLD_WHEN_ENDED:
            pass  # about a booking that is no longer active, by nature
        elif message.kind == Kind.waitlist_joined:
            if booking.status != "waitlisted":
                return Skip("the booking is no longer waiting")
        elif not booking.active:
            return Skip("the booking was cancelled")
        if message.kind in REMINDERS and message.due_at != booking.reminder_due(message.kind):
            return Skip("the booking moved; a reminder at the new time replaces this one")
        if message.kind in REMINDERS and booking.starts_at <= now:
            return Skip("the session has begun")
    context = message.context or {}
    if message.kind in ACCOUNT:
        # Asked for by the person (a login link, a reset): to the address given, whatever
        # their consent to other mail; not once its link has expired.
        if message.expires_at is not None and message.expires_at <= now:
            return Skip("the link expired before the email could be sent")
        if not message.recipient:
            return Skip("no address to send to")
        recipient = message.recipient
    else:
        if contact is None and not waited_enough:
            return Wait("waiting for the customer's contact details")
        reason = why_not(message.channel, contact, number_opted_out=number_opted_out)
        if reason is not None:
            return Skip(reason)
        assert contact is not None
        address = contact.address(message.channel)
        assert address is not None
        recipient = address
    if message.kind in WRITTEN and message.written_body is None and message.body:
        # Words staff wrote that are not a template (braces of their own): sent as written.
        rendered = Rendered(message.subject, message.body)
    else:
        if message.kind in WRITTEN and message.written_body is not None:
            template = Template.written(
                message.tenant_id,
                message.kind,
                message.channel,
                message.written_body,
                message.subject,
            )
        values = variables(
            message.kind, contact, booking, venue, (contact and contact.language) or language
        )
        values |= {k: v for k, v in context.items() if v and k != "language"}
        try:
            rendered = template.render(values)
        except RuleBroken as error:
            return Skip(f"the template cannot be rendered: {error.message}")
    segments = sms_info(rendered.body).segments if message.channel == "sms" else None
    return Send(recipient, rendered, segments, template.version or None)
