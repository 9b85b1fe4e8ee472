"""/v1/twilio: Twilio's status callbacks and inbound SMS. No bearer token (Twilio has
none): each request must carry a valid ``X-Twilio-Signature``, else 403 and nothing
changes. The signed URL is the one Twilio called: ``FRONTDESK_PUBLIC_URL`` plus the path."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response, status

from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.notifications.api.common import NotificationsRuntime, problem
from frontdesk.notifications.application import webhooks

router = APIRouter(prefix="/v1/twilio", tags=["twilio webhooks"])

_REFUSED: dict[int | str, dict[str, Any]] = {403: problem("No valid X-Twilio-Signature")}


async def _signed(request: Request, runtime: NotificationsRuntime) -> webhooks.Signed:
    raw = (await request.body()).decode("utf-8", errors="replace")
    params = dict(parse_qsl(raw, keep_blank_values=True))
    url = runtime.settings.callback_base() + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return webhooks.Signed(url, params, request.headers.get("X-Twilio-Signature", ""))


@router.post(
    "/status/{tenant_id}/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_REFUSED,
)
async def status_callback(
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    request: Request,
    uow: UnitOfWorkDep,
    runtime: NotificationsRuntime,
) -> Response:
    """A message's status (form fields ``MessageSid``, ``MessageStatus``, ``ErrorCode``)."""
    signed = await _signed(request, runtime)
    await webhooks.status_callback(uow, runtime.settings, tenant_id, message_id, signed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/inbound/{tenant_id}",
    responses={**_REFUSED, 200: {"content": {"text/xml": {}}, "description": "TwiML"}},
)
async def inbound(
    tenant_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, runtime: NotificationsRuntime
) -> Response:
    """An SMS a customer sent to the tenant's number (``From``, ``To``, ``Body``,
    ``MessageSid``): STOP/START/HELP and their synonyms, or a reply for staff."""
    signed = await _signed(request, runtime)
    reply = await webhooks.inbound(uow, runtime.settings, tenant_id, signed)
    twiml = "<Response></Response>"
    if reply:
        twiml = f"<Response><Message>{escape(reply)}</Message></Response>"
    return Response(content=twiml, media_type="text/xml")
