"""What the repositories share: keyset pages (in creation order, or by another time)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Table, and_, or_

# The sort key of lists in creation order: (created_at, id) of the last row read.
CreatedKey = tuple[datetime, uuid.UUID]


def created_page(
    stmt: Select[tuple[object]], table: Table, limit: int, after: CreatedKey | None
) -> Select[tuple[object]]:
    """``limit`` rows of ``stmt`` in creation order, after the row keyed ``after``."""
    return keyset_page(stmt, (table.c.created_at, table.c.id), limit, after)


def keyset_page(
    stmt: Select[tuple[object]],
    key: tuple[ColumnElement[datetime], ColumnElement[uuid.UUID]],
    limit: int,
    after: CreatedKey | None,
) -> Select[tuple[object]]:
    """``limit`` rows of ``stmt`` in the order of ``key`` (a time, then an id to break
    ties), after the row keyed ``after``."""
    at, row_id = key
    if after is not None:
        after_at, after_id = after
        stmt = stmt.where(or_(at > after_at, and_(at == after_at, row_id > after_id)))
    return stmt.order_by(at, row_id).limit(limit)
