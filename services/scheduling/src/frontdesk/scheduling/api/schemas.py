"""Request and response bodies (never ORM rows on the wire).

Every request field uses the kit's input types: text without control characters, NUL,
bidi overrides or zero-width characters (``Line``, ``Multiline``, ``Name``), bounded
date-times that are never epoch numbers, strict integers, canonical IANA zones.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.problems import FieldError, InvalidInput
from frontdesk.kit.types import (
    BoundedDatetime,
    Count,
    Line,
    MinorUnits,
    Multiline,
    Name,
    PositiveCount,
    StrictBool,
    TimeZoneName,
)
from frontdesk.scheduling.application.appointments import NewAppointment
from frontdesk.scheduling.application.bookings import BookingRequest, BookingView, GuestDetails
from frontdesk.scheduling.application.calendar import Entry
from frontdesk.scheduling.application.series import SeriesView
from frontdesk.scheduling.application.sessions import NewSession
from frontdesk.scheduling.domain import sessions as domain_sessions
from frontdesk.scheduling.domain.appointments import Appointment
from frontdesk.scheduling.domain.sessions import Session
from frontdesk.scheduling.domain.staff import WorkingHours, WorkingSlot, wall_clock


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _pick(cls: type[BaseModel], source: Any, **extra: Any) -> dict[str, Any]:
    """``cls``'s fields from a row (a mapping) or an object, ``extra`` overriding."""
    if isinstance(source, Mapping):
        values = {k: source[k] for k in cls.model_fields if k not in extra}
    else:
        values = {k: getattr(source, k) for k in cls.model_fields if k not in extra}
    return {**values, **extra}


# locations, rooms, staff ----------------------------------------------------------------
class LocationCreate(_In):
    name: Annotated[Name, Field(max_length=200)]
    timezone: TimeZoneName
    address: Annotated[Multiline, Field(max_length=500)] | None = None


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
    name: Annotated[Name, Field(max_length=200)]
    kind: Literal["room", "bay"] = "room"
    capacity: Annotated[PositiveCount, Field(le=100_000)] | None = None


class RoomOut(BaseModel):
    id: uuid.UUID
    location_id: uuid.UUID
    name: str
    kind: str
    capacity: int | None

    @classmethod
    def of(cls, row: Any) -> RoomOut:
        return cls(**_pick(cls, row))


WallClock = Annotated[time, AfterValidator(wall_clock)]


class WorkingSlotIn(_In):
    """One working period on a weekday, in local wall-clock time at the location (no UTC
    offset), e.g. ``{"weekday": "mon", "start": "09:00", "end": "17:00"}``."""

    weekday: str = Field(pattern="^(mon|tue|wed|thu|fri|sat|sun)$")
    start: WallClock
    end: WallClock

    @model_validator(mode="after")
    def _slot(self) -> WorkingSlotIn:
        self.slot()  # end after start
        return self

    def slot(self) -> WorkingSlot:
        return WorkingSlot(weekday=self.weekday, start=self.start, end=self.end)


def working_hours(slots: list[WorkingSlotIn]) -> WorkingHours:
    return WorkingHours.of(s.slot() for s in slots)


class StaffCreate(_In):
    name: Annotated[Name, Field(max_length=200)]
    email: Annotated[Line, Field(max_length=320)] | None = None
    role: Annotated[Name, Field(max_length=50)] = "trainer"
    location_id: uuid.UUID | None = None
    working_hours: list[WorkingSlotIn] = Field(default_factory=list, max_length=100)


class StaffPatch(_In):
    name: Annotated[Name, Field(max_length=200)] | None = None
    email: Annotated[Line, Field(max_length=320)] | None = None
    role: Annotated[Name, Field(max_length=50)] | None = None
    location_id: uuid.UUID | None = None
    working_hours: list[WorkingSlotIn] | None = Field(default=None, max_length=100)


class WorkingSlotOut(BaseModel):
    weekday: str
    start: time
    end: time


class StaffOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    role: str
    location_id: uuid.UUID | None
    working_hours: list[WorkingSlotOut]

    @classmethod
    def of(cls, row: Any) -> StaffOut:
        hours = WorkingHours.from_json(row["working_hours"])
        slots = [WorkingSlotOut(weekday=s.weekday, start=s.start, end=s.end) for s in hours.slots]
        return cls(**_pick(cls, row, working_hours=slots))


# sessions -------------------------------------------------------------------------------
class Payment(_In):
    """How a seat is paid: ``credits`` (n credits a seat), ``pay_per_session`` (a price,
    invoiced by billing) or ``free``."""

    method: Literal["credits", "pay_per_session", "free"]
    credits: Annotated[Count, Field(le=1000)] = 0
    price_minor: Annotated[MinorUnits, Field(le=100_000_000)] = 0
    currency: CurrencyCode = "EUR"

    @model_validator(mode="after")
    def _consistent(self) -> Payment:
        try:
            self.domain()
        except RuleBroken as error:
            raise ValueError(f"{error.field}: {error.message}") from None
        return self

    def domain(self) -> domain_sessions.Payment:
        return domain_sessions.Payment(
            method=self.method,
            credits=self.credits,
            price_minor=self.price_minor,
            currency=self.currency,
        )


class PaymentOut(BaseModel):
    method: str
    credits: int
    price_minor: int
    currency: str


class SessionCreate(_In):
    kind: Literal["class", "event"] = "class"
    title: Annotated[Name, Field(max_length=200)]
    description: Annotated[Multiline, Field(max_length=5000)] | None = None
    location_id: uuid.UUID
    room_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    starts_at: BoundedDatetime = Field(
        description="Local wall-clock time at the location (e.g. 2025-03-31T18:00); "
        "an explicit offset is also accepted."
    )
    duration_minutes: Annotated[PositiveCount, Field(le=24 * 60 * 14)]
    capacity: Annotated[PositiveCount, Field(le=100_000)]
    payment: Payment

    def new(self) -> NewSession:
        values = {k: v for k, v in dict(self).items() if k != "rrule"}
        return NewSession(**{**values, "payment": self.payment.domain()})


class SessionPatch(_In):
    """Only the fields sent change. ``description``, ``staff_id`` and ``room_id`` may be
    null; the others may not. A new ``payment`` applies to later bookings only."""

    title: Annotated[Name, Field(max_length=200)] | None = None
    description: Annotated[Multiline, Field(max_length=5000)] | None = None
    starts_at: BoundedDatetime | None = Field(
        default=None,
        description="Local wall-clock time at the location, as on create; the duration "
        "is kept unless duration_minutes is given too.",
    )
    duration_minutes: Annotated[PositiveCount, Field(le=24 * 60 * 14)] | None = None
    capacity: Annotated[PositiveCount, Field(le=100_000)] | None = Field(
        default=None, description="Never below the seats already taken."
    )
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    payment: Payment | None = None


class SessionCancel(_In):
    reason: Annotated[Line, Field(max_length=500)] | None = None


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
    payment: PaymentOut
    status: str
    cancel_reason: str | None
    version: int
    series_id: uuid.UUID | None = Field(
        default=None, description="The recurring series this session is an occurrence of."
    )
    recurrence_at: datetime | None = Field(
        default=None, description="The start the series' rule gave this occurrence."
    )

    @classmethod
    def of(cls, session: Session) -> SessionOut:
        zone = session.zone
        return cls(
            **_pick(
                cls,
                session,
                timezone=zone.key,
                local_starts_at=session.starts_at.astimezone(zone),
                local_ends_at=session.ends_at.astimezone(zone),
                payment=PaymentOut(
                    method=session.payment_method,
                    credits=session.credits,
                    price_minor=session.price_minor,
                    currency=session.currency,
                ),
            )
        )


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


RRULE_FIELD = Field(
    max_length=500,
    description="An RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=12 (at most 366 "
    "occurrences; UNTIL in UTC) or, open-ended, FREQ=WEEKLY;BYDAY=TU (made about half a "
    "year ahead and grown as time passes). It runs on the location's wall clock from "
    "starts_at: every occurrence keeps that local time across DST.",
)


class SessionSeriesCreate(SessionCreate):
    """A recurring class or event: ``starts_at`` is the first occurrence (local time)."""

    rrule: Annotated[Line, RRULE_FIELD]


# bookings -------------------------------------------------------------------------------
class Guest(_In):
    first_name: Annotated[Name, Field(max_length=100)]
    last_name: Annotated[Name, Field(max_length=100)]
    email: Annotated[Line, Field(min_length=3, max_length=320)]
    phone: Annotated[Line, Field(max_length=40)] | None = None


class GuestOut(BaseModel):
    first_name: str
    last_name: str
    email: str
    phone: str | None


class BookingCreate(_In):
    session_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(
        default=None, description="The customer; leave out for a guest (then give guest)."
    )
    guest: Guest | None = None
    seats: Annotated[Count, Field(le=100)] = Field(
        default=1, description="0 books a reminder only and takes no seat."
    )
    notes: Annotated[Multiline, Field(max_length=2000)] | None = None
    payer_customer_id: uuid.UUID | None = Field(
        default=None,
        description="Staff: a household's payer whose credits pay for this customer's "
        "booking (must be linked as its payer). A customer token booking for a member "
        "of its household is the payer.",
    )
    waitlist: StrictBool = Field(
        default=False,
        description="When the session has too few free seats, join its waitlist (202, "
        "status waitlisted, waitlist_position) instead of 409.",
    )

    def request(self) -> BookingRequest:
        """Who books: a customer or a guest (name and email), never both or neither."""
        if (self.customer_id is None) == (self.guest is None):
            raise InvalidInput(
                "Give either customer_id or guest (name and email).",
                errors=[
                    FieldError(field="customer_id", message="customer_id or guest"),
                    FieldError(field="guest", message="customer_id or guest"),
                ],
            )
        return BookingRequest(
            session_id=self.session_id,
            customer_id=self.customer_id,
            guest=GuestDetails(**self.guest.model_dump()) if self.guest else None,
            seats=self.seats,
            notes=self.notes,
            payer_customer_id=self.payer_customer_id,
            waitlist=self.waitlist,
        )


class BookingCancel(_In):
    reason: Annotated[Line, Field(max_length=500)] | None = None


class BookingReschedule(_In):
    session_id: uuid.UUID


class BookingOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    customer_id: uuid.UUID | None
    guest: GuestOut | None
    seats: int
    reminder_only: bool
    notes: str | None
    status: str
    payment: PaymentOut
    reason: str | None
    refund: bool | None
    late: bool | None
    checked_in_at: datetime | None
    version: int
    created_at: datetime
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    payer_customer_id: uuid.UUID | None = None
    waitlist_position: int | None = Field(
        default=None,
        description="Place on the session's waitlist (1 = next); null unless waitlisted.",
    )

    @classmethod
    def of(cls, view: BookingView) -> BookingOut:
        booking, guest = view.booking, view.booking.guest
        return cls(
            **_pick(
                cls,
                booking,
                guest=None if guest is None else GuestOut(**_pick(GuestOut, guest)),
                payment=PaymentOut(**_pick(PaymentOut, booking.charge)),
                title=view.title,
                starts_at=view.starts_at,
                ends_at=view.ends_at,
                waitlist_position=view.waitlist_position,
            )
        )


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


class PolicyIn(_In):
    free_cancel_hours: Annotated[Count, Field(le=24 * 60)]


class PolicyOut(BaseModel):
    free_cancel_hours: int
    source: Literal["tenant", "default"]


# appointments ---------------------------------------------------------------------------
class AppointmentCreate(_In):
    location_id: uuid.UUID
    staff_id: uuid.UUID
    room_id: uuid.UUID | None = None
    customer_id: uuid.UUID
    title: Annotated[Name, Field(max_length=200)]
    notes: Annotated[Multiline, Field(max_length=2000)] | None = None
    starts_at: BoundedDatetime = Field(description="Local wall-clock time at the location.")
    duration_minutes: Annotated[PositiveCount, Field(le=24 * 60)]
    status: Literal["draft", "confirmed"] = "draft"
    price_minor: Annotated[MinorUnits, Field(le=100_000_000)] = 0
    currency: CurrencyCode = "EUR"
    asset_id: uuid.UUID | None = Field(
        default=None, description="One of the customer's assets (e.g. the vehicle)."
    )

    def new(self) -> NewAppointment:
        return NewAppointment(**{k: v for k, v in dict(self).items() if k != "rrule"})


class AppointmentSeriesCreate(AppointmentCreate):
    """Recurring appointments: ``starts_at`` is the first occurrence (local time)."""

    rrule: Annotated[Line, RRULE_FIELD]


class AppointmentPatch(_In):
    """Only the fields sent change (draft or confirmed appointments). ``room_id`` and
    ``notes`` may be null."""

    starts_at: BoundedDatetime | None = Field(
        default=None,
        description="Local wall-clock time at the location; the duration is kept unless "
        "duration_minutes is given too.",
    )
    duration_minutes: Annotated[PositiveCount, Field(le=24 * 60)] | None = None
    staff_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    notes: Annotated[Multiline, Field(max_length=2000)] | None = None


class AppointmentTransition(_In):
    status: Literal["confirmed", "completed", "cancelled", "no_show"]
    reason: Annotated[Line, Field(max_length=500)] | None = None


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
    asset_id: uuid.UUID | None = None
    asset_label: str | None = Field(
        default=None, description="The asset's label as the customer's record has it."
    )
    series_id: uuid.UUID | None = None
    recurrence_at: datetime | None = None

    @classmethod
    def of(cls, appointment: Appointment) -> AppointmentOut:
        zone = appointment.zone
        return cls(
            **_pick(
                cls,
                appointment,
                timezone=zone.key,
                local_starts_at=appointment.starts_at.astimezone(zone),
            )
        )


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

    @classmethod
    def of(cls, entry: Entry) -> CalendarEntry:
        start, end = entry.starts_at.astimezone(entry.zone), entry.ends_at.astimezone(entry.zone)
        return cls(
            **_pick(
                cls,
                entry,
                local_starts_at=start,
                local_ends_at=end,
                local_start=f"{start:%H:%M}",
                local_end=f"{end:%H:%M}",
            )
        )


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

    name: Annotated[Line, Field(max_length=200)] | None = None
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


# series ---------------------------------------------------------------------------------
class SeriesOut(BaseModel):
    id: uuid.UUID
    kind: Literal["session", "appointment"]
    rrule: str
    timezone: str
    first_starts_at: datetime
    occurrences: int
    open_ended: bool = Field(
        description="No COUNT or UNTIL: occurrences exist about half a year ahead and more "
        "are made as time passes, until this and all following are cancelled."
    )
    made_until: datetime | None = Field(
        description="An open-ended series' occurrences exist up to here (UTC)."
    )
    ended_from: datetime | None = Field(
        description="An open-ended series stopped growing: this and all following were "
        "cancelled from this occurrence (the rule's start)."
    )
    sessions: list[SessionOut] = Field(default_factory=list)
    appointments: list[AppointmentOut] = Field(default_factory=list)

    @classmethod
    def of(cls, view: SeriesView) -> SeriesOut:
        return cls(
            **_pick(
                cls,
                view.series,
                sessions=[SessionOut.of(s) for s in view.sessions],
                appointments=[AppointmentOut.of(a) for a in view.appointments],
            )
        )
