"""Bookings' debits in the saga: one row per booking (the second guard, after the inbox,
that makes a debit happen once whatever the redeliveries)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.credits.adapters.tables import booking_debits as b
from frontdesk.credits.domain.debits import BookingDebit
from frontdesk.kit.db import TableRepository
from frontdesk.kit.upsert import insert as pg_insert


class BookingDebitRepository(TableRepository[BookingDebit]):
    table = b
    what = "booking debit"

    def load(self, row: RowMapping) -> BookingDebit:
        return BookingDebit.from_row(row)

    def _where(self, row_id: uuid.UUID) -> Any:
        return (b.c.tenant_id == self.tenant_id) & (b.c.booking_id == row_id)

    async def claim(self, debit: BookingDebit) -> bool:
        """Insert the booking's row; False if one already exists (then ``lock`` it)."""
        stmt = (
            pg_insert(b)
            .values(tenant_id=self.tenant_id, **debit.to_row())
            .on_conflict_do_nothing()
            .returning(b.c.booking_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def lock(self, booking_id: uuid.UUID) -> BookingDebit:
        return await self.require(booking_id, for_update=True)

    async def save(self, debit: BookingDebit) -> None:
        row = debit.to_row()
        await self.update(debit.booking_id, {k: v for k, v in row.items() if k != "booking_id"})
