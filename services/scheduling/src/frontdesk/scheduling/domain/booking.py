"""Booking and appointment rules: states, legal moves, the cancellation policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class BookingStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"
    cancelled = "cancelled"
    attended = "attended"
    no_show = "no_show"


ACTIVE_BOOKING = (BookingStatus.pending, BookingStatus.confirmed)
FINAL_BOOKING = (
    BookingStatus.rejected,
    BookingStatus.cancelled,
    BookingStatus.attended,
    BookingStatus.no_show,
)
HOLDS_SEAT = (
    BookingStatus.pending,
    BookingStatus.confirmed,
    BookingStatus.attended,
    BookingStatus.no_show,
)

BOOKING_MOVES: dict[str, set[BookingStatus]] = {
    "confirm": {BookingStatus.pending},
    "reject": {BookingStatus.pending},
    "cancel": {BookingStatus.confirmed},
    "check_in": {BookingStatus.confirmed},
    "no_show": {BookingStatus.confirmed},
    "reschedule": {BookingStatus.confirmed},
}


class IllegalTransition(Exception):
    def __init__(self, what: str, current: str, action: str) -> None:
        super().__init__(f"A {what} that is {current} cannot {action.replace('_', ' ')}.")
        self.current = current
        self.action = action


def check_booking_move(current: str, action: str) -> None:
    if BookingStatus(current) not in BOOKING_MOVES[action]:
        raise IllegalTransition("booking", current, action)


class AppointmentStatus(StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


ACTIVE_APPOINTMENT = (AppointmentStatus.draft, AppointmentStatus.confirmed)

APPOINTMENT_MOVES: dict[AppointmentStatus, set[AppointmentStatus]] = {
    AppointmentStatus.draft: {AppointmentStatus.confirmed, AppointmentStatus.cancelled},
    AppointmentStatus.confirmed: {
        AppointmentStatus.completed,
        AppointmentStatus.cancelled,
        AppointmentStatus.no_show,
    },
    AppointmentStatus.completed: set(),
    AppointmentStatus.cancelled: set(),
    AppointmentStatus.no_show: set(),
}


def check_appointment_move(current: str, target: str) -> None:
    if AppointmentStatus(target) not in APPOINTMENT_MOVES[AppointmentStatus(current)]:
        raise IllegalTransition("appointment", current, f"become {target}")


@dataclass(frozen=True)
class CancellationPolicy:
    """Free cancellation until ``free_cancel_hours`` before the start; later forfeits."""

    free_cancel_hours: int = 24

    def is_late(self, starts_at: datetime, at: datetime) -> bool:
        return at > starts_at - timedelta(hours=self.free_cancel_hours)

    def refund(self, *, starts_at: datetime, at: datetime, paid: bool) -> tuple[bool, bool]:
        """(late, refund) for a cancellation at ``at``."""
        late = self.is_late(starts_at, at)
        return late, paid and not late
