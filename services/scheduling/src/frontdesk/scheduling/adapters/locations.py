"""Locations (each with its IANA time zone)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, select

from frontdesk.kit.db import TableRepository
from frontdesk.scheduling.adapters.tables import locations


class LocationRepository(TableRepository[RowMapping]):
    table = locations
    what = "location"

    async def all(self) -> Sequence[RowMapping]:
        return await self._all(
            select(locations)
            .where(locations.c.tenant_id == self.tenant_id)
            .order_by(locations.c.name, locations.c.id)
        )

    async def names(self) -> dict[uuid.UUID, str]:
        return {row["id"]: row["name"] for row in await self.all()}
