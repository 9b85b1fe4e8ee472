"""A tenant's sender settings: its own Twilio account (or the platform's), the email from
and reply-to addresses, its venue's contact for templates, and the language messages are
written in. A sender sends at most its provisioned rate, whichever worker sends."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import datetime

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
ALPHANUMERIC_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
PLATFORM = uuid.UUID(int=0)  # the owner of the platform's shared senders


@dataclasses.dataclass(frozen=True)
class SmsSender:
    """Who sends an SMS and how fast: a Twilio account with its number or messaging
    service. ``owner`` is the tenant (or ``PLATFORM`` for the shared default), ``key``
    names it for the rate limit."""

    owner: uuid.UUID
    account_sid: str
    auth_token: str
    from_: str | None
    messaging_service_sid: str | None
    per_second: float

    @property
    def key(self) -> str:
        return f"sms:{self.account_sid}:{self.messaging_service_sid or self.from_}"


@dataclasses.dataclass(frozen=True)
class EmailSender:
    owner: uuid.UUID
    from_: str
    reply_to: str | None
    per_second: float

    @property
    def key(self) -> str:
        return "email:smtp"


@dataclasses.dataclass(frozen=True)
class Venue:
    """The studio as templates name it."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    link: str | None = None

    def variables(self) -> dict[str, str]:
        return {
            "venue_name": self.name or "",
            "venue_phone": self.phone or "",
            "venue_email": self.email or "",
            "link": self.link or "",
        }


@dataclasses.dataclass(kw_only=True, eq=False)
class SenderSettings(Aggregate):
    """One tenant's settings (``id`` is the tenant's id). The auth token is a secret: it
    is stored encrypted and never shown again."""

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_from: str | None = None
    sms_per_second: float | None = None
    email_from: str | None = None
    email_reply_to: str | None = None
    venue_name: str | None = None
    venue_phone: str | None = None
    venue_email: str | None = None
    link: str | None = None
    language: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def empty(cls, tenant_id: uuid.UUID) -> SenderSettings:
        return cls(id=tenant_id, tenant_id=tenant_id, version=0)

    def check(self) -> None:
        sid = self.twilio_account_sid
        if sid is not None and not ACCOUNT_SID.match(sid):
            raise RuleBroken("twilio_account_sid", "must be AC followed by 32 hex digits")
        service = self.twilio_messaging_service_sid
        if service is not None and not SERVICE_SID.match(service):
            raise RuleBroken("twilio_messaging_service_sid", "must be MG followed by 32 hex digits")
        sender = self.twilio_from
        if sender is not None and not (E164.match(sender) or ALPHANUMERIC_ID.match(sender)):
            raise RuleBroken(
                "twilio_from",
                "must be a number in E.164 (+4915...) or an alphanumeric sender ID (1-11)",
            )
        if sid is not None:
            if not self.twilio_auth_token:
                raise RuleBroken("twilio_auth_token", "needed with twilio_account_sid")
            if not (self.twilio_from or service):
                raise RuleBroken("twilio_from", "give twilio_from or twilio_messaging_service_sid")
        elif self.twilio_auth_token or service or sender:
            raise RuleBroken("twilio_account_sid", "the Twilio settings need the account SID")

    def sms_sender(self, platform: SmsSender) -> SmsSender:
        """This tenant's own account when it has one, else the platform's (whose rate
        is shared by every tenant on it)."""
        if self.twilio_account_sid and self.twilio_auth_token:
            return SmsSender(
                owner=self.tenant_id,
                account_sid=self.twilio_account_sid,
                auth_token=self.twilio_auth_token,
                from_=self.twilio_from,
                messaging_service_sid=self.twilio_messaging_service_sid,
                per_second=self.sms_per_second or 1.0,
            )
        return platform

    def email_sender(self, platform: EmailSender) -> EmailSender:
        return dataclasses.replace(
            platform,
            from_=self.email_from or platform.from_,
            reply_to=self.email_reply_to or platform.reply_to,
        )

    @property
    def venue(self) -> Venue:
        return Venue(self.venue_name, self.venue_phone, self.venue_email, self.link)
