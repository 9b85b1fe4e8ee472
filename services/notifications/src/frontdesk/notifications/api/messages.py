"""/v1/messages (the log, direct messages) and /v1/bulk-messages (progress)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.notifications.api.common import Sender, Staff, log_after, log_page, problem
from frontdesk.notifications.api.schemas import (
    BulkProgressOut,
    Channel,
    DirectMessageIn,
    MessageOut,
    MessagePage,
)
from frontdesk.notifications.application import messages
from frontdesk.notifications.domain.messages import Kind, Status

router = APIRouter(prefix="/v1/messages", tags=["messages"])
bulk_router = APIRouter(prefix="/v1/bulk-messages", tags=["messages"])


@router.get("", response_model=MessagePage)
async def list_messages(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    bulk_id: uuid.UUID | None = None,
    kind: Kind | None = None,
    channel: Channel | None = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    direction: Annotated[str | None, Query(pattern="^(outbound|inbound)$")] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MessagePage:
    """The message log, newest first: every SMS and email (queued reminders included,
    with their due time) and every reply. A customer token sees only its own."""
    found = await messages.log(
        uow,
        principal,
        messages.LogFilter(
            customer_id=customer_id,
            booking_id=booking_id,
            bulk_id=bulk_id,
            kind=kind,
            channel=channel,
            status=status_,
            direction=direction,
        ),
        after=log_after(cursor),
        limit=limit,
    )
    items, next_cursor = log_page(found, limit)
    return MessagePage(items=[MessageOut.of(m) for m in items], next_cursor=next_cursor)


@router.get("/{message_id}", response_model=MessageOut)
async def get_message(
    message_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> MessageOut:
    return MessageOut.of(await messages.get(uow, principal, message_id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    responses={
        200: {"model": MessageOut, "description": "Replay of an earlier message (same key)"},
        409: problem("Key reused for another message, or the customer was deleted"),
    },
)
async def send_message(
    body: DirectMessageIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: Sender,
    idempotency_key: IdempotencyKey = None,
) -> MessageOut:
    """A message from staff to one customer (needs ``send_emails``), queued to go out at
    once; an email's answers go to ``reply_to`` (the staff member). Consent and contact
    are checked when it is sent (it is ``skipped`` with the reason if it may not go)."""
    outcome = await messages.send_direct(
        uow,
        principal,
        messages.DirectMessage(
            customer_id=body.customer_id,
            channel=body.channel,
            body=body.body,
            subject=body.subject,
            reply_to=body.reply_to,
        ),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{outcome.message.id}"
    return MessageOut.of(outcome.message)


@bulk_router.get("/{request_id}", response_model=BulkProgressOut)
async def bulk_progress(
    request_id: uuid.UUID, uow: UnitOfWorkDep, principal: Staff
) -> BulkProgressOut:
    """How far a bulk message (customers' ``bulk_message.requested``) has come: its
    messages counted by status; ``done`` once none is queued or being sent."""
    found = await messages.bulk_progress(uow, principal, request_id)
    return BulkProgressOut(
        id=found.id,
        channel=found.channel,  # type: ignore[arg-type]
        total=found.total,
        requested_by=found.requested_by,
        counts=found.counts,
        done=found.done,
    )
