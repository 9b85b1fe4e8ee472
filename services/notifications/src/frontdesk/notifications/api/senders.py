"""/v1/notification-settings: the tenant's sender settings (owners and admins)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.notifications.api.common import Admin, NotificationsRuntime, problem
from frontdesk.notifications.api.schemas import SenderSettingsIn, SenderSettingsOut
from frontdesk.notifications.application import senders

router = APIRouter(prefix="/v1/notification-settings", tags=["settings"])


@router.get("", response_model=SenderSettingsOut)
async def get_settings(
    response: Response, uow: UnitOfWorkDep, principal: Admin, runtime: NotificationsRuntime
) -> SenderSettingsOut:
    """Version 0: nothing saved (the platform's sender and defaults apply)."""
    found = await senders.current(uow, principal, runtime.settings)
    response.headers["ETag"] = etag(found.version)
    return SenderSettingsOut.of(found)


@router.put(
    "",
    response_model=SenderSettingsOut,
    responses={412: problem("If-Match names another version (current ETag sent)")},
)
async def put_settings(
    body: SenderSettingsIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: Admin,
    runtime: NotificationsRuntime,
    if_match: IfMatch = None,
) -> SenderSettingsOut:
    """Replace the settings. The Twilio auth token is kept encrypted and never answered
    (``twilio_auth_token_set``); sent once, it stays until the account changes."""
    saved = await senders.replace(
        uow,
        principal,
        runtime.settings,
        body.model_dump(),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(saved.version)
    return SenderSettingsOut.of(saved)
