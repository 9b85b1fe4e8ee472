"""Settings of the notifications service (environment only, prefix ``FRONTDESK_``).

The defaults point at the development stand-ins (``python -m
frontdesk.notifications.standins``: a fake Twilio on 8010, an SMTP server on 8025).
Production changes settings only: ``FRONTDESK_TWILIO_API_BASE=https://api.twilio.com``,
the platform's Twilio account, and the SMTP relay (see the README).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from frontdesk.kit.settings import Settings

TWILIO_API = "https://api.twilio.com"


class NotificationsSettings(Settings):
    # --- Twilio: where the SDK sends, and the platform's default sender ---------------
    # The SDK's requests go to this origin instead of https://api.twilio.com (the fake
    # in development and tests); Twilio's own origin means no rewriting at all.
    twilio_api_base: str = "http://127.0.0.1:8010"
    # The sender of tenants that configured no Twilio account of their own.
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("development-twilio-auth-token")
    twilio_from: str | None = "+15005550006"
    twilio_messaging_service_sid: str | None = None
    # Provisioned messages per second of that default sender (Twilio: 1 for a long code).
    sms_per_second: float = Field(default=10.0, gt=0, le=1000)
    # A request that has not answered by then may have been accepted: never resent blindly.
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)

    # --- SMTP: the platform's relay -------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    email_from: str = "Frontdesk <no-reply@frontdesk.localhost>"
    email_per_second: float = Field(default=20.0, gt=0, le=1000)

    # Where Twilio reaches this service's webhooks (status callbacks are sent to
    # ``<public_url>/v1/twilio/status/...``); unset: http://<host>:<port>. Signatures are
    # checked against this URL, so it must be the one Twilio calls.
    public_url: str | None = None
    # Key (Fernet, url-safe base64 of 32 bytes) that encrypts tenants' Twilio auth tokens
    # at rest; unset: derived from the JWT secret.
    secrets_key: SecretStr | None = None

    # --- the sender worker --------------------------------------------------------
    # How often the worker looks for due messages when it has nothing in hand.
    dispatch_every_seconds: float = Field(default=0.5, gt=0)
    # How far ahead send slots are reserved for a sender (messages claimed in advance).
    dispatch_lookahead_seconds: float = Field(default=2.0, gt=0)
    # A message is decided on (consent, words) and marked sending this long before its
    # slot, so its request leaves on time; a STOP within this window applies to the next.
    dispatch_prepare_seconds: float = Field(default=0.25, ge=0, le=5)
    # A claimed message no worker started within this time is claimed again (its worker died).
    claim_lease_seconds: float = Field(default=20.0, gt=0)
    # A send whose outcome is unknown (timeout after the request went out, a crash) is
    # looked up at Twilio after this long, and sent again only if Twilio has no record.
    unknown_outcome_grace_seconds: float = Field(default=30.0, gt=0)
    # Transient errors retry after base * 2^(attempt-1) seconds (at most max), for at most
    # ``max_attempts`` attempts.
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # A message for a customer whose contact details have not arrived yet waits this long.
    contact_wait_seconds: float = Field(default=900.0, gt=0)
    default_language: str = "en"

    def callback_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
