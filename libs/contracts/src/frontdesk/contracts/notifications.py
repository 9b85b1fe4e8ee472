"""Events published by the notifications service."""

from __future__ import annotations

import uuid
from typing import Literal

from frontdesk.contracts.base import Event

Channel = Literal["sms", "email"]


class MessageFacts(Event):
    TYPE = "notifications.message.facts"

    message_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    channel: Channel
    template: str | None = None
    subject: str | None = None


class MessageSent(MessageFacts):
    TYPE = "notifications.message.sent"


class MessageDelivered(MessageFacts):
    TYPE = "notifications.message.delivered"


class MessageFailed(MessageFacts):
    TYPE = "notifications.message.failed"

    error: str
    permanent: bool


class MessageReceived(MessageFacts):
    """A reply from a customer (inbound SMS) that is not a keyword: it reaches staff, and
    counts as the customer's activity. ``customer_id`` is set when the sender's number
    belongs to exactly one customer of the tenant."""

    TYPE = "notifications.message.received"

    body: str
    from_number: str | None = None


class ConsentChanged(Event):
    """A customer's consent for one channel changed here: a STOP / START reply, a number
    Twilio reports as unsubscribed (21610), or staff or the customer editing the
    preferences. ``source`` says which."""

    TYPE = "notifications.consent.changed"

    customer_id: uuid.UUID
    channel: Channel
    consent: bool
    source: Literal["reply", "provider", "staff", "customer"]
