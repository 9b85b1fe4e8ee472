"""A tenant's sender settings (admins): its Twilio account, email addresses, venue
contact and language. The auth token is written, never read back."""

from __future__ import annotations

import dataclasses
from typing import Any

from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.application.common import Repositories
from frontdesk.notifications.domain.senders import SenderSettings
from frontdesk.notifications.settings import NotificationsSettings


async def current(
    uow: UnitOfWork, principal: Principal, settings: NotificationsSettings
) -> SenderSettings:
    return await Repositories(uow, principal.tenant_id).senders(settings).current()


async def replace(
    uow: UnitOfWork,
    principal: Principal,
    settings: NotificationsSettings,
    values: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> SenderSettings:
    """Replace the settings with ``values`` (a field left out is cleared, except the auth
    token: left out, the stored one stays while the account stays the same)."""
    repo = Repositories(uow, principal.tenant_id).senders(settings)
    before = await repo.current(for_update=True)
    before.require_version(expected_version, "sender settings")
    token = values.get("twilio_auth_token")
    if token is None and values.get("twilio_account_sid") == before.twilio_account_sid:
        token = before.twilio_auth_token
    fields = {f.name for f in dataclasses.fields(SenderSettings) if f.init}
    after = SenderSettings(
        id=principal.tenant_id,
        tenant_id=principal.tenant_id,
        **{k: v for k, v in values.items() if k in fields and k != "twilio_auth_token"},
        twilio_auth_token=token,
    )
    after.check()
    saved = await repo.store(after, expected_version=before.version)
    await uow.commit()
    return saved
