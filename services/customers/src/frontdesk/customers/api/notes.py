"""/v1/customers/{id}/notes (C8) and /v1/customers/{id}/activity (C18)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from frontdesk.customers.adapters.notes import NoteRepository
from frontdesk.customers.adapters.queries import cursor_id, cursor_time
from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.customers.api.common import existing
from frontdesk.customers.api.schemas import (
    ActivityItem,
    ActivityPage,
    NoteCreate,
    NoteOut,
    NotePatch,
)
from frontdesk.customers.domain.notes import can_delete, can_see
from frontdesk.kit.auth import Permission, Principal, StaffPrincipal, require
from frontdesk.kit.pagination import (
    DEFAULT_PAGE,
    PageLimit,
    bad_cursor,
    decode_cursor,
    encode_cursor,
    split_page,
)
from frontdesk.kit.problems import Forbidden, InvalidInput, NotFound
from frontdesk.kit.service import RuntimeDep

router = APIRouter(prefix="/v1/customers/{customer_id}", tags=["notes and activity"])

NoteReader = Annotated[Principal, Depends(require(Permission.view_notes))]


async def _note(
    repo: NoteRepository, customer_id: uuid.UUID, note_id: uuid.UUID, principal: Principal
) -> Any:
    row = await repo.get(customer_id, note_id)
    if row is None or not can_see(
        visibility=row["visibility"], author_sub=row["author_sub"], viewer_sub=principal.sub
    ):
        raise NotFound("No such note.")
    return row


@router.get("/notes", response_model=list[NoteOut])
async def list_notes(
    customer_id: uuid.UUID, rt: RuntimeDep, principal: NoteReader
) -> list[NoteOut]:
    """Pinned first, then newest first; private notes only to their author."""
    async with rt.uow() as uow:
        await existing(CustomerRepository(uow.session, principal.tenant_id), customer_id)
        rows = await NoteRepository(uow.session, principal.tenant_id).timeline(
            customer_id, principal.sub
        )
    return [NoteOut.of(r) for r in rows]


@router.post("/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def add_note(
    customer_id: uuid.UUID, body: NoteCreate, rt: RuntimeDep, principal: NoteReader
) -> NoteOut:
    text = body.text.strip()
    if not text:
        raise InvalidInput.for_field("text", "must not be blank")
    async with rt.uow() as uow:
        await existing(
            CustomerRepository(uow.session, principal.tenant_id), customer_id, editable=True
        )
        row = await NoteRepository(uow.session, principal.tenant_id).add(
            {
                "id": uuid.uuid4(),
                "customer_id": customer_id,
                "author_sub": principal.sub,
                "author_name": principal.name,
                "text": text,
                "visibility": body.visibility.value,
                "pinned": body.pinned,
            }
        )
        await uow.commit()
    return NoteOut.of(row)


@router.patch("/notes/{note_id}", response_model=NoteOut)
async def pin_note(
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    body: NotePatch,
    rt: RuntimeDep,
    principal: NoteReader,
) -> NoteOut:
    """Pin or unpin (anyone who sees the note)."""
    async with rt.uow() as uow:
        repo = NoteRepository(uow.session, principal.tenant_id)
        await _note(repo, customer_id, note_id, principal)
        row = await repo.set_pinned(note_id, body.pinned)
        await uow.commit()
    return NoteOut.of(row)


@router.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(
    customer_id: uuid.UUID, note_id: uuid.UUID, rt: RuntimeDep, principal: NoteReader
) -> Response:
    """Only the author deletes a note."""
    async with rt.uow() as uow:
        repo = NoteRepository(uow.session, principal.tenant_id)
        row = await _note(repo, customer_id, note_id, principal)
        if not can_delete(author_sub=row["author_sub"], viewer_sub=principal.sub):
            raise Forbidden("Only the author can delete a note.")
        await repo.delete(note_id)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _encode(occurred_at: datetime, item_id: uuid.UUID) -> str:
    return encode_cursor({"t": occurred_at, "i": item_id})


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    data = decode_cursor(cursor)
    try:
        return cursor_time(data["t"]), cursor_id(data["i"])
    except (ValueError, KeyError, TypeError):
        raise bad_cursor() from None


@router.get("/activity", response_model=ActivityPage)
async def activity(
    customer_id: uuid.UUID,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ActivityPage:
    """Notes, bookings, messages and invoices, newest first. Notes appear only for those
    allowed to see them."""
    after = _decode(cursor) if cursor else None
    async with rt.uow() as uow:
        await existing(CustomerRepository(uow.session, principal.tenant_id), customer_id)
        rows = await NoteRepository(uow.session, principal.tenant_id).activity(
            customer_id,
            notes_for=principal.sub,
            include_notes=principal.can(Permission.view_notes),
            after=after,
            limit=limit + 1,
        )
    rows, next_cursor = split_page(rows, limit, lambda r: _encode(r["occurred_at"], r["id"]))
    return ActivityPage(items=[ActivityItem(**r) for r in rows], next_cursor=next_cursor)
