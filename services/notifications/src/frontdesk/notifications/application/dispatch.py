"""The sender worker: due messages out through Twilio and SMTP, each at most once.

A run (the worker's periodic job; tests call ``run`` directly) goes on until nothing is
due and nothing is in hand:

1. **Claim.** For each tenant and channel with due messages, the sender's next send
   slots are reserved (``send_slots``, locked: every worker takes slots from one
   sequence, so the sender keeps to its provisioned rate across all of them, and only a
   few seconds ahead) and as many messages are claimed (``FOR UPDATE SKIP LOCKED``)
   with a lease: a worker that dies leaves them to be claimed again when it lapses.
2. **Decide.** Shortly before their slots (``dispatch_prepare_seconds``), claimed
   messages are read again with their customers, bookings, consent and templates and
   decided on (``domain.compose``), one transaction per tenant: skipped, postponed, or
   marked ``sending`` with their words, and COMMITTED, before the provider is called.
3. **Send** each at its slot, then **settle** the answers that came in, again one
   transaction per tenant: accepted → ``sent`` (``notifications.message.sent``);
   refused for now → queued again after a backoff; refused for good → ``failed``
   (21610 also turns the number's SMS consent off); no answer → left ``sending``
   with its outcome unknown.
4. **Reconcile.** A message ``sending`` for longer than the grace period (its worker died
   mid-send, or the answer never came) is looked up at Twilio: found → its status is
   taken; not there → it was never accepted and is queued again. An email cannot be
   looked up: it is recorded as failed and never sent twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters import dispatch as queries
from frontdesk.notifications.adapters.senders import SendSlots
from frontdesk.notifications.adapters.smtp import Mailer
from frontdesk.notifications.adapters.twilio import Twilio
from frontdesk.notifications.application.common import (
    Repositories,
    platform_email,
    platform_sms,
    utcnow,
)
from frontdesk.notifications.application.contacts import opt_out_number
from frontdesk.notifications.domain.bookings import Booking
from frontdesk.notifications.domain.compose import Send, Skip, Wait, decide
from frontdesk.notifications.domain.contacts import Contact
from frontdesk.notifications.domain.messages import (
    Accepted,
    Channel,
    Message,
    Outcome,
    Permanent,
    Status,
    Unknown,
    retry_at,
)
from frontdesk.notifications.domain.senders import EmailSender, SenderSettings, SmsSender
from frontdesk.notifications.domain.templates import DEFAULTS, Template
from frontdesk.notifications.domain.tenants import TenantCopy, language, venue
from frontdesk.notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)

PASS_SECONDS = 0.1  # between claim rounds while messages are in hand
CACHE_SECONDS = 5.0  # a tenant's settings and templates, within one run
WAIT_FOR_CONTACT_SECONDS = 5.0  # a message waiting for its customer's details looks again


@dataclasses.dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    reconciled: int = 0


@dataclasses.dataclass(frozen=True)
class Claim:
    tenant_id: uuid.UUID
    message_id: uuid.UUID
    token: uuid.UUID
    at: float  # the loop time of its send slot


@dataclasses.dataclass(frozen=True)
class Tenant:
    settings: SenderSettings
    copy: TenantCopy | None  # the tenant as the gateway told it (name, language, zone)
    templates: dict[tuple[str, Channel], Template]
    sms: SmsSender
    email: EmailSender
    read_at: float

    def sender(self, channel: str) -> SmsSender | EmailSender:
        return self.sms if channel == "sms" else self.email


@dataclasses.dataclass(frozen=True)
class Started:
    message: Message
    sender: SmsSender | EmailSender
    at: float  # the loop time of its send slot


class Dispatcher:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        settings: NotificationsSettings,
        twilio: Twilio,
        mailer: Mailer,
    ) -> None:
        self._uow = uow
        self.settings = settings
        self.twilio = twilio
        self.mailer = mailer
        self.report = Report()
        self._tenants: dict[uuid.UUID, Tenant] = {}
        self._in_hand = 0  # claimed and not yet settled (or let go)
        self._outcomes: list[tuple[Started, Outcome]] = []
        self._reconciled_at = float("-inf")

    # --- the run ---------------------------------------------------------------------------

    async def run(self) -> Report:
        loop = asyncio.get_running_loop()
        waiting: list[Claim] = []  # claimed, not yet decided on
        async with asyncio.TaskGroup() as tasks:
            while True:
                if loop.time() - self._reconciled_at >= self._reconcile_every:
                    self._reconciled_at = loop.time()
                    await self.reconcile()
                claims = await self.claim_round()
                self._in_hand += len(claims)
                waiting += claims
                # Decided on in one transaction per tenant a little ahead of their slots,
                # so each request leaves at its slot however long the decision took.
                horizon = loop.time() + self.settings.dispatch_prepare_seconds + PASS_SECONDS
                due = [c for c in waiting if c.at <= horizon]
                waiting = [c for c in waiting if c.at > horizon]
                for started in await self.prepare(due):
                    tasks.create_task(self._send_at(started))
                await self.flush()
                if not waiting and self._in_hand == 0:
                    break
                await asyncio.sleep(PASS_SECONDS)
        return self.report

    @property
    def _reconcile_every(self) -> float:
        return max(self.settings.unknown_outcome_grace_seconds / 4, 1.0)

    async def _send_at(self, started: Started) -> None:
        """The request at its slot; its outcome is settled with others (``flush``)."""
        try:
            await _until(started.at)
            outcome = await self.send(started)
        except Exception:
            # Left sending: the lookup after the grace period settles it, never a resend.
            log.exception("sending message %s failed", started.message.id)
            self._in_hand -= 1
            return
        self._outcomes.append((started, outcome))

    # --- 1. claim ----------------------------------------------------------------------------

    async def claim_round(self) -> list[Claim]:
        async with self._uow() as uow:
            now = await queries.database_now(uow.session)
            groups = await queries.due_groups(uow.session, now)
        random.shuffle(groups)  # no tenant always first on a shared sender
        sharing: dict[str, int] = {}
        resolved = []
        for tenant_id, channel in groups:
            sender = (await self.tenant(tenant_id)).sender(channel)
            sharing[sender.key] = sharing.get(sender.key, 0) + 1
            resolved.append((tenant_id, channel, sender))
        claims: list[Claim] = []
        for tenant_id, channel, sender in resolved:
            claims += await self._claim(tenant_id, channel, sender, sharing[sender.key])
        return claims

    async def _claim(
        self, tenant_id: uuid.UUID, channel: str, sender: SmsSender | EmailSender, sharing: int
    ) -> list[Claim]:
        s = self.settings
        per_second = sender.per_second
        fair_share = max(1, int(per_second * s.dispatch_lookahead_seconds / sharing) + 1)
        token = uuid.uuid4()
        async with self._uow() as uow:
            slots = SendSlots(uow.session)
            start, room, now = await slots.room(
                sender.owner, sender.key, per_second, s.dispatch_lookahead_seconds
            )
            if room <= 0:
                return []
            ids = await queries.claim(
                uow.session,
                tenant_id,
                channel,
                min(room, fair_share),
                token=token,
                until=now + timedelta(seconds=s.claim_lease_seconds),
                now=now,
            )
            if ids:
                await slots.take(sender.owner, sender.key, start, len(ids), per_second)
            await uow.session.commit()
        base = asyncio.get_running_loop().time() + (start - now).total_seconds()
        self.report.claimed += len(ids)
        return [
            Claim(tenant_id, message_id, token, base + i / per_second)
            for i, message_id in enumerate(ids)
        ]

    async def tenant(self, tenant_id: uuid.UUID) -> Tenant:
        """A tenant's senders and templates, read at most every few seconds in a run."""
        known = self._tenants.get(tenant_id)
        if known is not None and time.monotonic() - known.read_at < CACHE_SECONDS:
            return known
        async with self._uow() as uow:
            repos = Repositories(uow, tenant_id)
            settings = await repos.senders(self.settings).current()
            templates = {(t.kind.value, t.channel): t for t in await repos.templates.all()}
            copy = await repos.tenant.get()
        found = Tenant(
            settings=settings,
            copy=copy,
            templates=templates,
            sms=settings.sms_sender(platform_sms(self.settings)),
            email=settings.email_sender(platform_email(self.settings)),
            read_at=time.monotonic(),
        )
        self._tenants[tenant_id] = found
        return found

    # --- 2. decide -------------------------------------------------------------------------

    async def prepare(self, claims: list[Claim]) -> list[Started]:
        """Decide on claimed messages now, one transaction per tenant: skipped, postponed,
        or committed as ``sending`` with their words (``Started``)."""
        by_tenant: dict[uuid.UUID, list[Claim]] = {}
        for claim in claims:
            by_tenant.setdefault(claim.tenant_id, []).append(claim)
        started: list[Started] = []
        for tenant_id, group in by_tenant.items():
            try:
                started += await self._prepare(tenant_id, group)
            except Exception:
                # Their leases lapse and they are claimed again.
                log.exception("could not decide on %d messages", len(group))
                self._in_hand -= len(group)
        return started

    async def _prepare(self, tenant_id: uuid.UUID, group: list[Claim]) -> list[Started]:
        tenant = await self.tenant(tenant_id)
        claims = {c.message_id: c for c in group}
        started: list[Started] = []
        async with self._uow() as uow:
            repos = Repositories(uow, tenant_id)
            found = await repos.messages.get_many(list(claims), for_update=True)
            mine = [m for m in found if m.is_claimed_by(claims[m.id].token)]
            self._in_hand -= len(group) - len(mine)  # cancelled meanwhile, or taken over
            bookings = await repos.bookings.get_many(
                {m.booking_id for m in mine if m.booking_id is not None}
            )
            for message in mine:
                booking = bookings.get(message.booking_id) if message.booking_id else None
                if message.customer_id is None and booking and booking.customer_id:
                    message.change(customer_id=booking.customer_id)
            contacts = await repos.contacts.get_many(
                {m.customer_id for m in mine if m.customer_id is not None}
            )
            # A merged customer's messages go to the survivor's details (until unmerged).
            survivors = await repos.contacts.get_many(
                {c.merged_into for c in contacts.values() if c.merged_into is not None}
            )
            for customer_id, known in list(contacts.items()):
                if known.merged_into is not None and known.merged_into in survivors:
                    contacts[customer_id] = survivors[known.merged_into]
            phones = {c.phone for c in contacts.values() if c.phone}
            opted_out = await repos.contacts.opted_out_of(phones)
            now = utcnow()
            for message in mine:
                booking = bookings.get(message.booking_id) if message.booking_id else None
                contact = contacts.get(message.customer_id) if message.customer_id else None
                if contact is not None and contact.event_version == 0 and not contact.gone:
                    contact = None  # only preferences so far: the details are yet to come
                decision = self._decide(tenant, message, contact, booking, opted_out, now)
                sender = tenant.sender(message.channel)
                if isinstance(decision, Send):
                    self._start(message, decision, sender, now)
                    started.append(Started(message, sender, claims[message.id].at))
                else:
                    if isinstance(decision, Wait):
                        wait = timedelta(seconds=WAIT_FOR_CONTACT_SECONDS)
                        message.postpone(now + wait, decision.reason)
                    else:
                        message.skip(decision.reason)
                        self.report.skipped += 1
                    self._in_hand -= 1
                await repos.messages.save(message)
            await uow.commit()
        return started

    def _decide(
        self,
        tenant: Tenant,
        message: Message,
        contact: Contact | None,
        booking: Booking | None,
        opted_out: set[str],
        now: datetime,
    ) -> Send | Skip | Wait:
        template = tenant.templates.get((message.kind.value, message.channel))
        if template is None and (message.kind, message.channel) in DEFAULTS:
            template = Template.default(message.tenant_id, message.kind, message.channel)
        if template is None:
            template = Template.written(
                message.tenant_id,
                message.kind,
                message.channel,
                message.written_body or "",
                message.subject,
            )
        created = message.created_at or now
        waited = (now - created).total_seconds() >= self.settings.contact_wait_seconds
        phone = contact.phone if contact else None
        return decide(
            message,
            contact=contact,
            booking=booking,
            template=template,
            venue=venue(tenant.settings, tenant.copy),
            language=language(tenant.settings, tenant.copy, self.settings.default_language),
            number_opted_out=message.channel == "sms" and phone in opted_out,
            waited_enough=waited,
            now=now,
        )

    @staticmethod
    def _start(
        message: Message, decision: Send, sender: SmsSender | EmailSender, now: datetime
    ) -> None:
        if isinstance(sender, EmailSender):
            label: str | None = sender.from_
        else:
            label = sender.from_ or sender.messaging_service_sid
        message.start_sending(
            recipient=decision.recipient,
            sender=label,
            subject=decision.rendered.subject,
            body=decision.rendered.body,
            segments=decision.segments,
            template_version=decision.template_version,
            now=now,
        )
        if isinstance(sender, EmailSender) and message.reply_to is None:
            message.change(reply_to=sender.reply_to)

    # --- 3. send and settle -----------------------------------------------------------------

    def status_callback(self, message: Message) -> str:
        base = self.settings.callback_base()
        return f"{base}/v1/twilio/status/{message.tenant_id}/{message.id}"

    async def send(self, started: Started) -> Outcome:
        message, sender = started.message, started.sender
        assert message.recipient is not None and message.body is not None
        if isinstance(sender, SmsSender):
            return await self.twilio.send(
                sender, message.recipient, message.body, self.status_callback(message)
            )
        return await self.mailer.send(
            sender,
            to=message.recipient,
            subject=message.subject or "",
            body=message.body,
            reply_to=message.reply_to,
            message_key=str(message.id),
        )

    async def flush(self) -> None:
        """Settle the answers that came in, one transaction per tenant."""
        outcomes, self._outcomes = self._outcomes, []
        by_tenant: dict[uuid.UUID, list[tuple[Started, Outcome]]] = {}
        for started, outcome in outcomes:
            by_tenant.setdefault(started.message.tenant_id, []).append((started, outcome))
        for tenant_id, answers in by_tenant.items():
            try:
                await self.settle(tenant_id, answers)
            except Exception:
                # Left sending: the lookup after the grace period settles them.
                log.exception("could not settle %d messages", len(answers))
            finally:
                self._in_hand -= len(answers)

    async def settle(self, tenant_id: uuid.UUID, answers: list[tuple[Started, Outcome]]) -> None:
        s = self.settings
        async with self._uow() as uow:
            repos = Repositories(uow, tenant_id)
            found = await repos.messages.get_many(
                [started.message.id for started, _ in answers], for_update=True
            )
            by_id = {message.id: message for message in found}
            now = utcnow()
            for started, outcome in answers:
                message = by_id.get(started.message.id)
                if message is None:
                    continue
                message.settle(
                    outcome,
                    now=now,
                    retry_at=retry_at(
                        now,
                        outcome,
                        message.attempts,
                        base=s.retry_base_seconds,
                        cap=s.retry_max_seconds,
                    ),
                    max_attempts=s.max_attempts,
                )
                if isinstance(outcome, Permanent) and outcome.unsubscribed and message.recipient:
                    await opt_out_number(uow, repos, message.recipient, "provider")
                await repos.messages.save(message)
                uow.publish_recorded(message)
                self._count(message, outcome)
            await uow.commit()

    def _count(self, message: Message, outcome: Outcome) -> None:
        if isinstance(outcome, Accepted):
            self.report.sent += 1
        elif isinstance(outcome, Unknown):
            self.report.unknown += 1
        elif message.status == Status.queued:
            self.report.retried += 1
        else:
            self.report.failed += 1

    # --- 4. reconcile ---------------------------------------------------------------------------

    async def reconcile(self) -> int:
        grace = timedelta(seconds=self.settings.unknown_outcome_grace_seconds)
        async with self._uow() as uow:
            stuck = await queries.unknown_outcomes(uow.session, utcnow() - grace)
        done = 0
        for tenant_id, message_id in stuck:
            try:
                done += await self._reconcile_one(tenant_id, message_id)
            except Exception as error:  # Twilio unreachable: ask again next time
                log.warning("cannot settle message %s yet: %r", message_id, error)
        self.report.reconciled += done
        return done

    async def _reconcile_one(self, tenant_id: uuid.UUID, message_id: uuid.UUID) -> int:
        async with self._uow() as uow:
            message = await Repositories(uow, tenant_id).messages.get(message_id)
        if message is None or message.status != Status.sending:
            return 0
        found = None
        if message.channel == "sms":
            sender = (await self.tenant(tenant_id)).sms
            assert message.recipient is not None and message.body is not None
            found = await self.twilio.find(
                sender, message.recipient, message.body, message.sending_at or utcnow()
            )
        async with self._uow() as uow:
            repos = Repositories(uow, tenant_id)
            current = await repos.messages.get(message_id, for_update=True)
            if current is None or current.status != Status.sending:
                return 0
            if current.sending_at != message.sending_at:
                return 0
            now = utcnow()
            if current.channel == "email":
                current.outcome_lost()
            elif found is not None:
                current.found_at_provider(found.provider_id, found.status, now)
            else:
                current.not_at_provider(now)
            await repos.messages.save(current)
            uow.publish_recorded(current)
            await uow.commit()
        return 1


async def _until(at: float) -> None:
    delay = at - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


async def run(uow: Callable[[], UnitOfWork], settings: NotificationsSettings) -> Report:
    """Send everything due now (and what comes due while sending), then return."""
    twilio = Twilio(settings.twilio_api_base, settings.twilio_timeout_seconds)
    async with twilio, Mailer(settings) as mailer:
        return await Dispatcher(uow, settings, twilio, mailer).run()
