"""What the gateway's repositories share: keyset pages in creation order."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, Table, and_, or_

CreatedKey = tuple[datetime, uuid.UUID]


def created_page(
    stmt: Select[tuple[object]], table: Table, limit: int, after: CreatedKey | None
) -> Select[tuple[object]]:
    """``limit`` rows of ``stmt`` in creation order, after the row keyed ``after``."""
    if after is not None:
        created_at, row_id = after
        stmt = stmt.where(
            or_(
                table.c.created_at > created_at,
                and_(table.c.created_at == created_at, table.c.id > row_id),
            )
        )
    return stmt.order_by(table.c.created_at, table.c.id).limit(limit)
