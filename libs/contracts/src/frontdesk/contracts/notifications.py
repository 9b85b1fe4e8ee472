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
