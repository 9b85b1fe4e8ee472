"""Notes and the activity timeline: queries, each filtered by tenant and customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from frontdesk.customers.adapters.tables import customer_activity, notes
from frontdesk.kit.db import TenantRepository

n = notes.c
a = customer_activity.c


class NoteRepository(TenantRepository):
    def _visible(self, viewer_sub: str | None) -> ColumnElement[bool]:
        """Team notes and the viewer's private ones (``None``: all, for access requests)."""
        if viewer_sub is None:
            return literal(True)
        return or_(n.visibility == "team", n.author_sub == viewer_sub)

    async def add(self, values: dict[str, Any]) -> RowMapping:
        stmt = insert(notes).values(tenant_id=self.tenant_id, **values).returning(notes)
        row: RowMapping = (await self.session.execute(stmt)).mappings().one()
        return row

    async def get(self, customer_id: uuid.UUID, note_id: uuid.UUID) -> RowMapping | None:
        stmt = (
            select(notes)
            .where(n.tenant_id == self.tenant_id, n.customer_id == customer_id, n.id == note_id)
            .with_for_update()
        )
        return (await self.session.execute(stmt)).mappings().first()

    async def timeline(self, customer_id: uuid.UUID, viewer_sub: str | None) -> list[RowMapping]:
        """Pinned first, then newest first."""
        stmt = (
            select(notes)
            .where(
                n.tenant_id == self.tenant_id,
                n.customer_id == customer_id,
                self._visible(viewer_sub),
            )
            .order_by(n.pinned.desc(), n.created_at.desc(), n.id.desc())
        )
        return list((await self.session.execute(stmt)).mappings().all())

    async def set_pinned(self, note_id: uuid.UUID, pinned: bool) -> RowMapping:
        stmt = (
            update(notes)
            .where(n.tenant_id == self.tenant_id, n.id == note_id)
            .values(pinned=pinned, updated_at=func.now())
            .returning(notes)
        )
        row: RowMapping = (await self.session.execute(stmt)).mappings().one()
        return row

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
