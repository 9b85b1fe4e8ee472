"""The message log, direct messages from staff, and bulk messages (customers'
``bulk_message.requested``) with their progress."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import BulkMessageRequested
from frontdesk.contracts.identity import AccountEmailRequested
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.bulk import BulkRepository
from frontdesk.notifications.adapters.messages import LogKey
from frontdesk.notifications.adapters.tables import idempotency_keys
from frontdesk.notifications.application.common import Repositories, utcnow
from frontdesk.notifications.domain.messages import Channel, Kind, Message, Status
from frontdesk.notifications.domain.templates import Template, written_subject

# --- the log -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LogFilter:
    customer_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    bulk_id: uuid.UUID | None = None
    kind: Kind | None = None
    channel: Channel | None = None
    status: Status | None = None
    direction: str | None = None


async def log(
    uow: UnitOfWork,
    principal: Principal,
    where: LogFilter,
    *,
    after: LogKey | None,
    limit: int,
) -> list[Message]:
    """Newest first; a customer token sees only its own messages."""
    customer_id = principal.customer_scope(where.customer_id)
    repos = Repositories(uow, principal.tenant_id)
    filters: dict[str, Any] = {**dataclasses.asdict(where), "customer_id": customer_id}
    return await repos.messages.page(limit + 1, after, **filters)


async def get(uow: UnitOfWork, principal: Principal, message_id: uuid.UUID) -> Message:
    repos = Repositories(uow, principal.tenant_id)
    message = await repos.messages.require(message_id)
    principal.ensure_sees(message.customer_id, "message")
    return message


# --- direct ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DirectMessage:
    customer_id: uuid.UUID
    channel: Channel
    body: str
    subject: str | None = None
    reply_to: str | None = None  # the staff member's address (email)


@dataclasses.dataclass(frozen=True)
class Created:
    message: Message
    created: bool


async def send_direct(
    uow: UnitOfWork,
    principal: Principal,
    ask: DirectMessage,
    *,
    idempotency_key: str | None = None,
) -> Created:
    """One message from staff to one customer, sent as soon as the worker takes it. The
    body may use the customer's and the venue's variables (``{{ first_name }}``); an
    unknown variable is a 422 naming ``body``. The same ``Idempotency-Key`` answers the
    first message and sends nothing more."""
    written_subject(Kind.direct, ask.channel, ask.subject)
    if ask.channel == "sms" and ask.reply_to is not None:
        raise RuleBroken("reply_to", "only an email has a reply-to address")
    Template.written(principal.tenant_id, Kind.direct, ask.channel, ask.body, ask.subject).check()
    repos = Repositories(uow, principal.tenant_id)
    contact = await repos.contacts.get(ask.customer_id)
    if contact is not None and contact.gone:
        raise ConflictError("The customer was deleted.", field="customer_id")
    message = Message.queue(
        tenant_id=principal.tenant_id,
        kind=Kind.direct,
        channel=ask.channel,
        due_at=utcnow(),
        customer_id=ask.customer_id,
        subject=ask.subject,
        written_body=ask.body,
        reply_to=ask.reply_to,
        created_by=principal.sub,
    )
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, principal.tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "direct_message",
            idempotency_key,
            dataclasses.asdict(ask),
            message.id,
            what="message",
        )
        if earlier is not None:
            return Created(await repos.messages.require(earlier), created=False)
    await repos.messages.add(message)
    await uow.commit()
    return Created(message, created=True)


# --- account emails ---------------------------------------------------------------------


async def account_email_requested(
    uow: UnitOfWork, envelope: Envelope, event: AccountEmailRequested
) -> None:
    """An account email the gateway asks for (welcome, login link, password reset, staff
    invitation): once per request id, to the address given, in the customer's log when
    it is a customer's. Its one-time link is kept only until the email is sent."""
    first_name = (event.name or "").split(" ")[0]
    message = Message.queue(
        tenant_id=envelope.tenant_id,
        kind=Kind(event.kind),
        channel="email",
        due_at=utcnow(),
        customer_id=event.customer_id,
        dedupe_key=f"account:{event.request_id}",
    )
    message.recipient = event.email
    message.expires_at = event.expires_at
    message.context = {
        "first_name": first_name,
        "venue_name": event.tenant_name,
        "link": event.link or "",
        "language": event.language,
    }
    await Repositories(uow, envelope.tenant_id).messages.add_new([message])
    await uow.commit()


# --- bulk -------------------------------------------------------------------------------------


async def bulk_requested(uow: UnitOfWork, envelope: Envelope, event: BulkMessageRequested) -> None:
    """One message per selected customer, each its own row (a redelivered request, even
    under a new message id, adds nothing: the request id is the key). A body that is
    not a valid template is sent as written."""
    tenant_id = envelope.tenant_id
    customers = list(dict.fromkeys(event.customer_ids))
    bulk = BulkRepository(uow.session, tenant_id)
    if await bulk.create(
        event.request_id,
        channel=event.channel,
        total=len(customers),
        requested_by=event.requested_by,
    ):
        subject = event.subject if event.channel == "email" else None
        try:
            Template.written(tenant_id, Kind.bulk, event.channel, event.body, subject).check()
            written, literal = event.body, None
        except RuleBroken:
            written, literal = None, event.body
        now = utcnow()
        messages = []
        for customer_id in customers:
            message = Message.queue(
                tenant_id=tenant_id,
                kind=Kind.bulk,
                channel=event.channel,
                due_at=now,
                customer_id=customer_id,
                bulk_id=event.request_id,
                dedupe_key=f"bulk:{event.request_id}:{customer_id}",
                subject=subject,
                written_body=written,
                created_by=event.requested_by,
            )
            if literal is not None:
                message.body = literal
            messages.append(message)
        await Repositories(uow, tenant_id).messages.add_new(messages)
    await uow.commit()


@dataclasses.dataclass(frozen=True)
class BulkProgress:
    id: uuid.UUID
    channel: str
    total: int
    requested_by: str
    counts: dict[str, int]

    @property
    def done(self) -> bool:
        waiting = self.counts.get(Status.queued, 0) + self.counts.get(Status.sending, 0)
        return waiting == 0


async def bulk_progress(
    uow: UnitOfWork, principal: Principal, request_id: uuid.UUID
) -> BulkProgress:
    row = await BulkRepository(uow.session, principal.tenant_id).get(request_id)
    if row is None:
        raise NotFoundError.of("bulk message")
    counts = await Repositories(uow, principal.tenant_id).messages.counts_of_bulk(request_id)
    return BulkProgress(
        id=request_id,
        channel=row["channel"],
        total=row["total"],
        requested_by=row["requested_by"],
        counts={
            status.value: counts.get(status.value, 0)
            for status in Status
            if status != Status.received
        },
    )
