"""What holds a trainer or a room, and when: one exclusion constraint refuses any two
overlapping holders (a class against an appointment or another class alike)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import and_, delete, exists, func, insert, literal_column, or_, select

from frontdesk.kit.db import TenantRepository
from frontdesk.scheduling.adapters.base import conflicts
from frontdesk.scheduling.adapters.tables import OCCUPANCY_OVERLAP, occupancy

HolderKind = Literal["session", "appointment"]

# The staff row is taken before the room row, so a clash of both names staff_id.
FIELDS = {
    "staff": {
        OCCUPANCY_OVERLAP: (
            "staff_id",
            "The staff member already has a class or an appointment at that time.",
        )
    },
    "room": {
        OCCUPANCY_OVERLAP: (
            "room_id",
            "The room or bay already has a class or an appointment at that time.",
        )
    },
}


class Holder(Protocol):
    """A session or an appointment: what it holds, and when."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def staff_id(self) -> uuid.UUID | None: ...
    @property
    def room_id(self) -> uuid.UUID | None: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


class OccupancyRepository(TenantRepository):
    async def hold(self, kind: HolderKind, holder: Holder) -> None:
        """In the caller's transaction: the holder lets go of what it held and takes its
        trainer, then its room, for ``[starts_at, ends_at)``. An overlap with anything
        else holding either raises ``ConflictError`` naming ``staff_id`` or ``room_id``
        (waiting for a concurrent holder to commit or roll back first)."""
        await self.release(kind, holder.id)
        for resource, resource_id in (("staff", holder.staff_id), ("room", holder.room_id)):
            if resource_id is None:
                continue
            with conflicts(FIELDS[resource]):
                await self.session.execute(
                    insert(occupancy).values(
                        tenant_id=self.tenant_id,
                        resource_kind=resource,
                        resource_id=resource_id,
                        during=func.tstzrange(
                            holder.starts_at, holder.ends_at, literal_column("'[)'")
                        ),
                        holder_kind=kind,
                        holder_id=holder.id,
                    )
                )

    async def free_for(self, holder: Holder) -> bool:
        """Nothing holds the holder's trainer or room during its time (asked first by work
        that skips a clash rather than refusing, such as growing a series)."""
        taken = [
            and_(occupancy.c.resource_kind == resource, occupancy.c.resource_id == resource_id)
            for resource, resource_id in (("staff", holder.staff_id), ("room", holder.room_id))
            if resource_id is not None
        ]
        if not taken:
            return True
        during = func.tstzrange(holder.starts_at, holder.ends_at, literal_column("'[)'"))
        clash = exists().where(
            occupancy.c.tenant_id == self.tenant_id,
            or_(*taken),
            occupancy.c.during.op("&&")(during),
        )
        return not (await self.session.execute(select(clash))).scalar()

    async def release(self, kind: HolderKind, holder_id: uuid.UUID) -> None:
        """Free whatever the holder held."""
        await self.session.execute(
            delete(occupancy).where(
                occupancy.c.tenant_id == self.tenant_id,
                occupancy.c.holder_kind == kind,
                occupancy.c.holder_id == holder_id,
            )
        )
