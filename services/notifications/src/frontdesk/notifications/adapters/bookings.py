"""Bookings as scheduling's events told them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from frontdesk.notifications.adapters.common import ReadModelRepository
from frontdesk.notifications.adapters.tables import bookings as b
from frontdesk.notifications.domain.bookings import Booking


class BookingRepository(ReadModelRepository[Booking]):
    table = b
    aggregate = Booking
    what = "booking"

    async def of_session(self, session_id: uuid.UUID) -> list[Booking]:
        stmt = (
            select(b)
            .where(b.c.tenant_id == self.tenant_id, b.c.session_id == session_id)
            .order_by(b.c.id)
            .with_for_update()
        )
        return [self.load(row) for row in await self._all(stmt)]
