"""What notifications keeps of a booking (from scheduling's events), and the messages a
booking causes: its confirmation, its change, its cancellation and its reminders, and
for a booking on the waitlist: its place, the seat that freed, or that none did.

Reminders come 7 days and 24 hours before the session, at the SAME LOCAL WALL-CLOCK TIME
in the location's zone: a class at 18:00 Europe/Berlin gets its 24-hour reminder at 18:00
the day before, also when a clock change lies in between (then it is 23 or 25 real hours
before). A wall-clock time that does not exist that day (the hour skipped in spring)
moves forward by the gap; one that exists twice (the hour repeated in autumn) is the
first of the two.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.contracts.scheduling import BookingFacts
from frontdesk.kit.aggregate import Aggregate
from frontdesk.notifications.domain.messages import CHANNELS, Channel, Kind

REMINDER_DAYS = {Kind.reminder_7d: 7, Kind.reminder_24h: 1}


def zone_of(name: str | None) -> ZoneInfo:
    """The location's zone; an unknown name (an older producer) reads as UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def same_wall_clock_before(starts_at: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The instant ``days`` calendar days before ``starts_at`` at the same local
    wall-clock time in ``zone`` (UTC)."""
    local = starts_at.astimezone(zone)
    wall = local.replace(tzinfo=None) - timedelta(days=days)
    # fold=0: a repeated time is its first occurrence; a skipped one is read with the
    # offset before the change, which lands it after the gap once normalised.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclasses.dataclass(frozen=True)
class Planned:
    """A message a booking event asks for."""

    kind: Kind
    channel: Channel
    due_at: datetime
    dedupe_key: str
    context: dict[str, str] | None = None  # values for the template the booking lacks


@dataclasses.dataclass(kw_only=True, eq=False)
class Booking(Aggregate):
    """A booking as scheduling last told it. ``event_version`` is the booking's
    ``aggregate_version`` in scheduling: an older event changes nothing."""

    event_version: int = 0
    customer_id: uuid.UUID | None = None
    session_id: uuid.UUID
    session_type: str = "class"
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    location_id: uuid.UUID | None = None
    location_name: str | None = None
    seats: int = 1
    status: str = "confirmed"
    previous_starts_at: datetime | None = None  # before the last reschedule
    cancelled_by: str | None = None  # customer, staff, studio or system
    updated_at: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def reminder_only(self) -> bool:
        """Zero seats: the customer asked to be reminded, not booked."""
        return self.seats == 0

    @property
    def active(self) -> bool:
        return self.status == "confirmed"

    def newer(self, version: int) -> bool:
        return version > self.event_version

    def reminder_due(self, kind: Kind) -> datetime:
        return same_wall_clock_before(self.starts_at, self.zone, REMINDER_DAYS[kind])

    def reminders(self, now: datetime, version: int) -> list[Planned]:
        """Both reminders on every channel, except those whose time has passed (none for a
        booking made after its reminder time), keyed by the event (``version``) that
        planned them: the same event again plans nothing new."""
        if not self.active or self.starts_at <= now:
            return []
        planned = []
        for kind in (Kind.reminder_7d, Kind.reminder_24h):
            due = self.reminder_due(kind)
            if due <= now:
                continue
            for channel in CHANNELS:
                key = f"{self.id}:{kind.value}:v{version}:{channel}"
                planned.append(Planned(kind, channel, due, key))
        return planned

    @property
    def promoted(self) -> bool:
        """It waited on the waitlist and a freed seat is being paid for."""
        return self.status == "promoted"

    def confirmation(self, now: datetime, *, promoted: bool = False) -> list[Planned]:
        """The booking confirmation, once per booking (for a promoted booking it says the
        seat came from the waitlist); none for a reminder-only booking or a session that
        already began."""
        kind = Kind.waitlist_promoted if promoted else Kind.booking_confirmed
        return self._once(kind, "confirmed", now, before=self.starts_at)

    def waitlisted(self, now: datetime, position: int) -> list[Planned]:
        """Its place in the queue, told once when it joins."""
        context = {"position": str(position)}
        return self._once(
            Kind.waitlist_joined, "waitlisted", now, before=self.starts_at, context=context
        )

    def waitlist_closed(self, now: datetime) -> list[Planned]:
        """No seat freed before the class began, or the studio cancelled it: told once (a
        customer who withdrew is not told)."""
        return self._once(Kind.waitlist_closed, "waitlist_closed", now, before=self.ends_at)

    def rescheduled(self, now: datetime, version: int) -> list[Planned]:
        return self._once(
            Kind.booking_rescheduled, f"rescheduled:{version}", now, before=self.starts_at
        )

    def cancellation(self, now: datetime) -> list[Planned]:
        """Told once; not for a reminder-only booking or a session already over."""
        return self._once(Kind.booking_cancelled, "cancelled", now, before=self.ends_at)

    def not_made(self, now: datetime) -> list[Planned]:
        """The saga gave up on the booking (its payment step was gone): the customer, who
        was told it was being made, hears that it was not; once, and not after the session."""
        return self._once(Kind.booking_not_made, "not_made", now, before=self.ends_at)

    def _once(
        self,
        kind: Kind,
        key: str,
        now: datetime,
        *,
        before: datetime,
        context: dict[str, str] | None = None,
    ) -> list[Planned]:
        """``kind`` now on every channel, once per ``key`` (its dedupe key); nothing for a
        reminder-only booking or once ``before`` has passed."""
        if self.reminder_only or before <= now:
            return []
        return [
            Planned(kind, channel, now, f"{self.id}:{key}:{channel}", context)
            for channel in CHANNELS
        ]


def booking_values(facts: BookingFacts, version: int, status: str) -> dict[str, Any]:
    """A booking's columns as one of scheduling's events tells them."""
    values: dict[str, Any] = {
        "customer_id": facts.customer_id,
        "session_id": facts.session_id,
        "session_type": facts.session_type or facts.session_kind,
        "title": facts.title,
        "starts_at": facts.starts_at,
        "ends_at": facts.ends_at,
        "timezone": facts.timezone,
        "location_id": facts.location_id,
        "location_name": facts.location_name,
        "seats": facts.seats,
        "status": status,
        "event_version": version,
    }
    return values


def from_event(tenant_id: uuid.UUID, facts: BookingFacts, version: int, status: str) -> Booking:
    return Booking(
        id=facts.booking_id, tenant_id=tenant_id, **booking_values(facts, version, status)
    )


def told(booking: Booking, facts: BookingFacts, version: int, status: str, **extra: Any) -> bool:
    """Take a newer event's facts; False (nothing changes) for an older one."""
    if not booking.newer(version):
        return False
    values = booking_values(facts, version, status)
    if facts.customer_id is None:  # a guest's event never unlinks the customer
        values.pop("customer_id")
    booking.change(**values, **extra)
    return True
