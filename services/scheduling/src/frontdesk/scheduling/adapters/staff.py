"""Staff members and their working hours (stored as JSON slots)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, select

from frontdesk.kit.db import TableRepository
from frontdesk.scheduling.adapters.tables import staff


class StaffRepository(TableRepository[RowMapping]):
    table = staff
    what = "staff member"

    async def all(self, location_id: uuid.UUID | None = None) -> Sequence[RowMapping]:
        stmt = select(staff).where(staff.c.tenant_id == self.tenant_id)
        if location_id is not None:
            stmt = stmt.where(staff.c.location_id == location_id)
        return await self._all(stmt.order_by(staff.c.name, staff.c.id))
