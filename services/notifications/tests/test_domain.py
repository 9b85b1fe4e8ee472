"""The rules of notifications, without a database: reminder times across clock changes,
the message's states, error classes, keywords, templates and the sandbox, SMS length."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.contracts.notifications import MessageDelivered, MessageFailed, MessageSent
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.notifications.domain.bookings import Booking, same_wall_clock_before
from frontdesk.notifications.domain.compose import Send, Skip, Wait, decide
from frontdesk.notifications.domain.contacts import Contact, keyword, why_not
from frontdesk.notifications.domain.messages import (
    Accepted,
    Kind,
    Message,
    Permanent,
    Status,
    Transient,
    Unknown,
    backoff,
    classify_smtp,
    classify_twilio,
)
from frontdesk.notifications.domain.senders import SenderSettings, Venue
from frontdesk.notifications.domain.templates import Template, sms_info

BERLIN = ZoneInfo("Europe/Berlin")
TENANT = uuid.uuid4()
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def local(*args: int, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=zone)


def booking(starts_local: datetime, **overrides: object) -> Booking:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "customer_id": uuid.uuid4(),
        "session_id": uuid.uuid4(),
        "title": "Yoga",
        "starts_at": starts_local.astimezone(UTC),
        "ends_at": (starts_local + timedelta(hours=1)).astimezone(UTC),
        "timezone": "Europe/Berlin",
        "seats": 1,
        "status": "confirmed",
        "event_version": 2,
    }
    values.update(overrides)
    return Booking(**values)  # type: ignore[arg-type]


# --- reminders at the same local wall-clock time ------------------------------------------

# 2027: clocks go forward on Sunday 28 March (02:00 → 03:00) and back on Sunday 31
# October (03:00 → 02:00) in Europe/Berlin.
AROUND_2027_CHANGES = [
    local(2027, 3, 27, 18, 0),
    local(2027, 3, 28, 18, 0),  # the day of the change
    local(2027, 3, 29, 18, 0),  # 24 h reminder falls on the change day
    local(2027, 4, 2, 18, 0),  # 7-day reminder before the change
    local(2027, 4, 4, 18, 0),
    local(2027, 10, 30, 18, 0),
    local(2027, 10, 31, 18, 0),
    local(2027, 11, 1, 18, 0),
    local(2027, 11, 5, 18, 0),
    local(2027, 11, 7, 18, 0),
]


@pytest.mark.parametrize("start", AROUND_2027_CHANGES, ids=lambda d: d.date().isoformat())
def test_reminders_come_at_the_classes_local_time_around_both_2027_changes(start):
    b = booking(start)
    for kind, days in ((Kind.reminder_24h, 1), (Kind.reminder_7d, 7)):
        due = b.reminder_due(kind).astimezone(BERLIN)
        assert (due.hour, due.minute) == (18, 0), (kind, due)
        assert due.date() == start.date() - timedelta(days=days)


def test_across_the_spring_change_the_24_hour_reminder_is_23_real_hours_before():
    start = local(2027, 3, 28, 18, 0)
    due = booking(start).reminder_due(Kind.reminder_24h)
    assert start.astimezone(UTC) - due == timedelta(hours=23)
    autumn = local(2027, 10, 31, 18, 0)
    due = booking(autumn).reminder_due(Kind.reminder_24h)
    assert autumn.astimezone(UTC) - due == timedelta(hours=25)


def test_a_wall_clock_time_that_does_not_exist_moves_forward_and_a_repeated_one_is_the_first():
    # 02:30 on 28 March 2027 does not exist in Berlin: the reminder comes at 03:30 CEST.
    skipped = same_wall_clock_before(local(2027, 3, 29, 2, 30), BERLIN, 1)
    assert skipped == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert skipped.astimezone(BERLIN).hour == 3
    # 02:30 on 31 October 2027 exists twice: the first (still summer time, +02:00).
    repeated = same_wall_clock_before(local(2027, 11, 1, 2, 30), BERLIN, 1)
    assert repeated == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_other_zones_keep_their_own_wall_clock():
    new_york = ZoneInfo("America/New_York")
    start = local(2027, 3, 15, 9, 0, zone=new_york)  # day after the US change (14 March)
    due = booking(start, timezone="America/New_York").reminder_due(Kind.reminder_24h)
    assert due.astimezone(new_york).replace(tzinfo=None) == datetime(2027, 3, 14, 9, 0)


def test_reminders_whose_time_has_passed_are_not_planned_and_none_for_a_cancelled_booking():
    start = NOW + timedelta(days=3)
    planned = booking(start).reminders(NOW, version=2)
    assert {p.kind for p in planned} == {Kind.reminder_24h}
    assert {p.channel for p in planned} == {"sms", "email"}
    assert booking(NOW + timedelta(hours=5)).reminders(NOW, 2) == []
    assert booking(NOW + timedelta(days=9), status="cancelled").reminders(NOW, 2) == []
    both = booking(NOW + timedelta(days=9)).reminders(NOW, 2)
    assert {p.kind for p in both} == {Kind.reminder_7d, Kind.reminder_24h}


def test_a_reminder_only_booking_gets_reminders_but_no_confirmation():
    b = booking(NOW + timedelta(days=9), seats=0)
    assert b.confirmation(NOW) == []
    assert b.cancellation(NOW) == []
    assert len(b.reminders(NOW, 2)) == 4


def test_the_same_event_plans_the_same_keys_and_a_new_one_new_keys():
    b = booking(NOW + timedelta(days=9))
    assert [p.dedupe_key for p in b.reminders(NOW, 2)] == [
        p.dedupe_key for p in b.reminders(NOW, 2)
    ]
    assert not {p.dedupe_key for p in b.reminders(NOW, 2)} & {
        p.dedupe_key for p in b.reminders(NOW, 3)
    }
    assert len({p.dedupe_key for p in b.confirmation(NOW)}) == 2


# --- the message's states --------------------------------------------------------------------


def queued(channel: str = "sms", kind: Kind = Kind.direct) -> Message:
    return Message.queue(
        tenant_id=TENANT,
        kind=kind,
        channel=channel,
        due_at=NOW,
        customer_id=uuid.uuid4(),  # type: ignore[arg-type]
    )


def sending(channel: str = "sms") -> Message:
    m = queued(channel)
    m.start_sending(
        recipient="+491511234567",
        sender="+15005550006",
        subject=None,
        body="Hi",
        segments=1,
        template_version=None,
        now=NOW,
    )
    return m


def settle(m: Message, outcome: object, max_attempts: int = 5) -> None:
    m.settle(outcome, now=NOW, retry_at=NOW + timedelta(seconds=5), max_attempts=max_attempts)  # type: ignore[arg-type]


def test_accepted_is_sent_once_and_a_callback_moves_it_to_delivered_never_back():
    m = sending()
    settle(m, Accepted("SM1"))
    assert (m.status, m.provider_id, m.attempts) == (Status.sent, "SM1", 1)
    m.provider_reported(Status.delivered, now=NOW, provider_id="SM1")
    m.provider_reported(Status.sent, now=NOW)  # late and out of order: ignored
    assert m.status == Status.delivered
    assert [type(e) for e in m.collect_events()] == [MessageSent, MessageDelivered]


def test_a_callback_before_the_answer_wins_and_the_answer_only_adds_the_sid():
    m = sending()
    m.provider_reported(Status.delivered, now=NOW, provider_id="SM9")
    settle(m, Accepted("SM9"))
    assert m.status == Status.delivered
    assert [type(e) for e in m.collect_events()] == [MessageSent, MessageDelivered]


def test_transient_refusals_queue_again_until_the_attempts_run_out():
    m = sending()
    settle(m, Transient("20429", "Too Many Requests"))
    assert (m.status, m.due_at, m.error_code) == (
        Status.queued,
        NOW + timedelta(seconds=5),
        "20429",
    )
    m = sending()
    settle(m, Transient("20429", "Too Many Requests"), max_attempts=1)
    assert m.status == Status.failed
    assert isinstance(m.collect_events()[0], MessageFailed)


def test_permanent_refusals_fail_at_once_and_unknown_outcomes_stay_sending():
    m = sending()
    settle(m, Permanent("21610", "unsubscribed"))
    assert m.status == Status.failed and m.error_code == "21610"
    m = sending()
    settle(m, Unknown("read timeout"))
    assert m.status == Status.sending and m.outcome_unknown
    with pytest.raises(ConflictError):
        m.start_sending(
            recipient="x", sender=None, subject=None, body="b", segments=1,
            template_version=None, now=NOW,
        )  # fmt: skip


def test_an_unknown_outcome_is_sent_again_only_when_the_provider_has_no_record():
    m = sending()
    settle(m, Unknown("timeout"))
    m.provider_reported(Status.sent, now=NOW, provider_id="SM5")
    assert m.status == Status.sent and m.provider_id == "SM5"
    m = sending()
    settle(m, Unknown("timeout"))
    m.not_at_provider(NOW)
    assert m.status == Status.queued
    e = sending("email")
    settle(e, Unknown("lost connection during DATA"))
    e.outcome_lost()
    assert e.status == Status.failed and e.error_code == "unknown"


def test_only_a_queued_message_can_be_cancelled():
    m = queued()
    assert m.cancel("booking cancelled") and m.status == Status.cancelled
    s = sending()
    assert not s.cancel("too late") and s.status == Status.sending


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, 20429, Transient),
        (503, 20503, Transient),
        (500, None, Transient),
        (400, 21211, Permanent),
        (400, 21610, Permanent),
        (400, 21614, Permanent),
        (401, 20003, Permanent),
    ],
)
def test_twilio_errors_are_classified(status, code, kind):
    assert isinstance(classify_twilio(status, code, "x"), kind)


def test_smtp_4xx_is_transient_and_5xx_permanent_and_backoff_grows_to_its_cap():
    assert isinstance(classify_smtp(451, "later"), Transient)
    assert isinstance(classify_smtp(550, "no"), Permanent)
    delays = [backoff(n, base=2, cap=60, jitter=0) for n in range(1, 8)]
    assert delays == [2, 4, 8, 16, 32, 60, 60]


# --- consent and keywords ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("STOP", "stop"),
        (" stop ", "stop"),
        ("Stop.", "stop"),
        ("unsubscribe", "stop"),
        ("Cancel", "stop"),
        ("quit!", "stop"),
        ("START", "start"),
        ("yes", "start"),
        ("Unstop", "start"),
        ("help", "help"),
        ("please stop sending", None),
        ("Can I come at 7?", None),
    ],
)
def test_keywords_are_the_whole_reply(body, word):
    assert keyword(body) == word


def contact(**overrides: object) -> Contact:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+4915112345678",
        "event_version": 1,
    }
    values.update(overrides)
    return Contact(**values)  # type: ignore[arg-type]


def test_why_a_message_may_not_go():
    assert why_not("sms", None, number_opted_out=False) == "the customer is not known"
    assert why_not("sms", contact(), number_opted_out=False) is None
    assert "STOP" in (why_not("sms", contact(), number_opted_out=True) or "")
    assert why_not("email", contact(), number_opted_out=True) is None
    assert "phone" in (why_not("sms", contact(phone=None), number_opted_out=False) or "")
    assert "want" in (why_not("sms", contact(sms_consent=False), number_opted_out=False) or "")
    assert "deleted" in (why_not("email", contact(deleted=True), number_opted_out=False) or "")


def test_consent_changes_are_recorded_once():
    c = contact()
    assert c.set_consent("sms", False, "reply")
    assert not c.set_consent("sms", False, "reply")
    [event] = c.collect_events()
    assert (event.channel, event.consent, event.source) == ("sms", False, "reply")  # type: ignore[attr-defined]


# --- composing at send time -----------------------------------------------------------------


def compose(message: Message, **overrides: object):
    args: dict[str, object] = {
        "contact": contact(),
        "booking": None,
        "template": Template.default(TENANT, message.kind, message.channel)
        if message.kind not in (Kind.direct, Kind.bulk)
        else Template.written(TENANT, message.kind, message.channel, "x", None),
        "venue": Venue(name="Studio Mitte", phone="+49301234567"),
        "language": "en",
        "number_opted_out": False,
        "waited_enough": False,
        "now": NOW,
    }
    args.update(overrides)
    return decide(message, **args)  # type: ignore[arg-type]


def test_a_confirmation_names_the_local_time_in_the_tenants_language():
    b = booking(local(2027, 3, 29, 18, 0))
    m = queued(kind=Kind.booking_confirmed)
    m.booking_id = b.id
    decision = compose(m, booking=b)
    assert isinstance(decision, Send)
    assert "Monday, March 29, 2027 at 6:00 PM" in decision.rendered.body
    assert "Hi Ada" in decision.rendered.body and "Studio Mitte" in decision.rendered.body
    german = compose(m, booking=b, language="de")
    assert isinstance(german, Send) and "29. März 2027 at 18:00" in german.rendered.body


def test_reminders_of_a_cancelled_or_moved_booking_are_skipped_and_unknown_contacts_wait():
    b = booking(local(2027, 3, 29, 18, 0))
    m = queued(kind=Kind.reminder_24h)
    m.booking_id, m.due_at = b.id, b.reminder_due(Kind.reminder_24h)
    assert isinstance(compose(m, booking=b), Send)
    cancelled = booking(local(2027, 3, 29, 18, 0), id=b.id, status="cancelled")
    assert isinstance(compose(m, booking=cancelled), Skip)
    moved = booking(local(2027, 3, 30, 18, 0), id=b.id)
    assert isinstance(compose(m, booking=moved), Skip)
    assert isinstance(compose(m, booking=b, contact=None), Wait)
    assert isinstance(compose(m, booking=b, contact=None, waited_enough=True), Skip)
    assert isinstance(compose(m, booking=b, number_opted_out=True), Skip)


def test_written_bodies_use_the_customers_variables_and_literal_ones_go_as_written():
    m = queued(kind=Kind.direct)
    m.written_body = "Hi {{ first_name }}, see you!"
    decision = compose(m)
    assert isinstance(decision, Send) and decision.rendered.body == "Hi Ada, see you!"
    literal = queued(kind=Kind.bulk)
    literal.body = "Prices {{ went up }}"
    decision = compose(literal)
    assert isinstance(decision, Send) and decision.rendered.body == "Prices {{ went up }}"


# --- templates and the sandbox --------------------------------------------------------------


def template(body: str, subject: str | None = None, channel: str = "sms") -> Template:
    return Template(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        kind=Kind.reminder_24h,
        channel=channel,  # type: ignore[arg-type]
        subject=subject,
        body=body,
    )


def test_every_default_template_checks():
    from frontdesk.notifications.domain.templates import DEFAULTS

    for kind, channel in DEFAULTS:
        Template.default(TENANT, kind, channel).check()


def test_an_unknown_variable_or_a_syntax_error_breaks_a_rule_naming_the_field():
    with pytest.raises(RuleBroken) as error:
        template("Hi {{ frist_name }}").check()
    assert error.value.field == "body" and "frist_name" in error.value.message
    with pytest.raises(RuleBroken) as error:
        template("Hi {{ first_name }", channel="sms").check()
    assert error.value.field == "body"
    with pytest.raises(RuleBroken) as error:
        template("b", subject="{{ nope }}", channel="email").check()
    assert error.value.field == "subject"
    with pytest.raises(RuleBroken) as error:
        template("b", channel="email").check()
    assert error.value.field == "subject"


@pytest.mark.parametrize(
    "body",
    [
        "{{ first_name.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ first_name.format.__globals__ }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "{{ 'x' * 10**9 }}",
        "{{ 9 ** 9 ** 9 ** 9 ** 9 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_the_sandbox_refuses_to_reach_python_or_to_explode(body):
    with pytest.raises(RuleBroken):
        template(body).check()


def test_sms_length_and_segments():
    assert sms_info("a" * 160).segments == 1
    assert sms_info("a" * 161).segments == 2
    assert sms_info("a" * 306).segments == 2
    assert sms_info("a" * 307).segments == 3
    assert sms_info("€" * 80) == sms_info("€" * 80)  # extended GSM counts double
    assert sms_info("€" * 80).length == 160 and sms_info("€" * 81).segments == 2
    assert sms_info("ü" * 70).encoding == "GSM-7"
    assert sms_info("ł" * 70).encoding == "UCS-2" and sms_info("ł" * 70).segments == 1
    assert sms_info("ł" * 71).segments == 2
    assert sms_info("🙂" * 35).length == 70


def test_sender_settings_rules():
    s = SenderSettings(id=TENANT, tenant_id=TENANT, twilio_account_sid="AC" + "a" * 32)
    with pytest.raises(RuleBroken) as error:
        s.check()
    assert error.value.field == "twilio_auth_token"
    s.twilio_auth_token, s.twilio_from = "secret-token", "+4915112345678"
    s.check()
    s.twilio_from = "0151 1234"
    with pytest.raises(RuleBroken):
        s.check()
    with pytest.raises(RuleBroken) as error:
        SenderSettings(id=TENANT, tenant_id=TENANT, twilio_auth_token="t").check()
    assert error.value.field == "twilio_account_sid"


def test_after_a_merge_the_stricter_consent_holds_and_the_unmerge_lifts_only_that():
    from frontdesk.notifications.domain.contacts import Contact
    from frontdesk.notifications.domain.merges import (
        CustomerMerge,
        restore_consent,
        stricter_consent,
    )

    tenant = uuid.uuid4()
    survivor = Contact(id=uuid.uuid4(), tenant_id=tenant)
    gone = Contact(id=uuid.uuid4(), tenant_id=tenant, email_consent=False)
    turned_off = stricter_consent(survivor, gone)
    assert turned_off == ["email"] and (survivor.sms_consent, survivor.email_consent) == (
        True,
        False,
    )
    assert [e.consent for e in survivor.collect_events()] == [False]
    merge = CustomerMerge(uuid.uuid4(), survivor.id, gone.id, "merged", turned_off)
    restore_consent(survivor, merge)
    assert survivor.email_consent is True
    # A survivor that had opted out itself keeps its opt-out after the unmerge.
    strict = Contact(id=uuid.uuid4(), tenant_id=tenant, sms_consent=False)
    assert stricter_consent(strict, gone) == ["email"]
    restore_consent(strict, CustomerMerge(uuid.uuid4(), strict.id, gone.id, "merged", ["email"]))
    assert (strict.sms_consent, strict.email_consent) == (False, True)


def test_the_tenants_copy_stands_in_for_name_language_and_zone():
    from frontdesk.notifications.domain.senders import SenderSettings
    from frontdesk.notifications.domain.tenants import TenantCopy, booking_zone, language, venue

    tenant = uuid.uuid4()
    mine = SenderSettings.empty(tenant)
    copy = TenantCopy(name="Studio Nord", version=1, language="de", time_zone="Europe/Zurich")
    assert venue(mine, copy).name == "Studio Nord" and venue(mine, None).name is None
    assert language(mine, copy, "en") == "de" and language(mine, None, "en") == "en"
    own = SenderSettings(id=tenant, tenant_id=tenant, venue_name="Mitte", language="fr")
    assert venue(own, copy).name == "Mitte" and language(own, copy, "en") == "fr"
    assert booking_zone("UTC", copy) == "Europe/Zurich"
    assert booking_zone("Not/AZone", copy) == "Europe/Zurich"
    assert booking_zone("Europe/London", copy) == "Europe/London"
    assert booking_zone("UTC", None) == "UTC"
