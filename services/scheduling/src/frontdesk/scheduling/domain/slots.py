"""What a booking is for, and the facts every booking event carries.

A booking is of a session (a class or an event) or is an appointment; either way its
events (requested, confirmed, rejected, cancelled, rescheduled, linked, attended, no
show, waitlisted, promoted, waitlist left) carry the same facts, built here and nowhere
else: who pays (a household's payer), who leads it, which asset it is for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from frontdesk.contracts.scheduling import BookingFacts, BookingPayment, PaymentMethod

SlotType = Literal["class", "event", "appointment"]


@dataclass(frozen=True)
class Slot:
    """The session or appointment a booking holds a place in, as its events tell it."""

    id: uuid.UUID
    type: SlotType
    title: str
    starts_at: datetime
    ends_at: datetime
    location_id: uuid.UUID
    timezone: str
    location_name: str | None = None
    # The staff member leading it (credits' programs count sessions with a coach).
    staff_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Charge:
    """What one booking costs: ``credits`` in credits, or a price (pay per session), or
    nothing (free, or a reminder only)."""

    method: PaymentMethod
    credits: int = 0
    price_minor: int = 0
    currency: str = "EUR"


F = TypeVar("F", bound=BookingFacts)


def booking_event(
    event_class: type[F],
    *,
    booking_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    slot: Slot,
    seats: int,
    charge: Charge,
    payer_customer_id: uuid.UUID | None = None,
    asset_id: uuid.UUID | None = None,
    **extra: Any,
) -> F:
    """A booking event with the facts of the contract. ``session_kind`` says "class" for
    events too (v1 of the contract cannot widen it); ``session_type`` says what it is."""
    return event_class(
        booking_id=booking_id,
        customer_id=customer_id,
        session_id=slot.id,
        session_kind="appointment" if slot.type == "appointment" else "class",
        session_type=slot.type,
        title=slot.title,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        location_id=slot.location_id,
        timezone=slot.timezone,
        location_name=slot.location_name,
        # No service catalogue here yet: billing matches a membership's included services
        # on the title meanwhile.
        service=None,
        staff_id=slot.staff_id,
        payer_customer_id=payer_customer_id,
        asset_id=asset_id,
        seats=seats,
        payment=BookingPayment(
            method=charge.method,
            credits=charge.credits,
            price_minor=charge.price_minor,
            currency=charge.currency,
        ),
        **extra,
    )
