"""Rooms and bays, each at one location."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, select

from frontdesk.kit.db import TableRepository
from frontdesk.scheduling.adapters.tables import rooms


class RoomRepository(TableRepository[RowMapping]):
    table = rooms
    what = "room"

    async def all(self, location_id: uuid.UUID | None = None) -> Sequence[RowMapping]:
        stmt = select(rooms).where(rooms.c.tenant_id == self.tenant_id)
        if location_id is not None:
            stmt = stmt.where(rooms.c.location_id == location_id)
        return await self._all(stmt.order_by(rooms.c.name, rooms.c.id))
