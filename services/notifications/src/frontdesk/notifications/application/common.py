"""What the application modules share: the clock, the sealed secrets, the repositories
of one unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.bookings import BookingRepository
from frontdesk.notifications.adapters.contacts import ContactRepository
from frontdesk.notifications.adapters.messages import MessageRepository
from frontdesk.notifications.adapters.secrets import Secrets
from frontdesk.notifications.adapters.senders import SenderSettingsRepository
from frontdesk.notifications.adapters.templates import TemplateRepository
from frontdesk.notifications.adapters.tenants import TenantCopyRepository
from frontdesk.notifications.domain.senders import PLATFORM, EmailSender, SmsSender
from frontdesk.notifications.settings import NotificationsSettings


def utcnow() -> datetime:
    return datetime.now(UTC)


_SECRETS: dict[int, Secrets] = {}


def secrets(settings: NotificationsSettings) -> Secrets:
    found = _SECRETS.get(id(settings))
    if found is None:
        found = _SECRETS[id(settings)] = Secrets(settings)
    return found


class Repositories:
    """The repositories of one tenant on one unit of work."""

    def __init__(self, uow: UnitOfWork, tenant_id: uuid.UUID) -> None:
        session = uow.session
        self.messages = MessageRepository(session, tenant_id)
        self.contacts = ContactRepository(session, tenant_id)
        self.bookings = BookingRepository(session, tenant_id)
        self.templates = TemplateRepository(session, tenant_id)
        self.tenant = TenantCopyRepository(session, tenant_id)

    def senders(self, settings: NotificationsSettings) -> SenderSettingsRepository:
        return SenderSettingsRepository(
            self.messages.session, self.messages.tenant_id, secrets(settings)
        )


def platform_sms(settings: NotificationsSettings) -> SmsSender:
    """The platform's default SMS sender (tenants without a Twilio account of their own)."""
    return SmsSender(
        owner=PLATFORM,
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        from_=settings.twilio_from,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        per_second=settings.sms_per_second,
    )


def platform_email(settings: NotificationsSettings) -> EmailSender:
    return EmailSender(
        owner=PLATFORM,
        from_=settings.email_from,
        reply_to=None,
        per_second=settings.email_per_second,
    )
