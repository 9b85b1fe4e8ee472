"""A booking of a session: its saga states, the cancellation policy, guests.

``pending → confirmed | rejected``, ``confirmed → cancelled | attended | no_show``; a
confirmed booking may move to another session of the same price. A booking holds its
seats in the session from the request until it is rejected or cancelled. A request for
a full session may wait instead (``waitlisted``, no seat held): a freed seat promotes the
first waiting booking that fits (``waitlisted → pending``, then the saga as usual), or it
leaves the waitlist (``cancelled`` by the customer; ``rejected`` when the session is
cancelled or starts). Every change records its event with the session's current facts
(``slots.booking_event``).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, cast

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from frontdesk.contracts.base import Contact
from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingFacts,
    BookingNoShow,
    BookingPromoted,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
    BookingWaitlisted,
    BookingWaitlistLeft,
    PaymentMethod,
)
from frontdesk.kit.errors import ConflictError, Overloaded, RuleBroken
from frontdesk.scheduling.domain.base import Entity, illegal_move
from frontdesk.scheduling.domain.sessions import Session, SessionEdit
from frontdesk.scheduling.domain.slots import Charge, booking_event


class BookingStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"
    cancelled = "cancelled"
    attended = "attended"
    no_show = "no_show"
    waitlisted = "waitlisted"


ACTIVE = frozenset({BookingStatus.pending, BookingStatus.confirmed})

MOVES: dict[str, frozenset[BookingStatus]] = {
    "confirm": frozenset({BookingStatus.pending}),
    "reject": frozenset({BookingStatus.pending}),
    "cancel": frozenset({BookingStatus.confirmed}),
    "check_in": frozenset({BookingStatus.confirmed}),
    "no_show": frozenset({BookingStatus.confirmed}),
    "reschedule": frozenset({BookingStatus.confirmed}),
    "promote": frozenset({BookingStatus.waitlisted}),
    "leave_waitlist": frozenset({BookingStatus.waitlisted}),
}

# Why a waiting booking leaves the waitlist: the customer withdrew (cancelled), or it can
# no longer get a seat (rejected).
WAITLIST_WITHDRAWN = "left_waitlist"

CancelledBy = Literal["customer", "staff", "studio", "system"]


@dataclasses.dataclass(frozen=True)
class CancellationPolicy:
    """Free cancellation until ``free_cancel_hours`` before the start; later forfeits."""

    free_cancel_hours: int = 24

    def is_late(self, starts_at: datetime, at: datetime) -> bool:
        return at > starts_at - timedelta(hours=self.free_cancel_hours)

    def refund(self, *, starts_at: datetime, at: datetime, paid: bool) -> tuple[bool, bool]:
        """(late, refund) for a cancellation at ``at``."""
        late = self.is_late(starts_at, at)
        return late, paid and not late


@dataclasses.dataclass(frozen=True)
class Guest:
    """Someone booking without a customer record yet: customers resolves them."""

    first_name: str
    last_name: str
    email: str
    phone: str | None = None

    @classmethod
    def of(cls, first_name: str, last_name: str, email: str, phone: str | None) -> Guest:
        """Names trimmed, the email normalised (lower case), the phone in E.164; each
        refused naming its field."""
        try:
            email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise RuleBroken("guest.email", str(error)) from None
        e164 = None
        if phone:
            try:
                number = phonenumbers.parse(phone, None)
                if not phonenumbers.is_valid_number(number):
                    raise ValueError("not a valid phone number")
            except (phonenumbers.NumberParseException, ValueError) as error:
                raise RuleBroken(
                    "guest.phone", f"not a phone number in international form: {error}"
                ) from None
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        first, last = " ".join(first_name.split()), " ".join(last_name.split())
        for field, value in (("guest.first_name", first), ("guest.last_name", last)):
            if not value:
                raise RuleBroken(field, "must not be empty")
        return cls(first_name=first, last_name=last, email=email, phone=e164)


@dataclasses.dataclass(kw_only=True, eq=False)
class Booking(Entity):
    WHAT = "booking"

    session_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    guest_first_name: str | None = None
    guest_last_name: str | None = None
    guest_email: str | None = None
    guest_phone: str | None = None
    seats: int
    notes: str | None = None
    status: str = BookingStatus.pending.value
    payment_method: str
    credits: int = 0
    price_minor: int = 0
    currency: str = "EUR"
    reason: str | None = None
    refund: bool | None = None
    late: bool | None = None
    checked_in_at: datetime | None = None
    decided_at: datetime | None = None
    # A household's payer booking for a member: the payer's credits pay.
    payer_customer_id: uuid.UUID | None = None
    waitlisted_at: datetime | None = None  # the waitlist's order
    promoted_at: datetime | None = None  # the saga's timeout counts from here
    created_at: datetime | None = None  # set by the database

    def to_row(self) -> dict[str, Any]:
        row = super().to_row()
        if row["created_at"] is None:
            del row["created_at"]
        return row

    @classmethod
    def request(
        cls,
        *,
        id: uuid.UUID,
        tenant_id: uuid.UUID,
        session: Session,
        customer_id: uuid.UUID | None,
        guest: Guest | None,
        seats: int,
        notes: str | None,
        now: datetime,
        payer_customer_id: uuid.UUID | None = None,
        waitlist: bool = False,
        waiting_ahead: int = 0,
    ) -> Booking:
        """Step 1 of the saga: the seats are taken (never beyond the capacity) and the
        booking is pending; ``seats`` 0 is a reminder only (free, takes no seat). With
        ``waitlist``, a request the free seats cannot hold waits instead (behind
        ``waiting_ahead`` others), holding no seat and debiting nothing yet."""
        if (customer_id is None) == (guest is None):
            raise RuleBroken("customer_id", "customer_id or guest")
        session.ensure_bookable(now)
        waits = waitlist and seats > 0 and seats > session.seats_free
        if waits:
            if guest is not None:
                raise RuleBroken("waitlist", "only a customer can join a waitlist, not a guest")
            if seats > session.capacity:
                raise ConflictError(
                    f"The session has {session.capacity} seats in all.", field="seats"
                )
        else:
            session.take_seats(
                seats,
                when_full=f"Not enough free seats ({session.seats_free} left); "
                "send waitlist: true to join the waitlist.",
            )
        reminder = seats == 0
        booking = cls(
            id=id,
            tenant_id=tenant_id,
            session_id=session.id,
            customer_id=customer_id,
            guest_first_name=guest.first_name if guest else None,
            guest_last_name=guest.last_name if guest else None,
            guest_email=guest.email if guest else None,
            guest_phone=guest.phone if guest else None,
            seats=seats,
            notes=notes,
            payment_method="free" if reminder else session.payment_method,
            credits=session.credits * seats,
            price_minor=session.price_minor * seats,
            currency=session.currency,
            payer_customer_id=payer_customer_id,
        )
        if waits:
            booking.status = BookingStatus.waitlisted.value
            booking.waitlisted_at = now
            booking._tell(BookingWaitlisted, session, position=waiting_ahead + 1)
        else:
            booking._tell(BookingRequested, session, guest=booking.guest_contact())
        return booking

    # what it is ------------------------------------------------------------------------
    @property
    def reminder_only(self) -> bool:
        return self.seats == 0

    @property
    def guest(self) -> Guest | None:
        if not (self.guest_email and self.guest_first_name):
            return None
        return Guest(
            first_name=self.guest_first_name,
            last_name=self.guest_last_name or "-",
            email=self.guest_email,
            phone=self.guest_phone,
        )

    def guest_contact(self) -> Contact | None:
        """The guest's contact, for customers to resolve (None once a customer is known)."""
        if self.customer_id is not None or self.guest_email is None:
            return None
        return Contact(
            first_name=self.guest_first_name or "",
            last_name=self.guest_last_name or "",
            email=self.guest_email,
            phone=self.guest_phone,
        )

    @property
    def charge(self) -> Charge:
        return Charge(
            method=cast(PaymentMethod, self.payment_method),
            credits=self.credits,
            price_minor=self.price_minor,
            currency=self.currency,
        )

    @property
    def paid(self) -> bool:
        return self.payment_method != "free" and self.seats > 0

    @property
    def settles_without_credits(self) -> bool:
        """Pay-per-session, free and reminder-only bookings need no debit, only a customer."""
        return self.payment_method != "credits" or self.credits == 0

    @property
    def settles_at_once(self) -> bool:
        return (
            self.status == BookingStatus.pending
            and self.customer_id is not None
            and self.settles_without_credits
        )

    @property
    def pending(self) -> bool:
        return self.status == BookingStatus.pending

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def waiting(self) -> bool:
        return self.status == BookingStatus.waitlisted

    def _tell(self, event_class: type[BookingFacts], session: Session, **extra: Any) -> None:
        self.record(
            booking_event(
                event_class,
                booking_id=self.id,
                customer_id=self.customer_id,
                slot=session.slot(),
                seats=self.seats,
                charge=self.charge,
                payer_customer_id=self.payer_customer_id,
                **extra,
            )
        )

    def ensure_may(self, action: str) -> None:
        if BookingStatus(self.status) not in MOVES[action]:
            raise illegal_move("booking", self.status, action)

    # the saga ------------------------------------------------------------------------
    def confirm(self, session: Session, now: datetime) -> None:
        self.ensure_may("confirm")
        self.change(status=BookingStatus.confirmed.value, decided_at=now)
        self._tell(BookingConfirmed, session)

    def reject(self, session: Session, reason: str, now: datetime) -> None:
        """Compensation: the booking is rejected and its seats are given back."""
        self.ensure_may("reject")
        session.free_seats(self.seats)
        self.change(status=BookingStatus.rejected.value, reason=reason, decided_at=now)
        self._tell(BookingRejected, session, reason=reason)

    def link_customer(self, session: Session, customer_id: uuid.UUID) -> None:
        """A guest booking now points at the customer that customers resolved."""
        self.change(customer_id=customer_id)
        self._tell(BookingCustomerLinked, session)

    # the waitlist ------------------------------------------------------------------------
    def promote(self, session: Session, now: datetime) -> None:
        """A freed seat is this waiting booking's: it takes it and becomes pending (the
        application then saves and calls ``request_payment``, so each event has its own
        version)."""
        self.ensure_may("promote")
        session.take_seats(self.seats)
        self.change(status=BookingStatus.pending.value, promoted_at=now)
        self._tell(BookingPromoted, session)

    def request_payment(self, session: Session) -> None:
        """After a promotion: the saga's request, exactly as a booking that found a seat."""
        self._tell(BookingRequested, session, guest=None)

    def leave_waitlist(self, session: Session, reason: str, now: datetime) -> None:
        """Off the waitlist without a seat: withdrawn by the customer (cancelled) or no
        longer possible (rejected: the session was cancelled or started, the customer
        was blocked). Nothing was debited, so nothing is refunded."""
        self.ensure_may("leave_waitlist")
        status = BookingStatus.cancelled if reason == WAITLIST_WITHDRAWN else BookingStatus.rejected
        self.change(status=status.value, reason=reason, decided_at=now)
        self._tell(BookingWaitlistLeft, session, reason=reason)

    # after confirmation --------------------------------------------------------------
    def cancel(
        self,
        session: Session,
        *,
        policy: CancellationPolicy,
        now: datetime,
        by: CancelledBy,
        reason: str | None,
    ) -> None:
        """Free until the policy's hours before the start (refund); later forfeits (late)."""
        self.ensure_may("cancel")
        late, refund = policy.refund(starts_at=session.starts_at, at=now, paid=self.paid)
        self._cancelled(session, refund=refund, late=late, by=by, reason=reason, now=now)

    def _cancelled(
        self,
        session: Session,
        *,
        refund: bool,
        late: bool,
        by: CancelledBy,
        reason: str | None,
        now: datetime,
        recorded_reason: str | None = None,
    ) -> None:
        """The seats are given back and credits learns whether to refund; the booking
        keeps ``recorded_reason`` instead of ``reason`` when given."""
        session.free_seats(self.seats)
        self.change(
            status=BookingStatus.cancelled.value,
            refund=refund,
            late=late,
            reason=recorded_reason or reason,
            decided_at=now,
        )
        self._tell(
            BookingCancelled, session, refund=refund, late=late, cancelled_by=by, reason=reason
        )

    def check_in(self, session: Session, now: datetime) -> None:
        """The customer came: attended."""
        self.ensure_may("check_in")
        self.change(status=BookingStatus.attended.value, checked_in_at=now)
        self._tell(BookingAttended, session)

    def no_show(self, session: Session) -> None:
        """The customer did not come: the credit or price is kept."""
        self.ensure_may("no_show")
        self.change(status=BookingStatus.no_show.value, refund=False)
        self._tell(BookingNoShow, session)

    def ensure_may_move_to(self, session_id: uuid.UUID) -> None:
        self.ensure_may("reschedule")
        if session_id == self.session_id:
            raise RuleBroken("session_id", "the booking is already there")

    def same_price(self, other: Session) -> bool:
        if self.payment_method == "free" and self.seats == 0:
            return True
        return (
            other.payment_method == self.payment_method
            and other.credits * self.seats == self.credits
            and other.price_minor * self.seats == self.price_minor
            and other.currency == self.currency
        )

    def reschedule(
        self,
        old: Session,
        new: Session,
        *,
        policy: CancellationPolicy,
        now: datetime,
        late_allowed: bool,
    ) -> None:
        """Move a confirmed booking to another session of the same price, within the free
        cancellation window unless ``late_allowed``; the seats move along."""
        self.ensure_may_move_to(new.id)
        if not new.bookable(now):
            raise ConflictError("That session cannot be booked.", field="session_id")
        if not self.same_price(new):
            raise ConflictError(
                "That session has another price; cancel and book it instead.", field="session_id"
            )
        if policy.is_late(old.starts_at, now) and not late_allowed:
            raise ConflictError(
                f"Too late to reschedule (less than {policy.free_cancel_hours} hours before "
                "the start).",
                field="booking_id",
            )
        new.take_seats(self.seats, when_full="The new session has no free seats.")
        old.free_seats(self.seats)
        self.change(session_id=new.id)
        self._tell(BookingRescheduled, new, previous_starts_at=old.starts_at)

    def session_moved(self, session: Session, previous_starts_at: datetime) -> None:
        """The studio moved the session: the booking's events carry the new time (the
        save gives it a new version, so read models take it)."""
        self._tell(BookingRescheduled, session, previous_starts_at=previous_starts_at)


def cancel_session(
    session: Session, bookings: Iterable[Booking], *, reason: str | None, now: datetime
) -> list[Booking]:
    """The studio cancels a session: every confirmed booking is cancelled with a refund,
    every pending one rejected, then ``SessionCancelled`` names them. The bookings that
    changed, in order."""
    session.cancel(reason)
    affected: list[Booking] = []
    for booking in bookings:
        if booking.waiting:
            # Told by its own event; SessionCancelled names the bookings that held a seat.
            booking.leave_waitlist(session, "session_cancelled", now)
            continue
        if booking.status == BookingStatus.pending:
            booking.reject(session, "session_cancelled", now)
        elif booking.status == BookingStatus.confirmed:
            booking._cancelled(
                session,
                refund=True,
                late=False,
                by="studio",
                reason=reason,
                now=now,
                recorded_reason=reason or "session_cancelled",
            )
        else:
            continue
        affected.append(booking)
    session.announce_cancel([b.id for b in affected])
    return affected


def announce_edit(
    session: Session, edit: SessionEdit, bookings: Iterable[Booking]
) -> list[Booking]:
    """After an edit: each confirmed booking of a moved session is rescheduled (pending
    ones are decided later with the new time: customers would read a reschedule as
    confirmed), then ``SessionChanged`` names every active booking. The bookings told."""
    active = [b for b in bookings if b.active]
    told = [b for b in active if edit.moved and b.status == BookingStatus.confirmed]
    for booking in told:
        booking.session_moved(session, edit.previous_starts_at)
    session.announce(edit, [b.id for b in active])
    return told


def ensure_saga_keeps_up(pending: int, limit: int) -> None:
    """A rush beyond what the payment step answers: the booking is refused before it takes
    a seat (the customer tries again shortly), not left pending behind a growing queue."""
    if pending >= limit:
        raise Overloaded(
            f"{pending} bookings are awaiting payment; try again in a moment.",
            retry_after_seconds=1,
        )


def promote_waiting(
    session: Session,
    waiting: Iterable[Booking],
    *,
    now: datetime,
    barred: Collection[uuid.UUID] = (),
) -> tuple[list[Booking], list[Booking]]:
    """Give the session's free seats to its waitlist, first come first served: each
    waiting booking (in queue order) that fits the seats still free is promoted; one that
    needs more seats than are free keeps its place (a later, smaller one may go first);
    a barred (blocked) customer leaves the waitlist. Nothing moves once the session has
    started or is cancelled. (promoted, dropped), in order."""
    promoted: list[Booking] = []
    dropped: list[Booking] = []
    if not session.bookable(now):
        return promoted, dropped
    for booking in waiting:
        if session.seats_free == 0:
            break
        if not booking.waiting:
            continue
        if booking.customer_id in barred:
            booking.leave_waitlist(session, "customer_blocked", now)
            dropped.append(booking)
        elif booking.seats <= session.seats_free:
            booking.promote(session, now)
            promoted.append(booking)
    return promoted, dropped
