"""Locations (each with its IANA time zone)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

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

    async def names(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The names of these locations only (a chain has hundreds; a page shows a few)."""
        if not ids:
            return {}
        rows = await self._all(
            select(locations.c.id, locations.c.name).where(
                locations.c.tenant_id == self.tenant_id, locations.c.id.in_(list(ids))
            )
        )
        return {row["id"]: row["name"] for row in rows}
