"""/v1/templates: the effective templates, a tenant's own (admins), previews (staff)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.notifications.api.common import Admin, NotificationsRuntime, Staff, problem
from frontdesk.notifications.api.schemas import (
    Channel,
    PreviewIn,
    PreviewOut,
    SmsInfoOut,
    TemplateIn,
    TemplateOut,
)
from frontdesk.notifications.application import templates
from frontdesk.notifications.domain.messages import Kind

router = APIRouter(prefix="/v1/templates", tags=["templates"])


@router.get("", response_model=list[TemplateOut])
async def list_templates(uow: UnitOfWorkDep, principal: Staff) -> list[TemplateOut]:
    """Every kind and channel: the tenant's own template, else the default (version 0)."""
    return [TemplateOut.of(t) for t in await templates.effective(uow, principal)]


@router.post("/preview", response_model=PreviewOut)
async def preview_template(
    body: PreviewIn, uow: UnitOfWorkDep, principal: Staff, runtime: NotificationsRuntime
) -> PreviewOut:
    """The message as it would go out, with sample data or a real customer and booking
    (``customer_id``, ``booking_id``); a draft (``body``) is checked like a save. SMS
    answers its encoding, length and segments."""
    found = await templates.preview(
        uow, principal, runtime.settings, templates.PreviewRequest(**body.model_dump())
    )
    sms = found.sms
    return PreviewOut(
        subject=found.rendered.subject,
        body=found.rendered.body,
        length=len(found.rendered.body),
        sms=None if sms is None else SmsInfoOut(**sms.__dict__),
        variables=found.variables,
    )


@router.get("/{kind}/{channel}", response_model=TemplateOut)
async def get_template(
    kind: Kind, channel: Channel, response: Response, uow: UnitOfWorkDep, principal: Staff
) -> TemplateOut:
    found = await templates.get(uow, principal, kind, channel)
    response.headers["ETag"] = etag(found.version)
    return TemplateOut.of(found)


@router.put(
    "/{kind}/{channel}",
    response_model=TemplateOut,
    responses={412: problem("If-Match names another version (current ETag sent)")},
)
async def put_template(
    kind: Kind,
    channel: Channel,
    body: TemplateIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: Admin,
    if_match: IfMatch = None,
) -> TemplateOut:
    """The tenant's own template. A variable its kind does not have, a syntax error or a
    template that cannot be rendered (the sandbox refuses it) is a 422 naming the field."""
    saved = await templates.save(
        uow,
        principal,
        kind,
        channel,
        subject=body.subject,
        body=body.body,
        expected_version=_version(if_match),
    )
    response.headers["ETag"] = etag(saved.version)
    return TemplateOut.of(saved)


@router.delete("/{kind}/{channel}", response_model=TemplateOut)
async def reset_template(
    kind: Kind, channel: Channel, uow: UnitOfWorkDep, principal: Admin
) -> TemplateOut:
    """Back to the default."""
    return TemplateOut.of(await templates.reset(uow, principal, kind, channel))


def _version(if_match: str | None) -> int | None:
    # The default answers ETag "0", which the kit's reader does not take as a version.
    if if_match is not None and if_match.strip() == '"0"':
        return 0
    return expected_version(if_match)
