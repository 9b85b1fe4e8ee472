"""Appointments, read with their location's zone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, and_, func, update

from frontdesk.scheduling.adapters.base import PlacedRepository, occurrences_from
from frontdesk.scheduling.adapters.tables import appointments, customer_assets
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

    async def following(
        self, series_id: uuid.UUID, recurrence_at: datetime, *, for_update: bool = False
    ) -> list[Appointment]:
        """The occurrences of a series from ``recurrence_at`` on, in the rule's order."""
        return await occurrences_from(self, series_id, recurrence_at, for_update=for_update)

    def load(self, row: RowMapping) -> Appointment:
        found = super().load(row)
        if "asset_label" in row:
            found.asset_label = row["asset_label"]
        return found

    def _zoned(self) -> Select[Any]:
        """With the label of the asset it names (customers' copy), for the answers."""
        return (
            super()
            ._zoned()
            .add_columns(customer_assets.c.label.label("asset_label"))
            .outerjoin(
                customer_assets,
                and_(
                    customer_assets.c.tenant_id == appointments.c.tenant_id,
                    customer_assets.c.asset_id == appointments.c.asset_id,
                ),
            )
        )
