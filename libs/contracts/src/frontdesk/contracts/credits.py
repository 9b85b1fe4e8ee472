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
    # Optional additions (issue 14): whose credits paid (a household's payer; absent or
    # equal to customer_id: the customer's own), and the program that paid the booking
    # instead of credits (then ``debits`` is empty and ``program_sessions`` were used).
    payer_customer_id: uuid.UUID | None = None
    program_id: uuid.UUID | None = None
    program_sessions: int = 0


class DebitRejected(Event):
    TYPE = "credits.debit.rejected"

    booking_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    credits: int
    # insufficient_credits, no_customer (guests pay another way), customer_unknown (the
    # customer was deleted), booking_closed (the booking was rejected or cancelled before
    # its request reached credits: nothing is taken).
    reason: Literal["insufficient_credits", "no_customer", "customer_unknown"] | str
    # Optional addition: whose credits were asked for (a household's payer).
    payer_customer_id: uuid.UUID | None = None


class CreditsRefunded(Event):
    TYPE = "credits.debit.refunded"

    booking_id: uuid.UUID
    customer_id: uuid.UUID
    credits: int
    # Optional additions: which packages got the credits back, and why.
    debits: list[PackageDebit] = Field(default_factory=list)
    reason: str | None = None
    # Optional additions (issue 14): whose credits got them back (a household's payer),
    # or the program that got its sessions back (then ``credits`` is 0).
    payer_customer_id: uuid.UUID | None = None
    program_id: uuid.UUID | None = None
    program_sessions: int = 0


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


class LoyaltyPointsChanged(Event):
    """A customer's loyalty points after a change (aggregate: the customer, versioned by
    their loyalty account). ``kind``: earned (a paid invoice), reversed (a refund; a
    reversal larger than the balance takes it to zero and ``shortfall`` says by how much it
    fell short), redeemed (for credits or a discount voucher), moved (a merge or unmerge)."""

    TYPE = "credits.loyalty.changed"

    customer_id: uuid.UUID
    kind: Literal["earned", "reversed", "redeemed", "moved"] | str
    delta: int
    balance: int
    shortfall: int = 0
    # What caused it: the invoice, the refund, the redemption or the merge.
    source_id: uuid.UUID | None = None


class LoyaltyVoucherIssued(Event):
    """Points redeemed for a discount: a voucher worth ``amount_minor`` that billing may
    apply to the customer's next invoice (aggregate: the voucher)."""

    TYPE = "credits.loyalty.voucher_issued"

    voucher_id: uuid.UUID
    customer_id: uuid.UUID
    points: int
    amount_minor: int
    currency: str
    issued_by: str


class ProgramPurchased(Event):
    """A program (a bundle of N sessions of a kind, optionally with a named coach) was
    bought as one (aggregate: the program); billing may invoice priced ones as it invoices
    package purchases."""

    TYPE = "credits.program.purchased"

    program_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    name: str
    sessions: int
    service: str | None = None
    session_kind: str | None = None
    staff_id: uuid.UUID | None = None
    price_minor: int = 0
    currency: str = "EUR"
    expires_at: datetime | None = None
    purchased_by: str


class ProgramProgressed(Event):
    """A booking used a program's session, or got it back (aggregate: the program)."""

    TYPE = "credits.program.progressed"

    program_id: uuid.UUID
    customer_id: uuid.UUID
    booking_id: uuid.UUID
    change: Literal["used", "returned"] | str
    sessions_used: int
    sessions_total: int
