"""Notes (C8) and the activity timeline (C18) of one customer."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.customers import CustomerRepository
from frontdesk.customers.adapters.notes import NoteRepository
from frontdesk.customers.domain.notes import Note
from frontdesk.kit.auth import Permission, Principal
from frontdesk.kit.errors import NotAllowed, NotFoundError
from frontdesk.kit.uow import UnitOfWork


async def timeline(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> list[Note]:
    """Pinned first, then newest first; private notes only to their author."""
    await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    return await NoteRepository(uow.session, principal.tenant_id).timeline(
        customer_id, principal.sub
    )


async def add(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    *,
    text: str,
    visibility: str,
    pinned: bool,
) -> Note:
    """A note by the principal; an erased customer takes no more notes."""
    note = Note.write(
        tenant_id=principal.tenant_id,
        customer_id=customer_id,
        author_sub=principal.sub,
        author_name=principal.name,
        text=text,
        visibility=visibility,
        pinned=pinned,
    )
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    customer.ensure_editable()
    saved = await NoteRepository(uow.session, principal.tenant_id).add(note)
    await uow.commit()
    return saved


async def find(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID, note_id: uuid.UUID
) -> Note:
    """The note, locked for a change; one the principal may not see is not there."""
    note = await NoteRepository(uow.session, principal.tenant_id).find(customer_id, note_id)
    if note is None or not note.visible_to(principal.sub):
        raise NotFoundError.of("note")
    return note


async def pin(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    pinned: bool,
) -> Note:
    """Pin or unpin (anyone who sees the note)."""
    note = await find(uow, principal, customer_id, note_id)
    saved = await NoteRepository(uow.session, principal.tenant_id).update(
        note.id, {"pinned": pinned}
    )
    await uow.commit()
    return saved


async def delete(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID, note_id: uuid.UUID
) -> None:
    """Only the author deletes a note."""
    note = await find(uow, principal, customer_id, note_id)
    if not note.deletable_by(principal.sub):
        raise NotAllowed("Only the author can delete a note.")
    await NoteRepository(uow.session, principal.tenant_id).delete(note.id)
    await uow.commit()


async def activity(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    """Notes, bookings, messages and invoices, newest first, ``limit`` of them after
    ``after``; notes appear only for those allowed to see them."""
    await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    return await NoteRepository(uow.session, principal.tenant_id).activity(
        customer_id,
        notes_for=principal.sub,
        include_notes=principal.can(Permission.view_notes),
        after=after,
        limit=limit,
    )
