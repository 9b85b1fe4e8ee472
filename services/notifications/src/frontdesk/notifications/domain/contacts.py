"""Whom a message goes to, and whether it may: the customer's contact details (kept from
customers' events), their consent per channel, and the numbers that replied STOP.

An opt-out by reply belongs to the NUMBER (Twilio blocks the number, whoever it is
stored for), so it is kept per number and honoured for every customer with it; the
consent per channel is the customer's preference (staff or the customer set it).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any, Literal

from frontdesk.contracts.notifications import ConsentChanged
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import StaleVersion
from frontdesk.notifications.domain.messages import Channel

ConsentSource = Literal["reply", "provider", "staff", "customer"]

# Twilio's default opt-out, opt-in and help keywords (a reply that is only the word).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOPP"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})

Keyword = Literal["stop", "start", "help"]


def keyword(body: str) -> Keyword | None:
    """The keyword a reply is, if it is one: the whole message, any case, trailing
    punctuation and spaces ignored ("Stop.", " stop ", "STOP!")."""
    word = body.strip().strip(".!?,;").strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


@dataclasses.dataclass(kw_only=True, eq=False)
class Contact(Aggregate):
    """One customer as notifications knows them (``id`` is the customer's id).
    ``event_version`` is the customer's ``aggregate_version`` in customers;
    ``consent_version`` counts changes of consent only, so the preferences' ETag does not
    go stale when the customer's name or address arrives from customers."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    sms_consent: bool = True
    email_consent: bool = True
    consent_version: int = 1
    language: str | None = None
    merged_into: uuid.UUID | None = None
    event_version: int = 0
    deleted: bool = False
    erased: bool = False
    updated_at: datetime | None = None

    @property
    def gone(self) -> bool:
        return self.deleted or self.erased

    def told(self, version: int, **values: Any) -> bool:
        """Details from a newer customers event; an older one changes nothing."""
        if version <= self.event_version or self.erased:
            return False
        self.change(event_version=version, **values)
        return True

    def address(self, channel: Channel) -> str | None:
        return self.phone if channel == "sms" else self.email

    def consents(self, channel: Channel) -> bool:
        return self.sms_consent if channel == "sms" else self.email_consent

    def set_consent(self, channel: Channel, consent: bool, source: ConsentSource) -> bool:
        """Record a change of consent (and tell customers); False when it already was."""
        if self.consents(channel) == consent:
            return False
        self.change(**{f"{channel}_consent": consent}, consent_version=self.consent_version + 1)
        self.record(
            ConsentChanged(customer_id=self.id, channel=channel, consent=consent, source=source)
        )
        return True

    def require_consent_version(self, expected: int | None) -> None:
        """A preferences edit made against ``expected`` (If-Match) applies only while the
        consents are as they were then (else ``StaleVersion``, 412)."""
        if expected is not None and expected != self.consent_version:
            raise StaleVersion("preferences", self.consent_version)

    def scrub(self) -> None:
        self.change(
            first_name=None,
            last_name=None,
            email=None,
            phone=None,
            language=None,
            erased=True,
        )


def why_not(channel: Channel, contact: Contact | None, *, number_opted_out: bool) -> str | None:
    """Why a message on ``channel`` may not go to ``contact`` (None: it may)."""
    if contact is None:
        return "the customer is not known"
    if contact.gone:
        return "the customer was deleted"
    if not contact.address(channel):
        return f"the customer has no {'phone number' if channel == 'sms' else 'email address'}"
    if not contact.consents(channel):
        return f"the customer does not want {channel} messages"
    if channel == "sms" and number_opted_out:
        return "the number replied STOP"
    return None


def new_contact(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Contact:
    return Contact(id=customer_id, tenant_id=tenant_id)
