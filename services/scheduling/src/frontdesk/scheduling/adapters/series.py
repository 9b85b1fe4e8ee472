"""Recurring series (the rule; the occurrences are sessions and appointments)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import TenantRepository
from frontdesk.scheduling.adapters.tables import series
from frontdesk.scheduling.domain.series import GROW_WHEN_LEFT, Series


class SeriesRepository(TenantRepository):
    async def add(self, planned: Series) -> None:
        await self.session.execute(insert(series).values(**planned.columns()))

    async def get(self, series_id: uuid.UUID, *, lock: bool = False) -> Series | None:
        """The series (``lock``: locked, or None while another transaction holds it)."""
        stmt = select(series).where(series.c.tenant_id == self.tenant_id, series.c.id == series_id)
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        row = await self._first(stmt)
        if row is None:
            return None
        return Series(**{k: row[k] for k in Series.__dataclass_fields__})

    async def save(self, changed: Series) -> None:
        values = changed.columns()
        await self.session.execute(
            update(series)
            .where(series.c.tenant_id == self.tenant_id, series.c.id == changed.id)
            .values(**{k: values[k] for k in ("occurrences", "made_until", "ended_from")})
        )


async def series_to_grow(
    session: AsyncSession, now: datetime, limit: int = 200
) -> Sequence[RowMapping]:
    """(id, tenant_id) of open-ended series of every tenant whose window is running out."""
    result = await session.execute(
        select(series.c.id, series.c.tenant_id)
        .where(
            series.c.open_ended,
            series.c.ended_from.is_(None),
            series.c.made_until < now + GROW_WHEN_LEFT,
        )
        .order_by(series.c.made_until)
        .limit(limit)
    )
    return result.mappings().all()
