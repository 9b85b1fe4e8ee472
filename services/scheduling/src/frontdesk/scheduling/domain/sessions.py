"""A session: a class or an event with a capacity, at a location, maybe with a trainer
and a room. Its seats are taken and freed by bookings (never beyond the capacity); the
studio edits it until it starts (``SessionChanged``) or cancels it (``SessionCancelled``).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from frontdesk.contracts.scheduling import PaymentMethod, SessionCancelled, SessionChanged
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.base import Placed
from frontdesk.scheduling.domain.series import local_shift, shifted
from frontdesk.scheduling.domain.slots import Slot
from frontdesk.scheduling.domain.staff import WorkingHours

SessionKind = Literal["class", "event"]


@dataclasses.dataclass(frozen=True)
class Payment:
    """How a seat is paid: ``credits`` (n credits a seat), ``pay_per_session`` (a price,
    invoiced by billing) or ``free``."""

    method: PaymentMethod
    credits: int = 0
    price_minor: int = 0
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.method == "credits" and self.credits < 1:
            raise RuleBroken("credits", "a class paid by credits costs at least 1 credit")
        if self.method == "pay_per_session" and self.price_minor < 1:
            raise RuleBroken("price_minor", "a pay-per-session class needs a price")
        if self.method != "credits" and self.credits:
            raise RuleBroken("credits", "only a class paid by credits costs credits")
        if self.method != "pay_per_session" and self.price_minor:
            raise RuleBroken("price_minor", "only a pay-per-session class has a price")

    def columns(self) -> dict[str, Any]:
        return {
            "payment_method": self.method,
            "credits": self.credits,
            "price_minor": self.price_minor,
            "currency": self.currency,
        }


def ensure_capacity(capacity: int) -> None:
    if capacity < 1:
        raise RuleBroken("capacity", "a class or event needs at least one seat")


# Columns shown as one field: a new payment is one change.
_FIELD_OF = {
    column: "payment" for column in ("payment_method", "credits", "price_minor", "currency")
}
# An edit of these takes the trainer and room again (occupancy); other edits leave it.
RESERVING = frozenset({"starts_at", "ends_at", "staff_id", "room_id"})
# An edit of these needs the (new) trainer's working hours to hold the (new) time.
WORKING_HOURS = frozenset({"staff_id", "starts_at", "duration_minutes"})


@dataclasses.dataclass(frozen=True)
class SessionEdit:
    """What an edit changed (field names as the API shows them) and where it was before."""

    changed: list[str]
    columns: frozenset[str]
    previous_starts_at: datetime
    previous_ends_at: datetime

    @property
    def moved(self) -> bool:
        return bool({"starts_at", "ends_at"} & self.columns)

    @property
    def reserving(self) -> bool:
        return bool(RESERVING & self.columns)


@dataclasses.dataclass(kw_only=True, eq=False)
class Session(Placed):
    WHAT = "session"

    kind: str = "class"
    title: str
    description: str | None = None
    room_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int = 0
    payment_method: str
    credits: int = 0
    price_minor: int = 0
    currency: str = "EUR"
    status: str = "scheduled"
    cancel_reason: str | None = None
    # An occurrence of a recurring series: the series and the start its rule gave it.
    series_id: uuid.UUID | None = None
    recurrence_at: datetime | None = None
    # The seat counter is not part of the version (a booking does not change the session's
    # ETag): it is saved on its own when it moved.
    _seats_saved: int = dataclasses.field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._seats_saved = self.seats_taken

    @classmethod
    def schedule(
        cls,
        *,
        id: uuid.UUID,
        tenant_id: uuid.UUID,
        kind: SessionKind,
        title: str,
        description: str | None,
        location_id: uuid.UUID,
        room_id: uuid.UUID | None,
        staff_id: uuid.UUID | None,
        starts_at: datetime,
        duration: timedelta,
        capacity: int,
        payment: Payment,
        zone: ZoneInfo,
        hours: WorkingHours,
        series_id: uuid.UUID | None = None,
        recurrence_at: datetime | None = None,
    ) -> Session:
        """A new session; ``starts_at`` is local wall-clock time in ``zone`` (or carries
        its offset), and lies within the trainer's ``hours``."""
        ensure_capacity(capacity)
        start, end = hours.period(starts_at, duration, zone)
        session = cls(
            id=id,
            tenant_id=tenant_id,
            kind=kind,
            title=title,
            description=description,
            location_id=location_id,
            room_id=room_id,
            staff_id=staff_id,
            starts_at=start,
            ends_at=end,
            capacity=capacity,
            series_id=series_id,
            recurrence_at=(recurrence_at or start) if series_id else None,
            **payment.columns(),
        )
        session.timezone = zone.key
        return session

    def next_occurrence(
        self, *, id: uuid.UUID, recurrence_at: datetime, zone: ZoneInfo, hours: WorkingHours
    ) -> Session:
        """The series' occurrence at ``recurrence_at`` (the rule's start), made like this
        one (its last): its title, trainer, room, seats and payment, and its shift off the
        rule on the wall clock (moved 18:00 to 19:00, later ones are at 19:00 too)."""
        assert self.recurrence_at is not None, "an occurrence of a series"
        shift = local_shift(self.recurrence_at, self.starts_at, zone)
        return Session.schedule(
            id=id,
            tenant_id=self.tenant_id,
            kind=cast(SessionKind, self.kind),
            title=self.title,
            description=self.description,
            location_id=self.location_id,
            room_id=self.room_id,
            staff_id=self.staff_id,
            starts_at=shifted(recurrence_at, shift, zone),
            duration=self.ends_at - self.starts_at,
            capacity=self.capacity,
            payment=self.payment,
            zone=zone,
            hours=hours,
            series_id=self.series_id,
            recurrence_at=recurrence_at,
        )

    @property
    def payment(self) -> Payment:
        method = cast(PaymentMethod, self.payment_method)
        return Payment(method, self.credits, self.price_minor, self.currency)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def seats_free(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    def slot(self) -> Slot:
        return Slot(
            id=self.id,
            type="event" if self.kind == "event" else "class",
            title=self.title,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            location_id=self.location_id,
            timezone=self.timezone,
            location_name=self.location_name,
            staff_id=self.staff_id,
        )

    # seats ---------------------------------------------------------------------------
    def bookable(self, now: datetime) -> bool:
        return not self.cancelled and self.starts_at > now

    def ensure_bookable(self, now: datetime) -> None:
        if self.cancelled:
            raise ConflictError("The session is cancelled.", field="session_id")
        if self.starts_at <= now:
            raise ConflictError("The session has already started.", field="session_id")

    def take_seats(self, seats: int, *, when_full: str | None = None) -> None:
        """The capacity is never exceeded: 409 ``Session full`` naming ``seats``."""
        if seats <= 0:
            return
        left = self.capacity - self.seats_taken
        if seats > left:
            raise ConflictError(
                when_full or f"Not enough free seats ({left} left).",
                field="seats",
                title="Session full",
            )
        self.seats_taken += seats

    def free_seats(self, seats: int) -> None:
        self.seats_taken -= seats

    @property
    def seats_moved(self) -> bool:
        return self.seats_taken != self._seats_saved

    @property
    def seats_delta(self) -> int:
        """The seats taken (positive) or freed (negative) since the counter was saved."""
        return self.seats_taken - self._seats_saved

    def seats_saved(self, taken: int | None = None) -> None:
        """Saved; ``taken``: the counter as saved, others' seats included."""
        if taken is not None:
            self.seats_taken = taken
        self._seats_saved = self.seats_taken

    # the studio's edits --------------------------------------------------------------
    def ensure_editable(self, now: datetime) -> None:
        if self.cancelled:
            raise ConflictError("A cancelled session cannot be edited.", field="status")
        if self.starts_at <= now:
            raise ConflictError(
                "The session has already started; it cannot be edited.", field="starts_at"
            )

    def edit(
        self, changes: Mapping[str, Any], *, hours: WorkingHours, now: datetime
    ) -> SessionEdit | None:
        """Apply the fields a PATCH sends (``title``, ``description``, ``starts_at`` as
        local time, ``duration_minutes``, ``capacity``, ``staff_id``, ``room_id``,
        ``payment``); ``hours`` are those of the trainer after the edit. None when
        nothing changes. A new payment applies to later bookings only."""
        self.ensure_editable(now)
        values: dict[str, Any] = {
            k: changes[k] for k in ("title", "description", "staff_id", "room_id") if k in changes
        }
        starts_at = self.starts_at
        if changes.get("starts_at") is not None:
            starts_at = tz.to_utc(changes["starts_at"], self.zone)
            if starts_at <= now:
                raise RuleBroken("starts_at", "must be in the future")
        duration = self.ends_at - self.starts_at
        if changes.get("duration_minutes") is not None:
            duration = timedelta(minutes=changes["duration_minutes"])
        values["starts_at"], values["ends_at"] = starts_at, starts_at + duration
        if WORKING_HOURS & changes.keys():
            hours.ensure_covers(values["starts_at"], values["ends_at"], self.zone)
        capacity = changes.get("capacity")
        if capacity is not None:
            ensure_capacity(capacity)
            if capacity < self.seats_taken:
                raise ConflictError(
                    f"{self.seats_taken} seats are taken; the capacity cannot go below that.",
                    field="capacity",
                )
            values["capacity"] = capacity
        payment = changes.get("payment")
        if payment is not None:
            values.update(payment.columns())
        values = {k: v for k, v in values.items() if getattr(self, k) != v}
        if not values:
            return None
        before = (self.starts_at, self.ends_at)
        changed = {_FIELD_OF.get(k, k) for k in values} - {"ends_at"}
        duration_now = values.get("ends_at", self.ends_at) - values.get("starts_at", self.starts_at)
        if duration_now != before[1] - before[0]:
            changed.add("duration_minutes")
        self.change(**values)
        return SessionEdit(
            changed=sorted(changed),
            columns=frozenset(values),
            previous_starts_at=before[0],
            previous_ends_at=before[1],
        )

    def announce(self, edit: SessionEdit, booking_ids: Sequence[uuid.UUID]) -> None:
        """``SessionChanged``, with the active (pending, confirmed) bookings' ids."""
        self.record(
            SessionChanged(
                session_id=self.id,
                session_kind="event" if self.kind == "event" else "class",
                title=self.title,
                starts_at=self.starts_at,
                ends_at=self.ends_at,
                previous_starts_at=edit.previous_starts_at if edit.moved else None,
                previous_ends_at=edit.previous_ends_at if edit.moved else None,
                location_id=self.location_id,
                timezone=self.timezone,
                staff_id=self.staff_id,
                room_id=self.room_id,
                capacity=self.capacity,
                changed=edit.changed,
                booking_ids=list(booking_ids),
            )
        )

    def ensure_cancellable(self) -> None:
        if self.cancelled:
            raise ConflictError("The session is already cancelled.", field="status")

    def cancel(self, reason: str | None) -> None:
        """The studio cancels (its bookings are settled by ``bookings.cancel_session``)."""
        self.ensure_cancellable()
        self.change(status="cancelled", cancel_reason=reason)

    def announce_cancel(self, booking_ids: Sequence[uuid.UUID]) -> None:
        self.record(
            SessionCancelled(
                session_id=self.id,
                title=self.title,
                starts_at=self.starts_at,
                reason=self.cancel_reason,
                booking_ids=list(booking_ids),
            )
        )
