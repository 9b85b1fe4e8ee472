"""Events published by the credits service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from frontdesk.contracts.base import Event


class PackagePurchased(Event):
    """A credit package was bought or granted; billing invoices priced ones."""

    TYPE = "credits.package.purchased"

    package_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    name: str
    credits: int
    price_minor: int = 0
    currency: str = "EUR"
    expires_at: datetime | None = None
    purchased_by: str


class PackageToppedUp(Event):
    """Credits were added to a package the customer already holds (aggregate: the package).

    Billing invoices priced top-ups (``price_minor > 0``) as it invoices priced
    purchases; a free staff adjustment carries ``price_minor`` 0. ``top_up_id`` (the
    credit-history entry) is unique per top-up: one invoice per top-up, however often
    the event is delivered. ``product_id`` names the product the credits were sold from,
    if any.
    """

    TYPE = "credits.package.topped_up"

    top_up_id: uuid.UUID
    package_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    name: str
    credits: int
    price_minor: int = 0
    currency: str = "EUR"
    expires_at: datetime | None = None
    topped_up_by: str


class BalanceChanged(Event):
    """The customer's credit account after a change (aggregate: the customer)."""

    TYPE = "credits.balance.changed"

    customer_id: uuid.UUID
    available: int
    paused: int
    purchased_total: int
    reason: str


class PackageDebit(BaseModel):
    package_id: uuid.UUID
    credits: int


class DebitSucceeded(Event):
    TYPE = "credits.debit.succeeded"

    booking_id: uuid.UUID
    customer_id: uuid.UUID
    credits: int
    debits: list[PackageDebit] = Field(default_factory=list)


class DebitRejected(Event):
    TYPE = "credits.debit.rejected"

    booking_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    credits: int
    # insufficient_credits, no_customer (guests pay another way), customer_unknown (the
    # customer was deleted), booking_closed (the booking was rejected or cancelled before
    # its request reached credits: nothing is taken).
    reason: Literal["insufficient_credits", "no_customer", "customer_unknown"] | str


class CreditsRefunded(Event):
    TYPE = "credits.debit.refunded"

    booking_id: uuid.UUID
    customer_id: uuid.UUID
    credits: int
    # Optional additions: which packages got the credits back, and why.
    debits: list[PackageDebit] = Field(default_factory=list)
    reason: str | None = None


class MembershipSnapshot(Event):
    """Common fields of membership events (not published on its own)."""

    TYPE = "credits.membership.snapshot"

    membership_id: uuid.UUID
    customer_id: uuid.UUID
    plan_id: uuid.UUID
    plan_name: str
    discount_percent: int = Field(ge=0, le=100)
    included_services: list[str] = Field(default_factory=list)
    priority_label: str | None = None
    starts_at: datetime
    expires_at: datetime
    status: Literal["active", "frozen", "cancelled", "expired"] = "active"
    # Optional addition (billing invoices an assignment or renewal when it is priced):
    # the plan's price for one period, charged for this assignment or renewal, in
    # integer minor units with its ISO 4217 currency. None: not priced (no invoice).
    price_minor: int | None = None
    currency: str | None = None


class MembershipAssigned(MembershipSnapshot):
    TYPE = "credits.membership.assigned"

    assigned_by: str


class MembershipChanged(MembershipSnapshot):
    TYPE = "credits.membership.changed"

    change: Literal["renewed", "upgraded", "downgraded", "frozen", "unfrozen", "cancelled"]
    changed_by: str


class MembershipExpired(MembershipSnapshot):
    TYPE = "credits.membership.expired"
