"""Templates: the effective one of every kind and channel (the tenant's own, else the
default), saving one (checked: its kind's variables only, renderable), going back to
the default, and previews with sample or real data."""

from __future__ import annotations

import dataclasses
import uuid

from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.application.common import Repositories
from frontdesk.notifications.domain.compose import variables
from frontdesk.notifications.domain.messages import CHANNELS, Channel, Kind
from frontdesk.notifications.domain.templates import (
    DEFAULTS,
    SAMPLE,
    TEMPLATED,
    VARIABLES,
    Rendered,
    SmsInfo,
    Template,
    sms_info,
)
from frontdesk.notifications.domain.tenants import language, venue
from frontdesk.notifications.settings import NotificationsSettings


def _templated(kind: Kind, channel: Channel) -> None:
    if (kind, channel) not in DEFAULTS:
        raise NotFoundError(f"{kind.value} has no {channel} template (its body is written).")


async def effective(uow: UnitOfWork, principal: Principal) -> list[Template]:
    own = {
        (t.kind, t.channel): t for t in await Repositories(uow, principal.tenant_id).templates.all()
    }
    return [
        own.get((kind, channel)) or Template.default(principal.tenant_id, kind, channel)
        for kind in TEMPLATED
        for channel in CHANNELS
        if (kind, channel) in DEFAULTS
    ]


async def get(uow: UnitOfWork, principal: Principal, kind: Kind, channel: Channel) -> Template:
    _templated(kind, channel)
    found = await Repositories(uow, principal.tenant_id).templates.find(kind.value, channel)
    return found or Template.default(principal.tenant_id, kind, channel)


async def save(
    uow: UnitOfWork,
    principal: Principal,
    kind: Kind,
    channel: Channel,
    *,
    subject: str | None,
    body: str,
    expected_version: int | None = None,
) -> Template:
    """The tenant's own template (``If-Match``: the version read; the default is 0)."""
    _templated(kind, channel)
    repo = Repositories(uow, principal.tenant_id).templates
    found = await repo.find(kind.value, channel, for_update=True)
    if found is None:
        if expected_version not in (None, 0):
            Template.default(principal.tenant_id, kind, channel).require_version(
                expected_version, "template"
            )
        template = Template(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            kind=kind,
            channel=channel,
            subject=subject,
            body=body,
            updated_by=principal.sub,
        )
        template.check()
        await repo.add(template)
    else:
        found.require_version(expected_version, "template")
        found.change(subject=subject, body=body, updated_by=principal.sub)
        found.check()
        template = await repo.save(found)
    await uow.commit()
    return template


async def reset(uow: UnitOfWork, principal: Principal, kind: Kind, channel: Channel) -> Template:
    _templated(kind, channel)
    repo = Repositories(uow, principal.tenant_id).templates
    found = await repo.find(kind.value, channel, for_update=True)
    if found is not None:
        await repo.remove(found)
    await uow.commit()
    return Template.default(principal.tenant_id, kind, channel)


@dataclasses.dataclass(frozen=True)
class PreviewRequest:
    kind: Kind
    channel: Channel
    subject: str | None = None  # with body: a draft instead of the saved template
    body: str | None = None
    customer_id: uuid.UUID | None = None  # real data instead of the sample
    booking_id: uuid.UUID | None = None


@dataclasses.dataclass(frozen=True)
class Preview:
    rendered: Rendered
    sms: SmsInfo | None
    variables: list[str]


async def preview(
    uow: UnitOfWork, principal: Principal, settings: NotificationsSettings, ask: PreviewRequest
) -> Preview:
    """The message as it would go out: sample data, or a real customer and booking."""
    if ask.kind not in VARIABLES:
        raise RuleBroken("kind", f"{ask.kind.value} has no template")
    if ask.body is not None:
        template = Template.written(
            principal.tenant_id, ask.kind, ask.channel, ask.body, ask.subject
        )
        template.check()
    elif (ask.kind, ask.channel) in DEFAULTS:
        template = await get(uow, principal, ask.kind, ask.channel)
    else:
        raise RuleBroken("body", f"a {ask.kind.value} message's body is written: give it")
    repos = Repositories(uow, principal.tenant_id)
    values = dict(SAMPLE)
    if ask.customer_id is not None or ask.booking_id is not None:
        contact = None
        if ask.customer_id is not None:
            contact = await repos.contacts.get(ask.customer_id)
            if contact is None or contact.gone:
                raise NotFoundError.of("customer")
        booking = None
        if ask.booking_id is not None:
            booking = await repos.bookings.require(ask.booking_id)
        tenant = await repos.senders(settings).current()
        copy = await repos.tenant.get()
        real = variables(
            ask.kind,
            contact,
            booking,
            venue(tenant, copy),
            language(tenant, copy, settings.default_language),
        )
        values |= {k: v for k, v in real.items() if k in VARIABLES[ask.kind] and v != ""}
    rendered = template.render(values)
    return Preview(
        rendered=rendered,
        sms=sms_info(rendered.body) if ask.channel == "sms" else None,
        variables=sorted(VARIABLES[ask.kind]),
    )
