"""Recurring series (the rule; the occurrences are sessions and appointments)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from frontdesk.kit.db import TenantRepository
from frontdesk.scheduling.adapters.tables import series
from frontdesk.scheduling.domain.series import Series


class SeriesRepository(TenantRepository):
    async def add(self, planned: Series) -> None:
        await self.session.execute(insert(series).values(**planned.columns()))

    async def get(self, series_id: uuid.UUID) -> Series | None:
        row = await self._first(
            select(series).where(series.c.tenant_id == self.tenant_id, series.c.id == series_id)
        )
        if row is None:
            return None
        return Series(**{k: row[k] for k in Series.__dataclass_fields__})
