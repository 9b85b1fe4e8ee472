"""Request and response bodies (never ORM rows on the wire)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from frontdesk.kit.money import CurrencyCode
from frontdesk.scheduling.domain.staff import WorkingSlot


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _pick(cls: type[BaseModel], row: Any, **extra: Any) -> dict[str, Any]:
    return {**{k: row[k] for k in cls.model_fields if k not in extra}, **extra}


# locations, rooms, staff ----------------------------------------------------------------
class LocationCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    address: str | None = Field(default=None, max_length=500)


class LocationOut(BaseModel):
    id: uuid.UUID
    name: str
    timezone: str
    address: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> LocationOut:
        return cls(**_pick(cls, row))


class RoomCreate(_In):
    location_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["room", "bay"] = "room"
    capacity: int | None = Field(default=None, ge=1, le=100_000)


class RoomOut(BaseModel):
    id: uuid.UUID
    location_id: uuid.UUID
    name: str
    kind: str
    capacity: int | None

    @classmethod
    def of(cls, row: Any) -> RoomOut:
        return cls(**_pick(cls, row))


class StaffCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: str = Field(default="trainer", min_length=1, max_length=50)
    location_id: uuid.UUID | None = None
    working_hours: list[WorkingSlot] = Field(default_factory=list, max_length=100)


class StaffPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: str | None = Field(default=None, min_length=1, max_length=50)
    location_id: uuid.UUID | None = None
    working_hours: list[WorkingSlot] | None = Field(default=None, max_length=100)


class StaffOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    role: str
    location_id: uuid.UUID | None
    working_hours: list[WorkingSlot]

    @classmethod
    def of(cls, row: Any) -> StaffOut:
        return cls(**_pick(cls, row))


# sessions -------------------------------------------------------------------------------
class Payment(_In):
    """How a seat is paid: ``credits`` (n credits a seat), ``pay_per_session`` (a price,
    invoiced by billing) or ``free``."""

    method: Literal["credits", "pay_per_session", "free"]
    credits: int = Field(default=0, ge=0, le=1000)
    price_minor: int = Field(default=0, ge=0, le=100_000_000)
    currency: CurrencyCode = "EUR"

    @model_validator(mode="after")
    def _consistent(self) -> Payment:
        if self.method == "credits" and self.credits < 1:
            raise ValueError("credits: a class paid by credits costs at least 1 credit")
        if self.method == "pay_per_session" and self.price_minor < 1:
            raise ValueError("price_minor: a pay-per-session class needs a price")
        if self.method != "credits" and self.credits:
            raise ValueError("credits: only a class paid by credits costs credits")
        if self.method != "pay_per_session" and self.price_minor:
            raise ValueError("price_minor: only a pay-per-session class has a price")
        return self


class SessionCreate(_In):
    kind: Literal["class", "event"] = "class"
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    location_id: uuid.UUID
    room_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    starts_at: datetime = Field(
        description="Local wall-clock time at the location (e.g. 2025-03-31T18:00); "
        "an explicit offset is also accepted."
    )
    duration_minutes: int = Field(ge=1, le=24 * 60 * 14)
    capacity: int = Field(ge=0, le=100_000)
    payment: Payment


class SessionPatch(_In):
    """Only the fields sent change. ``description``, ``staff_id`` and ``room_id`` may be
    null; the others may not. A new ``payment`` applies to later bookings only."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    starts_at: datetime | None = Field(
        default=None,
        description="Local wall-clock time at the location, as on create; the duration "
        "is kept unless duration_minutes is given too.",
    )
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60 * 14)
    capacity: int | None = Field(
        default=None, ge=0, le=100_000, description="Never below the seats already taken."
    )
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    payment: Payment | None = None


class SessionCancel(_In):
    reason: str | None = Field(default=None, max_length=500)


class SessionOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    description: str | None = None
    location_id: uuid.UUID
    room_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    local_starts_at: datetime
    local_ends_at: datetime
    capacity: int
    seats_taken: int
    seats_free: int
    payment: Payment
    status: str
    cancel_reason: str | None
    version: int


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


# bookings -------------------------------------------------------------------------------
class Guest(_In):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class BookingCreate(_In):
    session_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(
        default=None, description="The customer; leave out for a guest (then give guest)."
    )
    guest: Guest | None = None
    seats: int = Field(
        default=1, ge=0, le=100, description="0 books a reminder only and takes no seat."
    )
    notes: str | None = Field(default=None, max_length=2000)


class BookingCancel(_In):
    reason: str | None = Field(default=None, max_length=500)


class BookingReschedule(_In):
    session_id: uuid.UUID


class BookingOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    customer_id: uuid.UUID | None
    guest: Guest | None
    seats: int
    reminder_only: bool
    notes: str | None
    status: str
    payment: Payment
    reason: str | None
    refund: bool | None
    late: bool | None
    checked_in_at: datetime | None
    version: int
    created_at: datetime
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @classmethod
    def of(cls, row: Any, session: Any = None) -> BookingOut:
        guest = None
        if row["guest_email"] and row["guest_first_name"]:
            guest = Guest(
                first_name=row["guest_first_name"],
                last_name=row["guest_last_name"] or "-",
                email=row["guest_email"],
                phone=row["guest_phone"],
            )
        source = session if session is not None else row
        extra = {k: source[k] for k in ("title", "starts_at", "ends_at") if k in source}
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            customer_id=row["customer_id"],
            guest=guest,
            seats=row["seats"],
            reminder_only=row["seats"] == 0,
            notes=row["notes"],
            status=row["status"],
            payment=Payment.model_construct(
                method=row["payment_method"],
                credits=row["credits"],
                price_minor=row["price_minor"],
                currency=row["currency"],
            ),
            reason=row["reason"],
            refund=row["refund"],
            late=row["late"],
            checked_in_at=row["checked_in_at"],
            version=row["version"],
            created_at=row["created_at"],
            **extra,
        )


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


class PolicyIn(_In):
    free_cancel_hours: int = Field(ge=0, le=24 * 60)


class PolicyOut(BaseModel):
    free_cancel_hours: int
    source: Literal["tenant", "default"]


# appointments ---------------------------------------------------------------------------
class AppointmentCreate(_In):
    location_id: uuid.UUID
    staff_id: uuid.UUID
    room_id: uuid.UUID | None = None
    customer_id: uuid.UUID
    title: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    starts_at: datetime = Field(description="Local wall-clock time at the location.")
    duration_minutes: int = Field(ge=1, le=24 * 60)
    status: Literal["draft", "confirmed"] = "draft"
    price_minor: int = Field(default=0, ge=0, le=100_000_000)
    currency: CurrencyCode = "EUR"


class AppointmentPatch(_In):
    """Only the fields sent change (draft or confirmed appointments). ``room_id`` and
    ``notes`` may be null."""

    starts_at: datetime | None = Field(
        default=None,
        description="Local wall-clock time at the location; the duration is kept unless "
        "duration_minutes is given too.",
    )
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=2000)


class AppointmentTransition(_In):
    status: Literal["confirmed", "completed", "cancelled", "no_show"]
    reason: str | None = Field(default=None, max_length=500)


class AppointmentOut(BaseModel):
    id: uuid.UUID
    location_id: uuid.UUID
    staff_id: uuid.UUID
    room_id: uuid.UUID | None
    customer_id: uuid.UUID
    title: str
    notes: str | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    local_starts_at: datetime
    status: str
    price_minor: int
    currency: str
    version: int


class AppointmentPage(BaseModel):
    items: list[AppointmentOut]
    next_cursor: str | None


# calendar -------------------------------------------------------------------------------
class CalendarEntry(BaseModel):
    kind: Literal["class", "event", "appointment"]
    id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    local_starts_at: datetime
    local_ends_at: datetime
    local_start: str = Field(description="HH:MM at the location")
    local_end: str
    location_id: uuid.UUID
    staff_id: uuid.UUID | None
    room_id: uuid.UUID | None
    status: str
    capacity: int | None = None
    seats_taken: int | None = None
    customer_id: uuid.UUID | None = None


class CalendarDay(BaseModel):
    date: date
    location_id: uuid.UUID
    timezone: str
    staff_id: uuid.UUID | None
    room_id: uuid.UUID | None
    entries: list[CalendarEntry]
    next_cursor: str | None = Field(
        description="More entries of this day follow: ask again with cursor=<this>; "
        "null when the day is complete."
    )


class CalendarFeedCreate(_In):
    """Staff: one of location_id, staff_id, room_id (like /v1/calendar.ics). A customer
    token gives none of them: its feed holds the customer's own bookings and
    appointments."""

    name: str | None = Field(default=None, max_length=200)
    location_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None


class CalendarFeedOut(BaseModel):
    id: uuid.UUID
    name: str | None
    location_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    room_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> CalendarFeedOut:
        return cls(**_pick(cls, row))


class CalendarFeedCreated(CalendarFeedOut):
    url: str = Field(
        description="The secret feed URL (path). Shown only now: only a hash is kept. "
        "Anyone with it can read the calendar until the feed is deleted."
    )
