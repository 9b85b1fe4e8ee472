"""/v1/contact-preferences/{customer_id}: a customer's consent per channel (staff, or
the customer for itself)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.notifications.api.common import problem
from frontdesk.notifications.api.schemas import Channel, PreferencesOut, PreferencesPatch
from frontdesk.notifications.application import contacts

router = APIRouter(prefix="/v1/contact-preferences", tags=["preferences"])


def _answer(response: Response, found: contacts.Preferences) -> PreferencesOut:
    response.headers["ETag"] = etag(found.version)
    return PreferencesOut(**found.__dict__)


@router.get("/{customer_id}", response_model=PreferencesOut)
async def get_preferences(
    customer_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> PreferencesOut:
    return _answer(response, await contacts.preferences(uow, principal, customer_id))


@router.patch(
    "/{customer_id}",
    response_model=PreferencesOut,
    responses={412: problem("If-Match names another version (current ETag sent)")},
)
async def patch_preferences(
    customer_id: uuid.UUID,
    body: PreferencesPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> PreferencesOut:
    """Turn SMS or email on or off for the customer (checked when each message is sent)."""
    asked = patch_changes(body, ("sms", "email"))
    changes: dict[Channel, bool] = {c: asked[c] for c in ("sms", "email") if c in asked}
    found = await contacts.set_preferences(
        uow, principal, customer_id, changes, expected_version=expected_version(if_match)
    )
    return _answer(response, found)
