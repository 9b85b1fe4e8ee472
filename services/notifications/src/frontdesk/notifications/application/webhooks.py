"""Twilio's requests to us: status callbacks and inbound SMS. Each must carry a valid
``X-Twilio-Signature`` (the SDK's validator, under the auth token of the tenant's
account or the platform's); anything unsigned or forged is refused (403) before
anything is read or changed."""

from __future__ import annotations

import dataclasses
import uuid

from frontdesk.kit.errors import NotAllowed, NotFoundError
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.twilio import signature_valid
from frontdesk.notifications.application.common import Repositories, utcnow
from frontdesk.notifications.application.contacts import opt_out_number
from frontdesk.notifications.domain.contacts import keyword
from frontdesk.notifications.domain.messages import TWILIO_STATUS, Message
from frontdesk.notifications.settings import NotificationsSettings


@dataclasses.dataclass(frozen=True)
class Signed:
    """A webhook request as Twilio made it: the full URL it called, its form fields and
    its signature header."""

    url: str
    params: dict[str, str]
    signature: str

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None


async def _verify(repos: Repositories, settings: NotificationsSettings, request: Signed) -> None:
    tokens = [settings.twilio_auth_token.get_secret_value()]
    own = await repos.senders(settings).current()
    if own.twilio_auth_token:
        tokens.insert(0, own.twilio_auth_token)
    if not any(signature_valid(t, request.url, request.params, request.signature) for t in tokens):
        raise NotAllowed("The request is not signed by Twilio (X-Twilio-Signature).")


async def status_callback(
    uow: UnitOfWork,
    settings: NotificationsSettings,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    request: Signed,
) -> None:
    """Twilio reports a message's status: it only ever moves forward."""
    repos = Repositories(uow, tenant_id)
    await _verify(repos, settings, request)
    status = TWILIO_STATUS.get(request.get("MessageStatus") or request.get("SmsStatus") or "")
    message = await repos.messages.get(message_id, for_update=True)
    if message is None:
        raise NotFoundError.of("message")
    if status is not None:
        message.provider_reported(
            status,
            now=utcnow(),
            provider_id=request.get("MessageSid") or request.get("SmsSid"),
            error_code=request.get("ErrorCode"),
        )
        await repos.messages.save(message)
        uow.publish_recorded(message)
    await uow.commit()


async def inbound(
    uow: UnitOfWork, settings: NotificationsSettings, tenant_id: uuid.UUID, request: Signed
) -> str | None:
    """A customer's reply. STOP (and its synonyms) turns SMS off for the number, START
    turns it back on, HELP is answered with the venue's contact; any other reply is
    kept in the log and reaches staff (``notifications.message.received``). Answers the
    text to reply with, if any."""
    repos = Repositories(uow, tenant_id)
    await _verify(repos, settings, request)
    sender, body = request.get("From"), request.params.get("Body", "")
    sid = request.get("MessageSid") or request.get("SmsSid")
    if sender is None or sid is None:
        await uow.commit()
        return None
    if await repos.messages.by_provider_id(sid) is not None:
        await uow.commit()  # Twilio sent it again: it was taken the first time
        return None
    word = keyword(body)
    contacts = await repos.contacts.with_phone(sender)
    if word == "stop":
        await opt_out_number(uow, repos, sender, "reply")
    elif word == "start":
        await repos.contacts.lock_number(sender)
        await repos.contacts.opt_in(sender)
        for contact in contacts:
            if contact.set_consent("sms", True, "reply"):
                await repos.contacts.save(contact)
                uow.publish_recorded(contact)
    known = [c for c in contacts if not c.gone]
    message = Message.reply(
        tenant_id=tenant_id,
        customer_id=known[0].id if len(known) == 1 else None,
        from_number=sender,
        to_number=request.get("To"),
        body=body,
        provider_id=sid,
        now=utcnow(),
        announce=word is None,
    )
    await repos.messages.add(message)
    uow.publish_recorded(message)
    reply = None
    if word == "help":
        venue = (await repos.senders(settings).current()).venue
        contact_line = " ".join(x for x in (venue.phone, venue.email) if x)
        reply = f"{venue.name or 'Frontdesk'}: {contact_line}. Reply STOP to unsubscribe."
    await uow.commit()
    return reply
