"""Scheduling's rules without a database: sessions and their seats, the booking states and
cancellation policy, appointments, working hours (across DST), local wall-clock times,
calendar windows and the one payload of every booking event."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingNoShow,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
    SessionCancelled,
    SessionChanged,
)
from frontdesk.kit.errors import ConflictError, RuleBroken, StaleVersion
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.appointments import Appointment
from frontdesk.scheduling.domain.bookings import (
    Booking,
    CancellationPolicy,
    Guest,
    announce_edit,
    cancel_session,
)
from frontdesk.scheduling.domain.calendar import Scope, feed_window
from frontdesk.scheduling.domain.customers import CustomerStanding
from frontdesk.scheduling.domain.feeds import could_be_secret, feed_name, new_secret, secret_hash
from frontdesk.scheduling.domain.sessions import Payment, Session
from frontdesk.scheduling.domain.slots import Charge, Slot, booking_event
from frontdesk.scheduling.domain.staff import WorkingHours, WorkingSlot

BERLIN = ZoneInfo("Europe/Berlin")
TENANT = uuid.uuid4()
NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)
FREE = Payment("free")
PAY = Payment("pay_per_session", price_minor=1500)
CREDITS = Payment("credits", credits=2)


def _last_sunday(year, month):
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


SPRING = _last_sunday(2031, 3)  # Europe/Berlin goes to summer time (UTC+2)
AUTUMN = _last_sunday(2031, 10)  # ... and back to winter time (UTC+1)


def session(
    *,
    capacity=10,
    payment=PAY,
    starts_at=datetime(2031, 5, 5, 18),
    hours=WorkingHours(),
    kind="class",
    staff_id=None,
):
    return Session.schedule(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        kind=kind,
        title="Yoga",
        description=None,
        location_id=uuid.uuid4(),
        room_id=None,
        staff_id=staff_id,
        starts_at=starts_at,
        duration=timedelta(minutes=60),
        capacity=capacity,
        payment=payment,
        zone=BERLIN,
        hours=hours,
    )


def book(s, *, seats=1, customer_id=None, guest=None, now=NOW):
    if guest is None and customer_id is None:
        customer_id = uuid.uuid4()
    return Booking.request(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        session=s,
        customer_id=customer_id,
        guest=guest,
        seats=seats,
        notes=None,
        now=now,
    )


def confirmed(s, **kwargs):
    b = book(s, **kwargs)
    b.confirm(s, NOW)
    b.collect_events()
    return b


def events(aggregate):
    return [type(e) for e in aggregate.collect_events()]


# sessions and their seats ------------------------------------------------------------
def test_capacity_is_never_exceeded():
    s = session(capacity=3)
    book(s, seats=2)
    book(s, seats=1)
    assert (s.seats_taken, s.seats_free) == (3, 0)
    with pytest.raises(ConflictError) as refused:
        book(s, seats=1)
    assert (refused.value.field, refused.value.title) == ("seats", "Session full")
    assert refused.value.message.startswith("Not enough free seats (0 left)")
    assert s.seats_taken == 3  # a refused booking took nothing
    reminder = book(s, seats=0)  # a reminder takes no seat, even in a full class
    assert reminder.reminder_only and reminder.payment_method == "free"
    assert s.seats_taken == 3


def test_more_seats_than_are_left_are_refused_whole():
    s = session(capacity=4)
    book(s, seats=3)
    with pytest.raises(ConflictError, match=r"\(1 left\)"):
        book(s, seats=2)
    assert s.seats_taken == 3


def test_a_session_needs_at_least_one_seat():
    with pytest.raises(RuleBroken) as refused:
        session(capacity=0)
    assert refused.value.field == "capacity"
    s = session(capacity=2)
    with pytest.raises(RuleBroken) as refused:
        s.edit({"capacity": 0}, hours=WorkingHours(), now=NOW)
    assert refused.value.field == "capacity"


def test_capacity_never_goes_below_the_seats_taken():
    s = session(capacity=4)
    book(s, seats=2)
    with pytest.raises(ConflictError) as refused:
        s.edit({"capacity": 1}, hours=WorkingHours(), now=NOW)
    assert refused.value.field == "capacity"
    edit = s.edit({"capacity": 2}, hours=WorkingHours(), now=NOW)
    assert edit is not None and edit.changed == ["capacity"] and s.seats_free == 0


def test_seats_move_apart_from_the_version():
    s = session()
    book(s, seats=2)
    assert s.seats_moved and not s.changed  # a booking does not change the session's ETag
    s.seats_saved()
    assert not s.seats_moved


def test_cancelled_or_started_sessions_take_no_bookings():
    s = session(starts_at=datetime(2031, 5, 1, 14))  # 12:00 UTC: NOW
    with pytest.raises(ConflictError, match="already started"):
        book(s)
    later = session()
    later.cancel("ill")
    with pytest.raises(ConflictError, match="cancelled") as refused:
        book(later)
    assert refused.value.field == "session_id"


def test_payment_rules():
    for bad, field in (
        (dict(method="credits"), "credits"),
        (dict(method="pay_per_session"), "price_minor"),
        (dict(method="free", credits=1), "credits"),
        (dict(method="credits", credits=1, price_minor=5), "price_minor"),
    ):
        with pytest.raises(RuleBroken) as refused:
            Payment(**bad)
        assert refused.value.field == field, bad


def test_an_edit_says_what_changed_and_moves_only_forward():
    s = session(starts_at=datetime(2031, 5, 5, 9))
    assert s.edit({"title": "Yoga"}, hours=WorkingHours(), now=NOW) is None  # nothing new
    edit = s.edit({"starts_at": datetime(2031, 5, 6, 18)}, hours=WorkingHours(), now=NOW)
    assert edit is not None and edit.changed == ["starts_at"] and edit.moved
    assert s.starts_at == datetime(2031, 5, 6, 16, tzinfo=UTC)
    assert s.ends_at - s.starts_at == timedelta(hours=1)  # the duration is kept
    edit = s.edit({"duration_minutes": 90}, hours=WorkingHours(), now=NOW)
    assert edit is not None and edit.changed == ["duration_minutes"] and edit.moved
    edit = s.edit({"payment": CREDITS, "title": "Flow"}, hours=WorkingHours(), now=NOW)
    assert edit is not None and edit.changed == ["payment", "title"] and not edit.moved
    assert not edit.reserving
    with pytest.raises(RuleBroken) as refused:
        s.edit({"starts_at": datetime(2031, 4, 1, 10)}, hours=WorkingHours(), now=NOW)
    assert refused.value.field == "starts_at"
    started = session(starts_at=datetime(2031, 5, 1, 13))
    with pytest.raises(ConflictError) as refused:
        started.edit({"title": "Late"}, hours=WorkingHours(), now=NOW)
    assert refused.value.field == "starts_at"


def test_moving_a_session_tells_confirmed_bookings_only():
    s = session(payment=CREDITS)
    sure = confirmed(s)
    waiting = book(s)
    waiting.collect_events()
    gone = confirmed(s)
    gone.cancel(s, policy=CancellationPolicy(0), now=NOW, by="staff", reason=None)
    edit = s.edit({"starts_at": datetime(2031, 5, 7, 18)}, hours=WorkingHours(), now=NOW)
    told = announce_edit(s, edit, [sure, waiting, gone])
    assert told == [sure]
    (moved,) = sure.collect_events()
    assert isinstance(moved, BookingRescheduled)
    assert moved.previous_starts_at == datetime(2031, 5, 5, 16, tzinfo=UTC)
    assert moved.starts_at == datetime(2031, 5, 7, 16, tzinfo=UTC)
    (changed,) = s.collect_events()
    assert isinstance(changed, SessionChanged)
    assert changed.booking_ids == [sure.id, waiting.id] and changed.changed == ["starts_at"]


def test_the_studio_cancelling_refunds_confirmed_and_rejects_pending():
    s = session(capacity=5)
    paid, waiting = confirmed(s, seats=2), book(s)
    waiting.collect_events()
    affected = cancel_session(s, [paid, waiting], reason=None, now=NOW)
    assert affected == [paid, waiting] and s.seats_taken == 0
    (cancelled,) = paid.collect_events()
    assert isinstance(cancelled, BookingCancelled)
    assert (cancelled.refund, cancelled.late, cancelled.cancelled_by) == (True, False, "studio")
    assert paid.reason == "session_cancelled"
    (rejected,) = waiting.collect_events()
    assert isinstance(rejected, BookingRejected) and rejected.reason == "session_cancelled"
    (announced,) = s.collect_events()
    assert isinstance(announced, SessionCancelled)
    assert announced.booking_ids == [paid.id, waiting.id]
    with pytest.raises(ConflictError) as refused:
        cancel_session(s, [], reason=None, now=NOW)
    assert refused.value.field == "status"


def test_if_match_names_the_current_version():
    s = session()
    s.ensure_version(None)
    s.ensure_version(1)
    with pytest.raises(StaleVersion) as stale:
        s.ensure_version(2)
    assert stale.value.headers == {"ETag": '"1"'}


# bookings: the saga's states -----------------------------------------------------------
def test_a_request_is_pending_and_says_what_it_costs():
    s = session(payment=CREDITS)
    b = book(s, seats=2)
    assert b.pending and (b.payment_method, b.credits) == ("credits", 4)
    assert not b.settles_at_once  # credits must debit first
    (requested,) = b.collect_events()
    assert isinstance(requested, BookingRequested) and requested.guest is None
    assert requested.payment.credits == 4 and requested.seats == 2
    assert book(session(payment=PAY)).settles_at_once
    assert book(session(payment=CREDITS), seats=0).settles_at_once  # a reminder
    guest = Guest.of("Grace", "Hopper", "grace@example.com", None)
    assert not book(session(payment=PAY), guest=guest).settles_at_once  # no customer yet


@pytest.mark.parametrize(
    "status,allowed",
    [
        ("pending", {"confirm", "reject"}),
        ("confirmed", {"cancel", "check_in", "no_show", "reschedule"}),
        ("rejected", set()),
        ("cancelled", set()),
        ("attended", set()),
        ("no_show", set()),
    ],
)
def test_transitions_outside_the_state_machine_are_refused(status, allowed):
    for action in ("confirm", "reject", "cancel", "check_in", "no_show", "reschedule"):
        s = session()
        b = book(s)
        b.status = status
        b.collect_events()
        if action in allowed:
            b.ensure_may(action)
            continue
        with pytest.raises(ConflictError) as refused:
            b.ensure_may(action)
        assert refused.value.field == "status" and refused.value.title == "Illegal transition"
        assert refused.value.message == (
            f"A booking that is {status} cannot {action.replace('_', ' ')}."
        )


def test_each_step_records_its_event_and_frees_seats_when_it_ends():
    s = session(capacity=2)
    b = book(s)
    b.collect_events()
    b.reject(s, "insufficient_credits", NOW)
    assert (b.status, b.reason, s.seats_taken) == ("rejected", "insufficient_credits", 0)
    assert events(b) == [BookingRejected]
    with pytest.raises(ConflictError):
        b.confirm(s, NOW)  # a late success changes nothing
    c = book(s)
    c.confirm(s, NOW)
    c.check_in(s, NOW)
    assert (c.status, c.checked_in_at, s.seats_taken) == ("attended", NOW, 1)
    assert events(c) == [BookingRequested, BookingConfirmed, BookingAttended]


def test_no_show_keeps_the_payment():
    s = session()
    b = confirmed(s)
    b.no_show(s)
    assert (b.status, b.refund, s.seats_taken) == ("no_show", False, 1)
    assert events(b) == [BookingNoShow]


def test_a_guest_is_linked_then_settles():
    s = session(payment=PAY)
    guest = Guest.of(" Grace ", "Hopper", "Grace@Example.COM", "+44 7911 123456")
    assert (guest.first_name, guest.email, guest.phone) == (
        "Grace",
        "grace@example.com",
        "+447911123456",
    )
    b = book(s, guest=guest)
    (requested,) = b.collect_events()
    assert requested.guest is not None and requested.guest.email == "grace@example.com"
    customer = uuid.uuid4()
    b.link_customer(s, customer)
    assert b.settles_at_once and b.guest_contact() is None
    (linked,) = b.collect_events()
    assert isinstance(linked, BookingCustomerLinked) and linked.customer_id == customer


@pytest.mark.parametrize(
    "fields,field",
    [
        (("A", "B", "not-an-email", None), "guest.email"),
        (("A", "B", "a@example.com", "12"), "guest.phone"),
        (("  ", "B", "a@example.com", None), "guest.first_name"),
        (("A", "", "a@example.com", None), "guest.last_name"),
    ],
)
def test_guests_are_refused_naming_the_field(fields, field):
    with pytest.raises(RuleBroken) as refused:
        Guest.of(*fields)
    assert refused.value.field == field


def test_blocked_or_deleted_customers_cannot_book():
    for status in ("blocked", "deleted"):
        standing = CustomerStanding(uuid.uuid4(), status)
        assert not standing.may_book
        with pytest.raises(ConflictError) as refused:
            standing.ensure_may_book()
        assert refused.value.title == "Customer blocked" and refused.value.field == "customer_id"
    for status in (None, "active", "vip"):
        CustomerStanding(uuid.uuid4(), status).ensure_may_book()


# the cancellation policy ---------------------------------------------------------------
def test_cancellation_policy():
    policy = CancellationPolicy(24)
    starts = datetime(2031, 1, 2, 18, tzinfo=ZoneInfo("UTC"))
    assert policy.refund(starts_at=starts, at=starts - timedelta(hours=25), paid=True) == (
        False,
        True,
    )
    assert policy.refund(starts_at=starts, at=starts - timedelta(hours=23), paid=True) == (
        True,
        False,
    )
    assert policy.refund(starts_at=starts, at=starts - timedelta(hours=48), paid=False) == (
        False,
        False,
    )


def test_cancellation_policy_edges():
    policy = CancellationPolicy(24)
    starts = datetime(2031, 1, 2, 18, tzinfo=UTC)
    edge = starts - timedelta(hours=24)
    assert not policy.is_late(starts, edge)  # free until exactly N hours before
    assert policy.is_late(starts, edge + timedelta(microseconds=1))
    assert policy.is_late(starts, starts + timedelta(hours=1))  # after the start too
    assert not CancellationPolicy(0).is_late(starts, starts)
    assert CancellationPolicy(0).is_late(starts, starts + timedelta(seconds=1))


def test_a_late_cancel_forfeits_and_a_timely_one_refunds():
    s = session(starts_at=datetime(2031, 5, 2, 18))  # 16:00 UTC the next day: 28 hours
    for hours, late, refund in ((24, False, True), (30, True, False)):
        b = confirmed(s)
        b.cancel(s, policy=CancellationPolicy(hours), now=NOW, by="customer", reason="ill")
        (event,) = b.collect_events()
        assert isinstance(event, BookingCancelled)
        assert (b.late, b.refund, event.late, event.refund) == (late, refund, late, refund)
        assert (event.cancelled_by, event.reason, b.status) == ("customer", "ill", "cancelled")
    assert s.seats_taken == 0
    reminder = confirmed(s, seats=0)
    reminder.cancel(s, policy=CancellationPolicy(24), now=NOW, by="staff", reason=None)
    assert reminder.refund is False  # nothing was paid, nothing to refund


# rescheduling ------------------------------------------------------------------------
def test_a_booking_moves_to_a_session_of_the_same_price_with_its_seats():
    old, new = session(capacity=3), session(capacity=3, starts_at=datetime(2031, 5, 9, 18))
    b = confirmed(old, seats=2)
    b.reschedule(old, new, policy=CancellationPolicy(24), now=NOW, late_allowed=False)
    assert (b.session_id, old.seats_taken, new.seats_taken) == (new.id, 0, 2)
    (moved,) = b.collect_events()
    assert isinstance(moved, BookingRescheduled) and moved.session_id == new.id
    assert moved.previous_starts_at == old.starts_at


def test_rescheduling_is_refused_naming_why():
    old = session(starts_at=datetime(2031, 5, 2, 10))  # 20 hours after NOW
    b = confirmed(old)
    with pytest.raises(RuleBroken):
        b.ensure_may_move_to(old.id)
    dearer = session(payment=Payment("pay_per_session", price_minor=2000))
    with pytest.raises(ConflictError, match="another price"):
        b.reschedule(old, dearer, policy=CancellationPolicy(0), now=NOW, late_allowed=False)
    other = session(starts_at=datetime(2031, 5, 9, 18))
    with pytest.raises(ConflictError) as refused:
        b.reschedule(old, other, policy=CancellationPolicy(24), now=NOW, late_allowed=False)
    assert refused.value.field == "booking_id"
    full = session(capacity=1, starts_at=datetime(2031, 5, 10, 18))
    book(full)
    with pytest.raises(ConflictError, match="new session has no free seats"):
        b.reschedule(old, full, policy=CancellationPolicy(24), now=NOW, late_allowed=True)
    assert (old.seats_taken, full.seats_taken, b.session_id) == (1, 1, old.id)
    b.reschedule(old, other, policy=CancellationPolicy(24), now=NOW, late_allowed=True)
    assert b.session_id == other.id


# appointments --------------------------------------------------------------------------
def appointment(
    *, status="draft", price_minor=0, customer=None, starts_at=datetime(2031, 5, 5, 10)
):
    return Appointment.make(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        location_id=uuid.uuid4(),
        staff_id=uuid.uuid4(),
        room_id=None,
        customer=customer or CustomerStanding(uuid.uuid4()),
        title="PT",
        notes=None,
        starts_at=starts_at,
        duration=timedelta(minutes=60),
        status=status,
        price_minor=price_minor,
        currency="EUR",
        zone=BERLIN,
        hours=WorkingHours(),
    )


def test_appointment_transitions():
    a = appointment()
    assert a.collect_events() == [] and a.holds
    with pytest.raises(ConflictError) as refused:
        a.move_to("completed", now=NOW)
    assert refused.value.title == "Illegal transition"
    assert refused.value.message == "A appointment that is draft cannot become completed."
    a.move_to("cancelled", now=NOW)
    assert a.collect_events() == [] and not a.holds  # a draft was never announced
    for target in ("confirmed", "completed", "cancelled", "no_show"):
        with pytest.raises(ConflictError):
            a.move_to(target, now=NOW)


def test_cancelling_a_confirmed_appointment_refunds_until_it_starts():
    for now, late in ((NOW, False), (datetime(2031, 5, 5, 9, tzinfo=UTC), True)):
        a = appointment(status="confirmed", price_minor=4500)
        (made,) = a.collect_events()
        assert isinstance(made, BookingConfirmed) and made.session_kind == "appointment"
        a.move_to("cancelled", now=now, reason="ill")
        (cancelled,) = a.collect_events()
        assert isinstance(cancelled, BookingCancelled)
        assert (cancelled.late, cancelled.refund) == (late, not late)


def test_a_blocked_customer_gets_no_appointment():
    with pytest.raises(ConflictError) as refused:
        appointment(customer=CustomerStanding(uuid.uuid4(), "blocked"))
    assert refused.value.title == "Customer blocked"


def test_an_appointment_edit_checks_hours_and_tells_a_move():
    a = appointment(status="confirmed")
    a.collect_events()
    mornings = WorkingHours.of([WorkingSlot("mon", time(9), time(13))])
    assert a.edit({"notes": "knee"}, hours=mornings) == {"notes"}
    assert a.collect_events() == []
    with pytest.raises(ConflictError) as refused:
        a.edit({"duration_minutes": 240}, hours=mornings)  # 10:00 to 14:00
    assert refused.value.field == "starts_at"
    assert a.edit({"starts_at": datetime(2031, 5, 5, 11)}, hours=mornings) == {
        "starts_at",
        "ends_at",
    }
    (moved,) = a.collect_events()
    assert isinstance(moved, BookingRescheduled)
    assert moved.previous_starts_at == datetime(2031, 5, 5, 8, tzinfo=UTC)
    a.move_to("completed", now=NOW)
    with pytest.raises(ConflictError) as refused:
        a.edit({"notes": "late"}, hours=mornings)
    assert refused.value.field == "status"


# the one booking payload ------------------------------------------------------------------
def test_sessions_and_appointments_tell_bookings_with_the_same_facts():
    gala = session(kind="event", payment=PAY)
    b = book(gala)
    (requested,) = b.collect_events()
    assert (requested.session_kind, requested.session_type) == ("class", "event")
    assert requested.timezone == "Europe/Berlin" and requested.session_id == gala.id
    a = appointment(status="confirmed", price_minor=4500)
    (confirmed_,) = a.collect_events()
    assert (confirmed_.session_kind, confirmed_.session_type) == ("appointment", "appointment")
    assert confirmed_.payment.method == "pay_per_session" and confirmed_.seats == 1
    slot = Slot(uuid.uuid4(), "class", "Yoga", NOW, NOW + timedelta(hours=1), uuid.uuid4(), "UTC")
    event = booking_event(
        BookingRejected,
        booking_id=uuid.uuid4(),
        customer_id=None,
        slot=slot,
        seats=3,
        charge=Charge("credits", credits=3),
        reason="timeout",
    )
    assert event.payment.credits == 3 and event.reason == "timeout"
    assert set(BookingRejected.model_fields) - set(event.model_dump(exclude_unset=True)) <= {"TYPE"}


# working hours -----------------------------------------------------------------------
def test_working_slots_are_local_wall_clock_times():
    with pytest.raises(RuleBroken):
        WorkingSlot("mon", time(9, tzinfo=ZoneInfo("Asia/Karachi")), time(17))
    with pytest.raises(RuleBroken, match="end must be after start"):
        WorkingSlot("mon", time(17), time(9))
    with pytest.raises(RuleBroken):
        WorkingSlot("funday", time(9), time(17))
    stored = [{"weekday": "mon", "start": "09:00:00+05:00", "end": "17:00:00"}]
    (slot,) = WorkingHours.from_json(stored).slots  # stored before offsets were refused
    assert slot.start == time(9) and slot.start.tzinfo is None
    hours = WorkingHours.of([WorkingSlot("tue", time(8), time(12, 30))])
    assert WorkingHours.from_json(hours.to_json()) == hours


def test_working_hours_hold_a_period_or_not():
    hours = WorkingHours.of([WorkingSlot("mon", time(9), time(17))])
    monday = datetime(2031, 5, 5, 9, tzinfo=BERLIN)  # a Monday, summer time
    assert hours.covers(monday, monday + timedelta(hours=8), BERLIN)
    assert not hours.covers(monday - timedelta(minutes=1), monday + timedelta(hours=1), BERLIN)
    assert not hours.covers(
        monday + timedelta(hours=7, minutes=30), monday + timedelta(hours=8, minutes=30), BERLIN
    )
    assert not hours.covers(monday + timedelta(days=1), monday + timedelta(days=1, hours=1), BERLIN)
    assert WorkingHours().covers(monday, monday + timedelta(hours=20), BERLIN)  # none set
    late = WorkingHours.of([WorkingSlot("mon", time(20), time(23, 59))])
    assert not late.covers(monday + timedelta(hours=12), monday + timedelta(hours=16), BERLIN)
    with pytest.raises(ConflictError) as refused:
        hours.ensure_covers(monday + timedelta(hours=8), monday + timedelta(hours=9), BERLIN)
    assert refused.value.field == "starts_at"


def test_working_hours_follow_the_local_clock_across_dst():
    """09:00 to 17:00 on Mondays is 07:00 to 15:00 UTC in summer, 08:00 to 16:00 in winter."""
    hours = WorkingHours.of([WorkingSlot("mon", time(9), time(17))])
    summer_monday = SPRING + timedelta(days=1)
    winter_monday = AUTUMN + timedelta(days=1)
    for day, offset in ((summer_monday, 2), (winter_monday, 1)):
        start = datetime(day.year, day.month, day.day, 9 - offset, tzinfo=UTC)
        assert hours.covers(start, start + timedelta(hours=8), BERLIN), day
        early = start - timedelta(minutes=30)
        assert not hours.covers(early, early + timedelta(hours=1), BERLIN), day
    # a class at 16:00 local on the Monday before and after the spring change
    before = SPRING - timedelta(days=6)
    for day in (before, summer_monday):
        start = tz.to_utc(datetime(day.year, day.month, day.day, 16), BERLIN)
        assert hours.covers(start, start + timedelta(hours=1), BERLIN)
        assert not hours.covers(start, start + timedelta(hours=1, minutes=1), BERLIN)
    trainer = uuid.uuid4()
    session(
        staff_id=trainer,
        hours=hours,
        starts_at=datetime(summer_monday.year, summer_monday.month, summer_monday.day, 16),
    )
    with pytest.raises(ConflictError):
        session(
            staff_id=trainer,
            hours=hours,
            starts_at=datetime(summer_monday.year, summer_monday.month, summer_monday.day, 16, 30),
        )


# local wall-clock times ----------------------------------------------------------------
def test_domain_time_rules():
    berlin = tz.zone("Europe/Berlin")
    assert tz.to_utc(datetime(2031, 3, 29, 18), berlin).hour == 17
    assert tz.to_utc(datetime(2031, 3, 31, 18), berlin).hour == 16
    # the repeated hour in autumn means its first occurrence (summer time)
    assert tz.to_utc(datetime(2031, 10, 26, 2, 30), berlin).hour == 0
    start, end = tz.day_bounds(SPRING, berlin)
    assert end - start == timedelta(hours=23)
    start, end = tz.day_bounds(AUTUMN, berlin)
    assert end - start == timedelta(hours=25)
    with pytest.raises(RuleBroken):
        tz.zone("Berlin")


def test_wall_clock_conversion():
    # the hour the clocks skip in spring does not exist
    with pytest.raises(RuleBroken, match="does not exist") as refused:
        tz.to_utc(datetime(SPRING.year, SPRING.month, SPRING.day, 2, 30), BERLIN)
    assert refused.value.field == "starts_at"
    # the repeated autumn hour is its first occurrence, one hour earlier in UTC
    first = tz.to_utc(datetime(AUTUMN.year, AUTUMN.month, AUTUMN.day, 2, 30), BERLIN)
    assert first == datetime(AUTUMN.year, AUTUMN.month, AUTUMN.day, 0, 30, tzinfo=UTC)
    # an explicit offset wins over the location's zone
    aware = datetime(2031, 5, 5, 18, tzinfo=ZoneInfo("America/New_York"))
    assert tz.to_utc(aware, BERLIN) == datetime(2031, 5, 5, 22, tzinfo=UTC)
    for year in (1969, 2201):
        with pytest.raises(RuleBroken):
            tz.to_utc(datetime(year, 1, 1), BERLIN, "starts_from")
    with pytest.raises(RuleBroken) as refused:
        tz.day_bounds(date(9999, 12, 31), BERLIN, "on")
    assert refused.value.field == "on"


@pytest.mark.parametrize("name", ["localtime", "Factory", "US/Eastern", "CET+1", "", " UTC"])
def test_only_canonical_zones(name):
    with pytest.raises(RuleBroken) as refused:
        tz.zone(name)
    assert refused.value.field == "timezone"


# calendars and feeds -------------------------------------------------------------------
def test_feed_windows():
    today = date(2031, 5, 1)
    lower, upper = feed_window(None, None, today)
    assert lower == datetime(2031, 4, 1, tzinfo=UTC)
    assert upper == datetime(2031, 10, 29, tzinfo=UTC)
    lower, upper = feed_window(today, today, today)
    assert upper - lower == timedelta(days=1)
    for start, end in ((today, today - timedelta(days=1)), (today, today + timedelta(days=801))):
        with pytest.raises(RuleBroken) as refused:
            feed_window(start, end, today)
        assert refused.value.field == "end"
    feed_window(today, today + timedelta(days=800), today)


def test_calendar_scopes():
    with pytest.raises(RuleBroken) as refused:
        Scope.for_staff(None, None, None)
    assert refused.value.field == "location_id"
    customer = uuid.uuid4()
    assert Scope.for_customer(customer) == Scope(customer_id=customer)
    with pytest.raises(RuleBroken) as refused:
        Scope.for_customer(customer, room_id=uuid.uuid4())
    assert refused.value.field == "room_id"


def test_feed_secrets():
    secret = new_secret()
    assert could_be_secret(secret) and len(secret) >= 32
    assert secret_hash(secret) != secret and len(secret_hash(secret)) == 64
    assert not could_be_secret("x") and not could_be_secret("a" * 31)
    assert feed_name("  ") is None and feed_name(" Kim ") == "Kim"
