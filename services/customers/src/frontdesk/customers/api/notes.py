"""/v1/customers/{id}/notes (C8) and /v1/customers/{id}/activity (C18)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.customers.api.common import NoteReader, activity_cursor, activity_cursor_of
from frontdesk.customers.api.schemas import (
    ActivityItem,
    ActivityPage,
    NoteCreate,
    NoteOut,
    NotePatch,
)
from frontdesk.customers.application import notes
from frontdesk.kit.auth import StaffPrincipal
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/customers/{customer_id}", tags=["notes and activity"])


@router.get("/notes", response_model=list[NoteOut])
async def list_notes(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: NoteReader
) -> list[NoteOut]:
    """Pinned first, then newest first; private notes only to their author."""
    return [NoteOut.of(n) for n in await notes.timeline(uow, principal, customer_id)]


@router.post("/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def add_note(
    customer_id: uuid.UUID, body: NoteCreate, uow: UnitOfWorkDep, principal: NoteReader
) -> NoteOut:
    note = await notes.add(
        uow,
        principal,
        customer_id,
        text=body.text,
        visibility=body.visibility.value,
        pinned=body.pinned,
    )
    return NoteOut.of(note)


@router.patch("/notes/{note_id}", response_model=NoteOut)
async def pin_note(
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    body: NotePatch,
    uow: UnitOfWorkDep,
    principal: NoteReader,
) -> NoteOut:
    """Pin or unpin (anyone who sees the note)."""
    return NoteOut.of(await notes.pin(uow, principal, customer_id, note_id, pinned=body.pinned))


@router.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(
    customer_id: uuid.UUID, note_id: uuid.UUID, uow: UnitOfWorkDep, principal: NoteReader
) -> Response:
    """Only the author deletes a note."""
    await notes.delete(uow, principal, customer_id, note_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/activity", response_model=ActivityPage)
async def activity(
    customer_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ActivityPage:
    """Notes, bookings, messages and invoices, newest first. Notes appear only for those
    allowed to see them."""
    after = activity_cursor(cursor)
    rows = await notes.activity(uow, principal, customer_id, after=after, limit=limit + 1)
    items, next_cursor = split_page(rows, limit, activity_cursor_of)
    return ActivityPage(items=[ActivityItem(**r) for r in items], next_cursor=next_cursor)
