"""Notes, and the activity timeline that merges them with other services' events; every
query filtered by tenant and customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB

from frontdesk.customers.adapters.tables import customer_activity, notes
from frontdesk.customers.domain.notes import Note
from frontdesk.kit.db import TableRepository

n = notes.c
a = customer_activity.c


class NoteRepository(TableRepository[Note]):
    table = notes
    what = "note"

    def load(self, row: RowMapping) -> Note:
        return Note.from_row(row)

    def _visible(self, viewer_sub: str | None) -> ColumnElement[bool]:
        """Team notes and the viewer's private ones (``None``: all, for access requests)."""
        if viewer_sub is None:
            return literal(True)
        return or_(n.visibility == "team", n.author_sub == viewer_sub)

    async def add(self, note: Note) -> Note:
        return await self.insert(note.new_row())

    async def find(self, customer_id: uuid.UUID, note_id: uuid.UUID) -> Note | None:
        """The customer's note, locked for the change that follows."""
        row = await self._first(
            select(notes)
            .where(n.tenant_id == self.tenant_id, n.customer_id == customer_id, n.id == note_id)
            .with_for_update()
        )
        return None if row is None else self.load(row)

    async def timeline(self, customer_id: uuid.UUID, viewer_sub: str | None) -> list[Note]:
        """Pinned first, then newest first."""
        rows = await self._all(
            select(notes)
            .where(
                n.tenant_id == self.tenant_id,
                n.customer_id == customer_id,
                self._visible(viewer_sub),
            )
            .order_by(n.pinned.desc(), n.created_at.desc(), n.id.desc())
        )
        return [self.load(row) for row in rows]

    async def delete(self, note_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(notes).where(n.tenant_id == self.tenant_id, n.id == note_id)
        )

    async def delete_all(self, customer_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(notes).where(n.tenant_id == self.tenant_id, n.customer_id == customer_id)
        )

    async def activity(
        self,
        customer_id: uuid.UUID,
        *,
        notes_for: str | None,
        include_notes: bool,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[RowMapping]:
        """Events from other services and (if the viewer may see them) notes, newest first."""
        parts: list[Any] = [
            select(a.id, a.kind, a.event, a.occurred_at, a.subject_id, a.summary, a.details).where(
                a.tenant_id == self.tenant_id, a.customer_id == customer_id
            )
        ]
        if include_notes:
            parts.append(
                select(
                    n.id,
                    literal("note").label("kind"),
                    literal("note.added").label("event"),
                    n.created_at.label("occurred_at"),
                    n.id.label("subject_id"),
                    func.left(n.text, 200).label("summary"),
                    func.jsonb_build_object(
                        "author_sub",
                        n.author_sub,
                        "author_name",
                        n.author_name,
                        "visibility",
                        n.visibility,
                        "pinned",
                        n.pinned,
                    )
                    .cast(JSONB)
                    .label("details"),
                ).where(
                    n.tenant_id == self.tenant_id,
                    n.customer_id == customer_id,
                    self._visible(notes_for),
                )
            )
        timeline = union_all(*parts).subquery("timeline")
        t = timeline.c
        stmt = select(timeline)
        if after is not None:
            stmt = stmt.where(tuple_(t.occurred_at, t.id) < tuple_(*(literal(v) for v in after)))
        stmt = stmt.order_by(t.occurred_at.desc(), t.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).mappings().all())
