"""Message templates: per tenant, kind and channel, with defaults shipped.

Rendering is sandboxed (Jinja2's immutable sandbox: no attribute of a Python object, no
method that changes anything, bounded ranges and repetition), and a template may only
use the variables its kind has: an unknown one breaks a rule when the template is saved,
never when a reminder is due. Dates and times are the session's local wall-clock time in
the location's zone, formatted in the tenant's language (Babel).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken
from frontdesk.notifications.domain.messages import Channel, Kind

MAX_SMS_BODY = 1600  # what Twilio takes in one message
MAX_EMAIL_BODY = 100_000
MAX_SUBJECT = 200
MAX_OUTPUT = 200_000  # any string a template builds on the way


class _Sandbox(ImmutableSandboxedEnvironment):
    """Also bounds ``*`` and ``**``: a template cannot build a huge string or number."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and isinstance(left, int | float):
                size = abs(right) * math.log10(abs(left)) if abs(left) > 1 else 0
                if abs(right) > 1000 or size > 1000:
                    raise SecurityError("number too large")
            return operator.pow(left, right)
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            size = len(left if isinstance(left, str | list | tuple) else right)
            times = right if isinstance(left, str | list | tuple) else left
            if isinstance(times, int) and size * times > MAX_OUTPUT:
                raise SecurityError("result too large")
        return operator.mul(left, right)


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

# --- the variables each kind offers -------------------------------------------------------

CUSTOMER = frozenset({"first_name", "last_name"})
VENUE = frozenset({"venue_name", "venue_phone", "venue_email", "link"})
SESSION = frozenset({"title", "date", "time", "weekday", "location", "seats"})
VARIABLES: dict[Kind, frozenset[str]] = {
    Kind.booking_confirmed: CUSTOMER | VENUE | SESSION,
    Kind.booking_rescheduled: CUSTOMER | VENUE | SESSION | {"previous_date", "previous_time"},
    Kind.booking_cancelled: CUSTOMER | VENUE | SESSION | {"cancelled_by_studio"},
    Kind.booking_not_made: CUSTOMER | VENUE | SESSION,
    Kind.waitlist_joined: CUSTOMER | VENUE | SESSION | {"position"},
    Kind.waitlist_promoted: CUSTOMER | VENUE | SESSION,
    Kind.waitlist_closed: CUSTOMER | VENUE | SESSION | {"cancelled_by_studio"},
    Kind.reminder_7d: CUSTOMER | VENUE | SESSION,
    Kind.reminder_24h: CUSTOMER | VENUE | SESSION,
    Kind.direct: CUSTOMER | VENUE,
    Kind.bulk: CUSTOMER | VENUE,
    Kind.welcome: CUSTOMER | VENUE,
    Kind.login_link: CUSTOMER | VENUE,
    Kind.password_reset: CUSTOMER | VENUE,
    Kind.staff_invitation: CUSTOMER | VENUE,
}
TEMPLATED = tuple(VARIABLES)

SAMPLE: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "venue_name": "Studio Mitte",
    "venue_phone": "+49 30 1234567",
    "venue_email": "hello@studio.example",
    "link": "https://studio.example/me",
    "title": "Vinyasa Yoga",
    "date": "Friday, March 26, 2027",
    "time": "6:00 PM",
    "weekday": "Friday",
    "location": "Mitte",
    "seats": 1,
    "previous_date": "Thursday, March 25, 2027",
    "previous_time": "7:00 PM",
    "cancelled_by_studio": False,
    "position": 2,
}

_SIGN = "{{ venue_name }}{% if venue_phone %}, {{ venue_phone }}{% endif %}"
_WHERE = "{% if location %} at {{ location }}{% endif %}"
_WHEN = "{{ date }} at {{ time }}"

DEFAULTS: dict[tuple[Kind, Channel], tuple[str | None, str]] = {
    (Kind.booking_confirmed, "sms"): (
        None,
        "Hi {{ first_name }}, you're booked for {{ title }} on " + _WHEN + _WHERE + ". " + _SIGN,
    ),
    (Kind.booking_confirmed, "email"): (
        "Booking confirmed: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\nyou're booked for {{ title }} on " + _WHEN + _WHERE + ".\n\n"
        "{% if link %}Manage your booking: {{ link }}\n\n{% endif %}See you soon,\n" + _SIGN,
    ),
    (Kind.booking_rescheduled, "sms"): (
        None,
        "Hi {{ first_name }}, {{ title }} has moved to " + _WHEN + _WHERE + " (was "
        "{{ previous_date }} at {{ previous_time }}). " + _SIGN,
    ),
    (Kind.booking_rescheduled, "email"): (
        "New time: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\n{{ title }} has moved to " + _WHEN + _WHERE + " (it was "
        "{{ previous_date }} at {{ previous_time }}).\n\n"
        "{% if link %}Manage your booking: {{ link }}\n\n{% endif %}" + _SIGN,
    ),
    (Kind.booking_cancelled, "sms"): (
        None,
        "Hi {{ first_name }}, {% if cancelled_by_studio %}we're sorry: {{ title }} on "
        + _WHEN
        + " is cancelled.{% else %}your booking for {{ title }} on "
        + _WHEN
        + " is cancelled.{% endif %} "
        + _SIGN,
    ),
    (Kind.booking_cancelled, "email"): (
        "Cancelled: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\n{% if cancelled_by_studio %}we're sorry: {{ title }} on "
        + _WHEN
        + " is cancelled.{% else %}your booking for {{ title }} on "
        + _WHEN
        + " is cancelled.{% endif %}\n\n"
        + _SIGN,
    ),
    (Kind.booking_not_made, "sms"): (
        None,
        "Hi {{ first_name }}, we're sorry: we could not confirm your booking for {{ title }} "
        "on " + _WHEN + " and nothing was charged. Please book again. " + _SIGN,
    ),
    (Kind.booking_not_made, "email"): (
        "Not booked: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\nwe're sorry: we could not confirm your booking for "
        "{{ title }} on " + _WHEN + ", and nothing was charged (any credits taken are "
        "back on your account). Please book again.\n\n"
        "{% if link %}{{ link }}\n\n{% endif %}" + _SIGN,
    ),
    (Kind.waitlist_joined, "sms"): (
        None,
        "Hi {{ first_name }}, {{ title }} on " + _WHEN + " is full: you're number "
        "{{ position }} on the waitlist. We'll book you if a seat frees up. " + _SIGN,
    ),
    (Kind.waitlist_joined, "email"): (
        "Waitlist: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\n{{ title }} on " + _WHEN + _WHERE + " is full, so you're "
        "number {{ position }} on the waitlist. If a seat frees up we book it for you and "
        "tell you; nothing is charged before.\n\n"
        "{% if link %}Your bookings: {{ link }}\n\n{% endif %}" + _SIGN,
    ),
    (Kind.waitlist_promoted, "sms"): (
        None,
        "Hi {{ first_name }}, a seat opened up: you're booked for {{ title }} on "
        + _WHEN
        + _WHERE
        + ". "
        + _SIGN,
    ),
    (Kind.waitlist_promoted, "email"): (
        "A seat opened up: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\ngood news: a seat opened up and you're booked for "
        "{{ title }} on " + _WHEN + _WHERE + ".\n\n"
        "{% if link %}Manage your booking: {{ link }}\n\n{% endif %}See you soon,\n" + _SIGN,
    ),
    (Kind.waitlist_closed, "sms"): (
        None,
        "Hi {{ first_name }}, {% if cancelled_by_studio %}{{ title }} on " + _WHEN + " is "
        "cancelled{% else %}no seat freed up for {{ title }} on " + _WHEN + "{% endif %}, "
        "so you're off the waitlist. Nothing was charged. " + _SIGN,
    ),
    (Kind.waitlist_closed, "email"): (
        "Off the waitlist: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\n{% if cancelled_by_studio %}we're sorry: {{ title }} on "
        + _WHEN
        + " is cancelled{% else %}no seat freed up for {{ title }} on "
        + _WHEN
        + "{% endif %}, so you're off the waitlist. Nothing was charged.\n\n"
        + _SIGN,
    ),
    (Kind.reminder_7d, "sms"): (
        None,
        "Hi {{ first_name }}, see you in a week: {{ title }} on " + _WHEN + _WHERE + ". " + _SIGN,
    ),
    (Kind.reminder_7d, "email"): (
        "In one week: {{ title }} on {{ date }}",
        "Hi {{ first_name }},\n\na reminder: {{ title }} is on " + _WHEN + _WHERE + ".\n\n"
        "{% if link %}Manage your booking: {{ link }}\n\n{% endif %}" + _SIGN,
    ),
    (Kind.reminder_24h, "sms"): (
        None,
        "Hi {{ first_name }}, see you tomorrow: {{ title }} on " + _WHEN + _WHERE + ". " + _SIGN,
    ),
    (Kind.reminder_24h, "email"): (
        "Tomorrow: {{ title }} at {{ time }}",
        "Hi {{ first_name }},\n\na reminder: {{ title }} is tomorrow, "
        + _WHEN
        + _WHERE
        + ".\n\n{% if link %}Manage your booking: {{ link }}\n\n{% endif %}"
        + _SIGN,
    ),
    (Kind.welcome, "sms"): (None, "Welcome to {{ venue_name }}, {{ first_name }}!"),
    (Kind.welcome, "email"): (
        "Welcome to {{ venue_name }}",
        "Hi {{ first_name }},\n\nwelcome to {{ venue_name }}!"
        "{% if link %}\n\nYour account: {{ link }}{% endif %}\n\n" + _SIGN,
    ),
    (Kind.login_link, "sms"): (None, "{{ venue_name }}: sign in with {{ link }}"),
    (Kind.login_link, "email"): (
        "Your sign-in link for {{ venue_name }}",
        "Hi {{ first_name }},\n\nsign in with this link: {{ link }}\n\n" + _SIGN,
    ),
    (Kind.password_reset, "sms"): (None, "{{ venue_name }}: reset your password at {{ link }}"),
    (Kind.password_reset, "email"): (
        "Reset your password for {{ venue_name }}",
        "Hi {{ first_name }},\n\nreset your password with this link: {{ link }}\n\n"
        "If you did not ask for this, ignore this email.\n\n" + _SIGN,
    ),
    (Kind.staff_invitation, "email"): (
        "You are invited to {{ venue_name }} on Frontdesk",
        "Hi {{ first_name }},\n\nyou are invited to work with {{ venue_name }} on Frontdesk. "
        "Accept the invitation here: {{ link }}\n",
    ),
}


# --- checking and rendering ------------------------------------------------------------------


def _check_source(field: str, source: str, allowed: frozenset[str]) -> None:
    try:
        parsed = _ENV.parse(source)
    except TemplateError as error:
        raise RuleBroken(field, f"not a valid template: {error}") from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
    if unknown:
        raise RuleBroken(
            field,
            f"unknown variable(s): {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
        )


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def render_text(source: str, variables: Mapping[str, Any], field: str = "body") -> str:
    """Render ``source`` in the sandbox; anything it may not do breaks a rule on ``field``."""
    try:
        out = _compiled(source).render(**variables)
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as error:
        raise RuleBroken(field, f"cannot be rendered: {error}") from None
    if len(out) > MAX_OUTPUT:
        raise RuleBroken(field, "renders too long")
    return out.strip()


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str

    def sms_info(self) -> SmsInfo:
        return sms_info(self.body)


@dataclasses.dataclass(kw_only=True, eq=False)
class Template(Aggregate):
    """A tenant's own template for one kind and channel (the defaults have version 0)."""

    kind: Kind
    channel: Channel
    subject: str | None = None
    body: str
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)

    @classmethod
    def default(cls, tenant_id: uuid.UUID, kind: Kind, channel: Channel) -> Template:
        subject, body = DEFAULTS[(kind, channel)]
        return cls(
            id=uuid.UUID(int=0),
            tenant_id=tenant_id,
            kind=kind,
            channel=channel,
            subject=subject,
            body=body,
            version=0,
        )

    @classmethod
    def written(
        cls, tenant_id: uuid.UUID, kind: Kind, channel: Channel, body: str, subject: str | None
    ) -> Template:
        """A body staff wrote for one message (direct, bulk): a template of its kind."""
        return cls(
            id=uuid.UUID(int=0),
            tenant_id=tenant_id,
            kind=kind,
            channel=channel,
            subject=subject,
            body=body,
            version=0,
        )

    def check(self) -> None:
        """The rules a template must keep to be saved: its kind's variables only, a subject
        for email and none for SMS, renderable with sample data within the length limits."""
        if self.kind not in VARIABLES:
            raise RuleBroken("kind", f"{self.kind} has no template")
        allowed = VARIABLES[self.kind]
        if self.channel == "email":
            if not (self.subject and self.subject.strip()):
                raise RuleBroken("subject", "an email template needs a subject")
            _check_source("subject", self.subject, allowed)
        elif self.subject is not None:
            raise RuleBroken("subject", "an SMS has no subject")
        _check_source("body", self.body, allowed)
        self.render(SAMPLE)

    def render(self, variables: Mapping[str, Any]) -> Rendered:
        body = render_text(self.body, variables, "body")
        if not body:
            raise RuleBroken("body", "renders empty")
        limit = MAX_SMS_BODY if self.channel == "sms" else MAX_EMAIL_BODY
        if len(body) > limit:
            raise RuleBroken("body", f"renders longer than {limit} characters")
        subject = None
        if self.channel == "email" and self.subject:
            subject = " ".join(render_text(self.subject, variables, "subject").split())
            if len(subject) > MAX_SUBJECT:
                raise RuleBroken("subject", f"renders longer than {MAX_SUBJECT} characters")
        return Rendered(subject, body)


def written_subject(kind: Kind, channel: Channel, subject: str | None) -> None:
    if channel == "email" and not (subject and subject.strip()):
        raise RuleBroken("subject", "an email needs a subject")
    if channel == "sms" and subject is not None:
        raise RuleBroken("subject", "an SMS has no subject")


# --- the words that fill a template ----------------------------------------------------------


def locale_of(language: str | None, fallback: str = "en") -> Locale:
    for candidate in (language, fallback, "en"):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


def _plain(text: str) -> str:
    """CLDR puts narrow and no-break spaces in times ("6:00\u202fPM"); one of them would
    make an SMS UCS-2 (70 characters a segment instead of 160)."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def when(local: datetime, locale: Locale) -> dict[str, str]:
    """Date, time and weekday of a local wall-clock time, in ``locale``'s words."""
    wall = local.replace(tzinfo=None)
    return {
        "date": _plain(format_date(wall.date(), "full", locale=locale)),
        "time": _plain(format_time(wall, "short", locale=locale)),
        "weekday": _plain(format_date(wall.date(), "EEEE", locale=locale)),
    }


# --- SMS length -------------------------------------------------------------------------------

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclasses.dataclass(frozen=True)
class SmsInfo:
    encoding: str  # GSM-7 or UCS-2
    length: int  # characters as the encoding counts them (extended GSM and emoji count 2)
    segments: int


def sms_info(body: str) -> SmsInfo:
    """How many SMS segments ``body`` is: GSM-7 holds 160 characters in one and 153 a
    segment when split; UCS-2 (any other character) 70 and 67."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        length = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if length <= single else math.ceil(length / part)
    return SmsInfo(encoding=encoding, length=length, segments=segments)
