"""Appointments, read with their location's zone."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, update

from frontdesk.scheduling.adapters.base import PlacedRepository
from frontdesk.scheduling.adapters.tables import appointments
from frontdesk.scheduling.domain.appointments import Appointment


class AppointmentRepository(PlacedRepository[Appointment]):
    table = appointments
    aggregate = Appointment
    what = "appointment"

    async def page(
        self,
        *,
        location_id: uuid.UUID | None = None,
        staff_id: uuid.UUID | None = None,
        room_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int,
    ) -> list[Appointment]:
        """By (starts_at, id), keyset-paginated: those after ``after``, at most ``limit``."""
        return await self._page(
            equal={
                "location_id": location_id,
                "staff_id": staff_id,
                "room_id": room_id,
                "customer_id": customer_id,
            },
            starts_from=starts_from,
            starts_before=starts_before,
            after=after,
            limit=limit,
        )

    async def scrub_customer(self, customer_id: uuid.UUID) -> None:
        """GDPR: the notes go; the anonymous appointment record stays."""
        await self.session.execute(
            update(appointments)
            .where(
                appointments.c.tenant_id == self.tenant_id,
                appointments.c.customer_id == customer_id,
            )
            .values(notes=None, updated_at=func.now())
        )
