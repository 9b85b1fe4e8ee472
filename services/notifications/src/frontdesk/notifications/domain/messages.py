"""A message: one SMS or email to one recipient (or one reply received), and its life.

queued → sending → sent → delivered | undelivered | failed; or queued → skipped (no
consent, no contact) | cancelled (its booking was cancelled, its customer deleted).

The one rule that matters most: a message is marked ``sending`` (and committed) before
the provider is called, and nothing ever moves a ``sending`` message back to ``queued``
except a provider's word that it has no such message (``not_at_provider``). A timeout
after the request went out leaves it ``sending`` with its outcome unknown: the status
callback or a lookup at the provider settles it. So at most one SMS per message, ever.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from frontdesk.contracts.notifications import (
    MessageDelivered,
    MessageFailed,
    MessageReceived,
    MessageSent,
)
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


class Status(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    skipped = "skipped"
    cancelled = "cancelled"
    received = "received"  # an inbound reply


class Kind(StrEnum):
    booking_confirmed = "booking_confirmed"
    booking_rescheduled = "booking_rescheduled"
    booking_cancelled = "booking_cancelled"
    booking_not_made = "booking_not_made"  # the saga gave up on it (timeout)
    waitlist_joined = "waitlist_joined"  # the class was full: waiting, at a position
    waitlist_promoted = "waitlist_promoted"  # a seat freed and the booking is confirmed
    waitlist_closed = "waitlist_closed"  # the class began or was cancelled: no seat freed
    reminder_7d = "reminder_7d"
    reminder_24h = "reminder_24h"
    direct = "direct"
    bulk = "bulk"
    welcome = "welcome"
    login_link = "login_link"
    password_reset = "password_reset"
    staff_invitation = "staff_invitation"
    reply = "reply"  # inbound


REMINDERS = frozenset({Kind.reminder_7d, Kind.reminder_24h})
# Kinds whose body staff wrote (rendered with the customer's variables only).
WRITTEN = frozenset({Kind.direct, Kind.bulk})
# Account emails another service asks for (identity): to the address it gives, whatever
# the marketing consent (the person asked for them); their link is a secret.
ACCOUNT = frozenset({Kind.welcome, Kind.login_link, Kind.password_reset, Kind.staff_invitation})
LINK_REMOVED = "[link removed]"

# How far a status has come: a provider's report never moves a message back.
_RANK = {
    Status.queued: 0,
    Status.sending: 1,
    Status.sent: 2,
    Status.delivered: 3,
    Status.undelivered: 3,
    Status.failed: 3,
}
FINAL = frozenset(
    {
        Status.delivered,
        Status.undelivered,
        Status.failed,
        Status.skipped,
        Status.cancelled,
        Status.received,
    }
)

# Twilio's statuses (status callbacks and the Messages API) in ours.
TWILIO_STATUS = {
    "accepted": Status.sending,
    "scheduled": Status.sending,
    "queued": Status.sending,
    "sending": Status.sending,
    "sent": Status.sent,
    "delivered": Status.delivered,
    "read": Status.delivered,
    "undelivered": Status.undelivered,
    "failed": Status.failed,
    "canceled": Status.failed,
}


# --- what a provider answered ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Accepted:
    """The provider took the message (Twilio: 201 with its SID; SMTP: 250 after DATA)."""

    provider_id: str
    status: Status = Status.sent


@dataclasses.dataclass(frozen=True)
class Transient:
    """Not accepted, try again later (429, 20429, 5xx before acceptance, SMTP 4xx,
    connection refused)."""

    code: str
    message: str
    retry_after: float | None = None


@dataclasses.dataclass(frozen=True)
class Permanent:
    """Refused for good (21211 invalid number, 21610 unsubscribed, 21614 not a mobile,
    SMTP 5xx): never retried."""

    code: str
    message: str

    @property
    def unsubscribed(self) -> bool:
        return self.code == "21610"


@dataclasses.dataclass(frozen=True)
class Unknown:
    """The request may have been accepted (a timeout or a lost connection after it went
    out): never sent again blindly."""

    message: str


Outcome = Accepted | Transient | Permanent | Unknown

# Twilio error codes that say the recipient can never get this message.
TWILIO_PERMANENT = frozenset({21211, 21408, 21610, 21612, 21614, 21617, 21635, 30003, 30005})
TWILIO_TRANSIENT = frozenset({20429, 20500, 20503, 30001, 30002})


def classify_twilio(status: int, code: int | None, message: str) -> Transient | Permanent:
    """A refusal Twilio answered (the request reached Twilio and it said no)."""
    label = str(code or status)
    if status == 429 or code in TWILIO_TRANSIENT or status >= 500:
        return Transient(label, message)
    return Permanent(label, message)


def classify_smtp(code: int, message: str) -> Transient | Permanent:
    """An SMTP reply code: 4xx is "try later", 5xx is final."""
    if 400 <= code < 500:
        return Transient(str(code), message)
    return Permanent(str(code), message)


def backoff(attempt: int, *, base: float, cap: float, jitter: float = 0.2) -> float:
    """Seconds before attempt ``attempt + 1``: exponential, capped, with some jitter so
    many messages refused together do not come back together."""
    delay: float = min(base * 2 ** max(attempt - 1, 0), cap)
    return delay * (1 + random.uniform(-jitter, jitter))


# --- the aggregate -------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class Message(Aggregate):
    kind: Kind
    channel: Channel
    direction: Literal["outbound", "inbound"] = "outbound"
    status: Status = Status.queued
    customer_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    bulk_id: uuid.UUID | None = None
    due_at: datetime
    recipient: str | None = None
    sender: str | None = None
    reply_to: str | None = None
    subject: str | None = None
    body: str | None = None
    # A body written by staff (direct, bulk), rendered with the customer's variables.
    written_body: str | None = None
    template_version: int | None = None
    segments: int | None = None
    attempts: int = 0
    provider_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    outcome_unknown: bool = False
    claim_token: uuid.UUID | None = None
    claimed_until: datetime | None = None
    sending_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    # One message per business fact (a booking's confirmation on a channel): a redelivery
    # under a new message id finds it taken.
    dedupe_key: str | None = None
    # Variables the requester gave (an account email's name, tenant and one-time link);
    # the link is forgotten once the message is sent or given up.
    context: dict[str, str] | None = None
    expires_at: datetime | None = None
    created_by: str | None = None
    erased: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)
        self.status = Status(self.status)

    # --- new ones ---------------------------------------------------------------------

    @classmethod
    def queue(
        cls,
        *,
        tenant_id: uuid.UUID,
        kind: Kind,
        channel: Channel,
        due_at: datetime,
        customer_id: uuid.UUID | None = None,
        booking_id: uuid.UUID | None = None,
        bulk_id: uuid.UUID | None = None,
        dedupe_key: str | None = None,
        subject: str | None = None,
        written_body: str | None = None,
        reply_to: str | None = None,
        created_by: str | None = None,
        message_id: uuid.UUID | None = None,
        context: dict[str, str] | None = None,
    ) -> Message:
        return cls(
            id=message_id or uuid.uuid4(),
            tenant_id=tenant_id,
            kind=kind,
            channel=channel,
            due_at=due_at,
            customer_id=customer_id,
            booking_id=booking_id,
            bulk_id=bulk_id,
            dedupe_key=dedupe_key,
            subject=subject,
            written_body=written_body,
            reply_to=reply_to,
            created_by=created_by,
            context=context,
        )

    @classmethod
    def reply(
        cls,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        from_number: str,
        to_number: str | None,
        body: str,
        provider_id: str,
        now: datetime,
        announce: bool = True,
    ) -> Message:
        """A reply the customer sent (inbound SMS): kept in the log, and announced to
        staff unless it was a keyword (STOP, START, HELP)."""
        message = cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            kind=Kind.reply,
            channel="sms",
            direction="inbound",
            status=Status.received,
            customer_id=customer_id,
            due_at=now,
            recipient=to_number,
            sender=from_number,
            body=body,
            provider_id=provider_id,
            sent_at=now,
        )
        if announce:
            message.record(
                MessageReceived(
                    message_id=message.id,
                    customer_id=customer_id,
                    channel="sms",
                    template=Kind.reply.value,
                    body=body,
                    from_number=from_number,
                )
            )
        return message

    # --- facts ----------------------------------------------------------------------

    @property
    def is_reminder(self) -> bool:
        return self.kind in REMINDERS

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def _facts(self) -> dict[str, object]:
        return {
            "message_id": self.id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "template": self.kind.value,
            "subject": self.subject,
        }

    # --- before sending -----------------------------------------------------------------

    def is_claimed_by(self, token: uuid.UUID) -> bool:
        return self.status == Status.queued and self.claim_token == token

    def skip(self, reason: str) -> None:
        """Not sent, and never will be (no consent, no contact, customer gone)."""
        if self.status != Status.queued:
            return
        self.change(
            status=Status.skipped,
            error_code="skipped",
            error_message=reason,
            claim_token=None,
            claimed_until=None,
        )
        self.forget_secret()

    def postpone(self, until: datetime, reason: str) -> None:
        """Not yet (the customer's contact details have not arrived)."""
        self.change(due_at=until, error_message=reason, claim_token=None, claimed_until=None)

    def cancel(self, reason: str) -> bool:
        """Only a message not yet handed to a provider can be called off."""
        if self.status != Status.queued:
            return False
        self.change(
            status=Status.cancelled,
            error_code="cancelled",
            error_message=reason,
            claim_token=None,
            claimed_until=None,
        )
        return True

    def start_sending(
        self,
        *,
        recipient: str,
        sender: str | None,
        subject: str | None,
        body: str,
        segments: int | None,
        template_version: int | None,
        now: datetime,
    ) -> None:
        if self.status != Status.queued:
            raise ConflictError(f"a {self.status} message cannot be sent", field="status")
        self.change(
            status=Status.sending,
            recipient=recipient,
            sender=sender,
            subject=subject,
            body=body,
            segments=segments,
            template_version=template_version,
            attempts=self.attempts + 1,
            sending_at=now,
            outcome_unknown=False,
            claim_token=None,
            claimed_until=None,
        )

    # --- what the provider said ---------------------------------------------------------

    def forget_secret(self) -> None:
        """A one-time link is kept only until the message is sent or given up."""
        link = (self.context or {}).get("link")
        if not link:
            return
        context = {k: v for k, v in (self.context or {}).items() if k != "link"}
        body = self.body.replace(link, LINK_REMOVED) if self.body else self.body
        self.change(context=context, body=body)

    def settle(
        self, outcome: Outcome, *, now: datetime, retry_at: datetime, max_attempts: int
    ) -> None:
        """Apply the answer to the one request made for the current attempt."""
        self._settle(outcome, now=now, retry_at=retry_at, max_attempts=max_attempts)
        if self.status not in (Status.queued, Status.sending):
            self.forget_secret()

    def _settle(
        self, outcome: Outcome, *, now: datetime, retry_at: datetime, max_attempts: int
    ) -> None:
        if self.status != Status.sending:
            # A status callback came first (it carries the SID too): keep what it said.
            if isinstance(outcome, Accepted) and self.provider_id is None:
                self.change(provider_id=outcome.provider_id)
            return
        match outcome:
            case Accepted(provider_id, status):
                # Accepted is at least sent (Twilio answers "queued": it has it now).
                if _RANK.get(status, 0) < _RANK[Status.sent]:
                    status = Status.sent
                self._forward(status, now, provider_id=provider_id)
            case Transient(code, message, _):
                if self.attempts >= max_attempts:
                    self._fail(code, f"gave up after {self.attempts} attempts: {message}")
                else:
                    self.change(
                        status=Status.queued,
                        due_at=retry_at,
                        error_code=code,
                        error_message=message,
                        sending_at=None,
                    )
            case Permanent(code, message):
                self._fail(code, message)
            case Unknown(message):
                self.change(outcome_unknown=True, error_code="unknown", error_message=message)

    def provider_reported(
        self,
        status: Status,
        *,
        now: datetime,
        provider_id: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """A status callback (or a lookup at the provider): only ever forward."""
        if self.status not in _RANK or _RANK[status] <= _RANK[self.status]:
            if provider_id and self.provider_id is None:
                self.change(provider_id=provider_id)
            return
        if self.status == Status.queued:
            return  # never sent by us: nothing a provider says applies
        if status in (Status.failed, Status.undelivered):
            self._fail(error_code or status.value, f"provider reported {status.value}", status)
            if provider_id and self.provider_id is None:
                self.change(provider_id=provider_id)
            return
        self._forward(status, now, provider_id=provider_id)

    def found_at_provider(self, provider_id: str, status: Status, now: datetime) -> None:
        """The provider has the request whose outcome was unknown: it was accepted."""
        if self.status != Status.sending:
            return
        if _RANK.get(status, 0) < _RANK[Status.sent]:
            status = Status.sent
        self.provider_reported(status, now=now, provider_id=provider_id)

    def not_at_provider(self, now: datetime) -> None:
        """The provider has no record of the request whose outcome was unknown: it was
        never accepted, so sending it again sends it once."""
        if self.status != Status.sending:
            return
        self.change(
            status=Status.queued,
            due_at=now,
            outcome_unknown=False,
            error_code="not_accepted",
            error_message="the provider had no record of the earlier attempt",
            sending_at=None,
        )

    def outcome_lost(self) -> None:
        """Unknown, and no provider can tell (SMTP): recorded as failed, never resent."""
        if self.status == Status.sending:
            self._fail("unknown", "the outcome of the send is unknown; not sent again")
            self.forget_secret()

    def _forward(self, status: Status, now: datetime, *, provider_id: str | None) -> None:
        was_sent = _RANK[self.status] >= _RANK[Status.sent]
        values: dict[str, object] = {
            "status": status,
            "outcome_unknown": False,
            "error_code": None,
            "error_message": None,
        }
        if provider_id and self.provider_id is None:
            values["provider_id"] = provider_id
        if not was_sent:
            values["sent_at"] = now
        if status == Status.delivered:
            values["delivered_at"] = now
        self.change(**values)
        if not was_sent:
            self.record(MessageSent(**self._facts()))  # type: ignore[arg-type]
        if status == Status.delivered:
            self.record(MessageDelivered(**self._facts()))  # type: ignore[arg-type]

    def _fail(self, code: str, message: str, status: Status = Status.failed) -> None:
        self.change(
            status=status,
            error_code=code,
            error_message=message[:500],
            outcome_unknown=False,
        )
        self.record(
            MessageFailed(**self._facts(), error=f"{code}: {message}"[:500], permanent=True)  # type: ignore[arg-type]
        )

    # --- erasure ---------------------------------------------------------------------

    def scrub(self) -> None:
        """GDPR erasure: the recipient and the words go, the row (and so the counts) stays."""
        values: dict[str, object] = {
            "recipient": None,
            "subject": None,
            "body": None,
            "written_body": None,
            "reply_to": None,
            "context": None,
            "erased": True,
        }
        if self.direction == "inbound":
            values["sender"] = None
        self.change(**values)


def retry_at(now: datetime, outcome: Outcome, attempt: int, *, base: float, cap: float) -> datetime:
    delay = backoff(attempt, base=base, cap=cap)
    if isinstance(outcome, Transient) and outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return now + timedelta(seconds=delay)
