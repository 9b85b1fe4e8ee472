"""Events published by the scheduling service (the booking saga's driver)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from frontdesk.contracts.base import Contact, Event

PaymentMethod = Literal["credits", "pay_per_session", "free"]


class BookingPayment(BaseModel):
    method: PaymentMethod
    credits: int = 0
    price_minor: int = 0
    currency: str = "EUR"


class BookingFacts(Event):
    """Fields every booking event carries (not published on its own)."""

    TYPE = "scheduling.booking.facts"

    booking_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    session_id: uuid.UUID
    session_kind: Literal["class", "appointment"]
    # What the session really is: "event" too (session_kind says "class" for events,
    # as v1 of these contracts cannot widen it). Absent from older producers.
    session_type: Literal["class", "event", "appointment"] | None = None
    title: str
    starts_at: datetime
    ends_at: datetime
    location_id: uuid.UUID | None = None
    timezone: str = "UTC"
    seats: int = 1
    payment: BookingPayment
    # The location's name as customers know it (for messages: "Yoga at Mitte"). Absent
    # from older producers.
    location_name: str | None = None
    # Optional addition: the service this session or appointment is (a label that
    # membership plans list in ``included_services``). Billing prices a pay-per-session
    # booking of an included service at zero; without it, the title is matched.
    service: str | None = None
    # Optional additions (issue 14): the customer whose credits pay when a household's
    # payer books for a member (absent: the customer pays); the staff member who leads
    # the session (programs count sessions with a coach); the asset an appointment names.
    payer_customer_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None


class BookingRequested(BookingFacts):
    """Step 1 of the saga. ``guest`` is set when no customer id is known yet."""

    TYPE = "scheduling.booking.requested"

    guest: Contact | None = None


class BookingConfirmed(BookingFacts):
    TYPE = "scheduling.booking.confirmed"


class BookingRejected(BookingFacts):
    TYPE = "scheduling.booking.rejected"

    reason: str


class BookingCancelled(BookingFacts):
    TYPE = "scheduling.booking.cancelled"

    refund: bool
    late: bool = False
    cancelled_by: Literal["customer", "staff", "studio", "system"] = "staff"
    reason: str | None = None


class BookingRescheduled(BookingFacts):
    TYPE = "scheduling.booking.rescheduled"

    previous_starts_at: datetime


class BookingCustomerLinked(BookingFacts):
    """A guest booking now points at the customer that customers resolved."""

    TYPE = "scheduling.booking.customer_linked"


class BookingAttended(BookingFacts):
    TYPE = "scheduling.booking.attended"


class BookingNoShow(BookingFacts):
    TYPE = "scheduling.booking.no_show"


class BookingWaitlisted(BookingFacts):
    """The session was full: the booking waits for a seat (nothing is debited yet).
    ``position`` is its place in the queue when it joined (1 = next)."""

    TYPE = "scheduling.booking.waitlisted"

    position: int


class BookingPromoted(BookingFacts):
    """A seat freed and this waiting booking took it: it is requested now (its
    ``BookingRequested`` follows, so the saga debits it) and is confirmed or rejected
    as any other; the customer can be told a seat is theirs."""

    TYPE = "scheduling.booking.promoted"


class BookingWaitlistLeft(BookingFacts):
    """A waiting booking left the waitlist without a seat: the customer withdrew
    (``left``), the session was cancelled (``session_cancelled``) or started
    (``session_started``), or the customer was blocked. Nothing was ever debited."""

    TYPE = "scheduling.booking.waitlist_left"

    reason: str


class SessionCancelled(Event):
    """The studio cancelled a class or event; each booking gets its own cancellation."""

    TYPE = "scheduling.session.cancelled"

    session_id: uuid.UUID
    title: str
    starts_at: datetime
    reason: str | None = None
    booking_ids: list[uuid.UUID]


class SessionChanged(Event):
    """The studio edited a class or event (title, time, staff, room, capacity or price).

    ``changed`` names the edited fields. When the time moved, ``previous_starts_at``
    is set and every confirmed booking of it also gets its own ``BookingRescheduled``;
    ``booking_ids`` lists the session's active (pending or confirmed) bookings, so a
    notifier can tell attendees about a new room or trainer too.
    """

    TYPE = "scheduling.session.changed"

    session_id: uuid.UUID
    session_kind: Literal["class", "event"] = "class"
    title: str
    starts_at: datetime
    ends_at: datetime
    previous_starts_at: datetime | None = None
    previous_ends_at: datetime | None = None
    location_id: uuid.UUID
    timezone: str = "UTC"
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    capacity: int
    changed: list[str]
    booking_ids: list[uuid.UUID]


BookingStatus = Literal[
    "pending", "confirmed", "rejected", "cancelled", "attended", "no_show", "waitlisted"
]
