"""What every router of the credits service shares (HTTP only): the principal who may
manage credits, cursor shapes, the version an ``If-Match`` names, documented answers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends

from frontdesk.kit.auth import Permission, Principal, require
from frontdesk.kit.pagination import CursorInt, decode_cursor, encode_cursor, split_page
from frontdesk.kit.problems import PROBLEM_JSON, ProblemBody
from frontdesk.kit.types import AwareDatetime

CreditsManager = Annotated[Principal, Depends(require(Permission.manage_credits))]

# --- keyset cursors: signed by the kit, read back against their shape -------------------

CreatedCursor = tuple[AwareDatetime, uuid.UUID]  # lists in creation order
SeqCursor = tuple[CursorInt]  # histories in seq order


class Created(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def created_at(self) -> Any: ...


C = TypeVar("C", bound=Created)
R = TypeVar("R", bound=Mapping[Any, Any])


def created_after(cursor: str | None) -> CreatedCursor | None:
    """The (created_at, id) key a list cursor holds; 400 naming ``cursor`` if not ours."""
    if cursor is None:
        return None
    key: CreatedCursor = decode_cursor(cursor, CreatedCursor)
    return key


def seq_after(cursor: str | None) -> int | None:
    """The ``seq`` a history cursor holds; 400 naming ``cursor`` if not ours."""
    return None if cursor is None else int(decode_cursor(cursor, SeqCursor)[0])


def created_page(items: Sequence[C], limit: int) -> tuple[list[C], str | None]:
    """A page of a list read one row past ``limit``, and the cursor to the next one."""
    return split_page(items, limit, lambda item: encode_cursor([item.created_at, item.id]))


def seq_page(rows: Sequence[R], limit: int) -> tuple[list[R], str | None]:
    """A page of a history read one row past ``limit``, and the cursor to the next one."""
    return split_page(rows, limit, lambda row: encode_cursor([row["seq"]]))


# --- documented answers ------------------------------------------------------------------


def problem(description: str) -> dict[str, Any]:
    """A route's own description of an answer (409, 412) as problem+json; the kit
    documents the generic ones on every write and every route taking If-Match."""
    return {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": description}
