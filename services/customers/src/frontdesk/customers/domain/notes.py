"""Note rules (C8): who sees, adds, pins and deletes notes. No framework code here."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from frontdesk.kit.errors import RuleBroken

TEXT_MAX = 2000


class Visibility(StrEnum):
    team = "team"  # everyone allowed to see notes
    private = "private"  # the author alone (admins included: not theirs, not shown)


def can_see(*, visibility: str, author_sub: str, viewer_sub: str) -> bool:
    return visibility == Visibility.team or author_sub == viewer_sub


def can_delete(*, author_sub: str, viewer_sub: str) -> bool:
    return author_sub == viewer_sub


@dataclasses.dataclass(kw_only=True)
class Note:
    id: uuid.UUID
    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    author_sub: str
    author_name: str | None
    text: str
    visibility: str
    pinned: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> Self:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    @classmethod
    def write(
        cls,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        author_sub: str,
        author_name: str | None,
        text: str,
        visibility: str = Visibility.team,
        pinned: bool = False,
    ) -> Self:
        """A new note; its text trimmed and never blank."""
        text = text.strip()
        if not text:
            raise RuleBroken("text", "must not be blank")
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            author_sub=author_sub,
            author_name=author_name,
            text=text,
            visibility=Visibility(visibility).value,
            pinned=pinned,
        )

    def visible_to(self, viewer_sub: str) -> bool:
        return can_see(
            visibility=self.visibility, author_sub=self.author_sub, viewer_sub=viewer_sub
        )

    def deletable_by(self, viewer_sub: str) -> bool:
        """Only the author deletes a note (anyone who sees it may pin it)."""
        return can_delete(author_sub=self.author_sub, viewer_sub=viewer_sub)

    def new_row(self) -> dict[str, Any]:
        """What a new note writes (the database sets its times)."""
        row = dataclasses.asdict(self)
        del row["created_at"], row["updated_at"]
        return row
