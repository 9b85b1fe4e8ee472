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


class CustomerMerged(Event):
    """Two records became one. Every service moves what ``merged_id`` holds to
    ``survivor_id`` and remembers what it moved under ``merge_id``, so that the
    unmerge can move exactly that back."""

    TYPE = "customers.customer.merged"

    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_by: str


class CustomerUnmerged(Event):
    """A merge undone: every service moves back what it moved under ``merge_id``
    (what the survivor gained since stays with the survivor)."""

    TYPE = "customers.customer.unmerged"

    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    unmerged_by: str


class HouseholdLinked(Event):
    """``payer_id`` (a parent) may book for ``member_id`` and pays with own credits."""

    TYPE = "customers.household.linked"

    payer_id: uuid.UUID
    member_id: uuid.UUID
    relation: str | None = None


class HouseholdUnlinked(Event):
    TYPE = "customers.household.unlinked"

    payer_id: uuid.UUID
    member_id: uuid.UUID


class AssetChanged(Event):
    """A customer's asset (a vehicle for a repair shop) was added, edited or removed;
    carries the current label so an appointment can name it."""

    TYPE = "customers.asset.changed"

    asset_id: uuid.UUID
    customer_id: uuid.UUID
    kind: str
    label: str
    removed: bool = False
