"""An appointment: one customer with one staff member (and maybe a room or bay).

``draft → confirmed → completed | cancelled | no_show`` (a draft may be cancelled too);
draft and confirmed appointments hold their staff member and room. Appointments travel
as bookings of kind ``appointment`` (the same facts as a class booking's events).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingFacts,
    BookingNoShow,
    BookingRescheduled,
)
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.base import Placed, illegal_move
from frontdesk.scheduling.domain.customers import CustomerStanding
from frontdesk.scheduling.domain.series import local_shift, shifted
from frontdesk.scheduling.domain.slots import Charge, Slot, booking_event
from frontdesk.scheduling.domain.staff import WorkingHours


class AppointmentStatus(StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


ACTIVE = frozenset({AppointmentStatus.draft, AppointmentStatus.confirmed})

MOVES: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.draft: frozenset({AppointmentStatus.confirmed, AppointmentStatus.cancelled}),
    AppointmentStatus.confirmed: frozenset(
        {AppointmentStatus.completed, AppointmentStatus.cancelled, AppointmentStatus.no_show}
    ),
    AppointmentStatus.completed: frozenset(),
    AppointmentStatus.cancelled: frozenset(),
    AppointmentStatus.no_show: frozenset(),
}

EVENT_FOR: dict[AppointmentStatus, type[BookingFacts]] = {
    AppointmentStatus.confirmed: BookingConfirmed,
    AppointmentStatus.cancelled: BookingCancelled,
    AppointmentStatus.completed: BookingAttended,
    AppointmentStatus.no_show: BookingNoShow,
}

# An edit of these takes the staff member and room again (occupancy).
RESERVING = frozenset({"starts_at", "ends_at", "staff_id", "room_id"})


@dataclasses.dataclass(kw_only=True, eq=False)
class Appointment(Placed):
    WHAT = "appointment"

    staff_id: uuid.UUID
    room_id: uuid.UUID | None = None
    customer_id: uuid.UUID
    title: str
    notes: str | None = None
    starts_at: datetime
    ends_at: datetime
    status: str = AppointmentStatus.draft.value
    price_minor: int = 0
    currency: str = "EUR"
    # The customer's asset it is for (a vehicle), from customers' ``asset.changed``.
    asset_id: uuid.UUID | None = None
    series_id: uuid.UUID | None = None
    recurrence_at: datetime | None = None
    # The asset's current label, read along (not a column of its own).
    asset_label: str | None = dataclasses.field(default=None, init=False)

    @classmethod
    def make(
        cls,
        *,
        id: uuid.UUID,
        tenant_id: uuid.UUID,
        location_id: uuid.UUID,
        staff_id: uuid.UUID,
        room_id: uuid.UUID | None,
        customer: CustomerStanding,
        title: str,
        notes: str | None,
        starts_at: datetime,
        duration: timedelta,
        status: str,
        price_minor: int,
        currency: str,
        zone: ZoneInfo,
        hours: WorkingHours,
        asset_id: uuid.UUID | None = None,
        series_id: uuid.UUID | None = None,
        recurrence_at: datetime | None = None,
    ) -> Appointment:
        """A draft or confirmed appointment (a confirmed one is announced as a confirmed
        booking); ``starts_at`` is local wall-clock time in ``zone``."""
        customer.ensure_may_book()
        if status not in ACTIVE:
            raise RuleBroken("status", "a new appointment is draft or confirmed")
        start, end = hours.period(starts_at, duration, zone)
        appointment = cls(
            id=id,
            tenant_id=tenant_id,
            location_id=location_id,
            staff_id=staff_id,
            room_id=room_id,
            customer_id=customer.customer_id,
            title=title,
            notes=notes,
            starts_at=start,
            ends_at=end,
            status=status,
            price_minor=price_minor,
            currency=currency,
            asset_id=asset_id,
            series_id=series_id,
            recurrence_at=(recurrence_at or start) if series_id else None,
        )
        appointment.timezone = zone.key
        if status == AppointmentStatus.confirmed:
            appointment._tell(BookingConfirmed)
        return appointment

    def next_occurrence(
        self,
        *,
        id: uuid.UUID,
        recurrence_at: datetime,
        customer: CustomerStanding,
        zone: ZoneInfo,
        hours: WorkingHours,
    ) -> Appointment:
        """The series' occurrence at ``recurrence_at`` (the rule's start), made like this
        one (its last), shifted off the rule as it is; confirmed unless the last is a
        draft."""
        assert self.recurrence_at is not None, "an occurrence of a series"
        shift = local_shift(self.recurrence_at, self.starts_at, zone)
        draft = AppointmentStatus.draft.value
        return Appointment.make(
            id=id,
            tenant_id=self.tenant_id,
            location_id=self.location_id,
            staff_id=self.staff_id,
            room_id=self.room_id,
            customer=customer,
            title=self.title,
            notes=self.notes,
            starts_at=shifted(recurrence_at, shift, zone),
            duration=self.ends_at - self.starts_at,
            status=draft if self.status == draft else AppointmentStatus.confirmed.value,
            price_minor=self.price_minor,
            currency=self.currency,
            zone=zone,
            hours=hours,
            asset_id=self.asset_id,
            series_id=self.series_id,
            recurrence_at=recurrence_at,
        )

    @property
    def holds(self) -> bool:
        """Draft and confirmed appointments hold their staff member and room."""
        return self.status in ACTIVE

    def slot(self) -> Slot:
        return Slot(
            id=self.id,
            type="appointment",
            title=self.title,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            location_id=self.location_id,
            timezone=self.timezone,
            location_name=self.location_name,
            staff_id=self.staff_id,
        )

    @property
    def charge(self) -> Charge:
        paid = self.price_minor > 0
        return Charge(
            method="pay_per_session" if paid else "free",
            price_minor=self.price_minor,
            currency=self.currency,
        )

    def _tell(self, event_class: type[BookingFacts], **extra: Any) -> None:
        self.record(
            booking_event(
                event_class,
                booking_id=self.id,
                customer_id=self.customer_id,
                slot=self.slot(),
                seats=1,
                charge=self.charge,
                asset_id=self.asset_id,
                **extra,
            )
        )

    def ensure_editable(self) -> None:
        if self.status not in ACTIVE:
            raise ConflictError(f"A {self.status} appointment cannot be edited.", field="status")

    def edit(self, changes: Mapping[str, Any], *, hours: WorkingHours) -> frozenset[str]:
        """Apply a PATCH (``starts_at`` local, ``duration_minutes``, ``staff_id``,
        ``room_id``, ``notes``); ``hours`` are those of the staff member after the edit.
        A confirmed appointment that moves is rescheduled. The columns that changed."""
        self.ensure_editable()
        values: dict[str, Any] = {k: changes[k] for k in ("notes", "room_id") if k in changes}
        values["staff_id"] = changes.get("staff_id") or self.staff_id
        starts_at = self.starts_at
        if changes.get("starts_at") is not None:
            starts_at = tz.to_utc(changes["starts_at"], self.zone)
        duration = self.ends_at - self.starts_at
        if changes.get("duration_minutes") is not None:
            duration = timedelta(minutes=changes["duration_minutes"])
        values["starts_at"], values["ends_at"] = starts_at, starts_at + duration
        values = {k: v for k, v in values.items() if getattr(self, k) != v}
        if {"starts_at", "ends_at", "staff_id"} & values.keys():
            hours.ensure_covers(starts_at, starts_at + duration, self.zone)
        if not values:
            return frozenset()
        previous_starts_at = self.starts_at
        self.change(**values)
        moved = "starts_at" in values or "ends_at" in values
        if moved and self.status == AppointmentStatus.confirmed:
            self._tell(BookingRescheduled, previous_starts_at=previous_starts_at)
        return frozenset(values)

    def may_move_to(self, target: str) -> bool:
        return AppointmentStatus(target) in MOVES[AppointmentStatus(self.status)]

    def move_to(self, target: str, *, now: datetime, reason: str | None = None) -> None:
        """Along draft → confirmed → completed / cancelled / no_show. Cancelling a
        confirmed one before its start refunds a priced one; after the start it is late.
        A cancelled draft was never announced, so nothing is told."""
        current, wanted = AppointmentStatus(self.status), AppointmentStatus(target)
        if wanted not in MOVES[current]:
            raise illegal_move("appointment", current, f"become {wanted}")
        self.change(status=wanted.value)
        extra: dict[str, Any] = {}
        if wanted == AppointmentStatus.cancelled:
            late = now > self.starts_at
            extra = {
                "refund": self.price_minor > 0 and not late,
                "late": late,
                "cancelled_by": "staff",
                "reason": reason,
            }
        if wanted != AppointmentStatus.cancelled or current == AppointmentStatus.confirmed:
            self._tell(EVENT_FOR[wanted], **extra)
