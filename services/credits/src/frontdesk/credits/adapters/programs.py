"""Program products, programs and the bookings they paid. Locks: a booking's debit row,
then the customer's programs (earliest expiry first), then the credit account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, func, select, update

from frontdesk.credits.adapters.catalogue import CatalogueRepository
from frontdesk.credits.adapters.common import CreatedKey, created_page
from frontdesk.credits.adapters.tables import program_products, program_uses, programs
from frontdesk.credits.domain.programs import Program, ProgramProduct, ProgramStatus
from frontdesk.kit.db import AggregateRepository, Prepared, session_writes
from frontdesk.kit.upsert import insert as pg_insert

p = programs
u = program_uses


_ACTIVE = Prepared(
    select(p)
    .where(
        p.c.tenant_id == bindparam("tenant_id"),
        p.c.customer_id == bindparam("customer_id"),
        p.c.status == ProgramStatus.active,
        p.c.sessions_used < p.c.sessions_total,
    )
    .order_by(p.c.expires_at.asc().nulls_last(), p.c.created_at, p.c.id)
    .with_for_update()
)


_CONFIRM_USE = Prepared(
    update(u)
    .where(
        u.c.tenant_id == bindparam("tenant_id"),
        u.c.booking_id == bindparam("booking_id"),
        u.c.status == "held",
    )
    .values(status="confirmed", starts_at=bindparam("starts_at"), updated_at=func.now())
)


class ProgramProductRepository(CatalogueRepository[ProgramProduct]):
    table = program_products
    aggregate = ProgramProduct
    what = "program product"


class ProgramRepository(AggregateRepository[Program]):
    table = p
    aggregate = Program
    what = "program"

    async def lock_active_of(self, customer_id: uuid.UUID) -> list[Program]:
        """The customer's programs that may still pay, locked, earliest expiry first (every
        booking's debit asks: one prepared statement)."""
        rows = await session_writes(self.session).rows(
            _ACTIVE, tenant_id=self.tenant_id, customer_id=customer_id
        )
        return [Program.from_row(row) for row in rows]

    async def lock_open_of(self, customer_id: uuid.UUID) -> list[Program]:
        stmt = (
            select(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.status == ProgramStatus.active,
            )
            .order_by(p.c.id)
            .with_for_update()
        )
        return [self.load(row) for row in await self._all(stmt)]

    async def page(
        self, limit: int, after: CreatedKey | None = None, *, customer_id: uuid.UUID | None
    ) -> list[Program]:
        stmt = select(p).where(p.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(p.c.customer_id == customer_id)
        return [self.load(row) for row in await self._all(created_page(stmt, p, limit, after))]

    # --- the bookings a program paid --------------------------------------------------

    async def add_use(
        self,
        program: Program,
        booking_id: uuid.UUID,
        sessions: int,
        starts_at: datetime,
    ) -> None:
        await self.session.execute(
            pg_insert(u).values(
                tenant_id=self.tenant_id,
                booking_id=booking_id,
                program_id=program.id,
                customer_id=program.customer_id,
                sessions=sessions,
                status="held",
                starts_at=starts_at,
            )
        )

    async def set_use(
        self, booking_id: uuid.UUID, *, only_from: Sequence[str] = (), **values: Any
    ) -> bool:
        """Change the booking's use (its status or start); False when it has none."""
        where = and_(u.c.tenant_id == self.tenant_id, u.c.booking_id == booking_id)
        if only_from:
            where = and_(where, u.c.status.in_(list(only_from)))
        stmt = (
            update(u).where(where).values(**values, updated_at=func.now()).returning(u.c.booking_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def confirm_use(self, booking_id: uuid.UUID, starts_at: datetime) -> None:
        """The booking a program holds a session for is confirmed (every confirmed booking
        asks, most have no program: one prepared statement)."""
        await session_writes(self.session).execute(
            _CONFIRM_USE, tenant_id=self.tenant_id, booking_id=booking_id, starts_at=starts_at
        )

    async def next_sessions(
        self, program_ids: Sequence[uuid.UUID], now: datetime
    ) -> dict[uuid.UUID, datetime]:
        """Each program's next session: the earliest confirmed booking still to come."""
        if not program_ids:
            return {}
        stmt = (
            select(u.c.program_id, func.min(u.c.starts_at))
            .where(
                u.c.tenant_id == self.tenant_id,
                u.c.program_id.in_(list(program_ids)),
                u.c.status == "confirmed",
                u.c.starts_at > now,
            )
            .group_by(u.c.program_id)
        )
        return {row[0]: row[1] for row in (await self.session.execute(stmt)).all()}

    async def uses(self, program_id: uuid.UUID) -> Sequence[RowMapping]:
        stmt = (
            select(u)
            .where(u.c.tenant_id == self.tenant_id, u.c.program_id == program_id)
            .order_by(u.c.starts_at)
        )
        return await self._all(stmt)
