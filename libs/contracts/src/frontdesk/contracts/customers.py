"""Events published by the customers service."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from frontdesk.contracts.base import Event

CustomerStatus = Literal["active", "inactive", "vip", "blocked"]


class CustomerRegistered(Event):
    TYPE = "customers.customer.registered"

    customer_id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    status: CustomerStatus = "active"
    source: Literal["staff", "booking", "self_service", "import"] = "staff"
    tags: list[str] = Field(default_factory=list)


class CustomerUpdated(Event):
    """Contact or profile fields changed; carries the current values."""

    TYPE = "customers.customer.updated"

    customer_id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    tags: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)


class CustomerStatusChanged(Event):
    TYPE = "customers.customer.status_changed"

    customer_id: uuid.UUID
    old_status: CustomerStatus
    new_status: CustomerStatus


class CustomerDeleted(Event):
    """The record is gone; other services drop or detach what they hold."""

    TYPE = "customers.customer.deleted"

    customer_id: uuid.UUID


class CustomerErased(Event):
    """GDPR erasure: scrub personal data, keep anonymous transaction records."""

    TYPE = "customers.customer.erased"

    customer_id: uuid.UUID


class GuestResolved(Event):
    """A guest booking's contact was matched to (or created as) a customer."""

    TYPE = "customers.guest.resolved"

    booking_id: uuid.UUID
    customer_id: uuid.UUID
    created: bool


class BulkMessageRequested(Event):
    """Staff asked to message a selection; notifications sends it."""

    TYPE = "customers.bulk_message.requested"

    request_id: uuid.UUID
    customer_ids: list[uuid.UUID]
    channel: Literal["email", "sms"]
    subject: str | None = None
    body: str
    requested_by: str
