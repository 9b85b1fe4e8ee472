"""A tenant's sender settings (its Twilio auth token sealed at rest), and the send slots
that keep every sender to its rate across all workers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import TableRepository
from frontdesk.kit.errors import StaleVersion
from frontdesk.kit.upsert import insert
from frontdesk.notifications.adapters.secrets import Secrets
from frontdesk.notifications.adapters.tables import send_slots, sender_settings
from frontdesk.notifications.domain.senders import SenderSettings

s = sender_settings


class SenderSettingsRepository(TableRepository[SenderSettings]):
    table = s
    what = "sender settings"

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, secrets: Secrets) -> None:
        super().__init__(session, tenant_id)
        self.secrets = secrets

    def load(self, row: RowMapping) -> SenderSettings:
        found = SenderSettings.from_row(row)
        found.twilio_auth_token = self.secrets.open(row["twilio_auth_token"])
        return found

    async def current(self, *, for_update: bool = False) -> SenderSettings:
        """The tenant's settings; an empty set (version 0) when it saved none."""
        found = await self.get(self.tenant_id, for_update=for_update)
        return found if found is not None else SenderSettings.empty(self.tenant_id)

    async def store(self, settings: SenderSettings, expected_version: int | None) -> SenderSettings:
        """Insert or replace, only while the row is still at ``expected_version`` (when
        given; 0 means "none saved yet"), else ``StaleVersion``."""
        values = settings.to_row()
        values["twilio_auth_token"] = self.secrets.seal(settings.twilio_auth_token)
        values.pop("updated_at", None)
        values["id"] = values["tenant_id"] = self.tenant_id
        values["version"] = 1
        changes = {k: v for k, v in values.items() if k not in ("id", "tenant_id", "version")}
        where = None if expected_version is None else s.c.version == expected_version
        stmt = (
            insert(s)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[s.c.tenant_id],
                set_={**changes, "version": s.c.version + 1, "updated_at": func.now()},
                where=where,
            )
            .returning(s)
        )
        row = await self._first(stmt)
        if row is None:
            current = await self.current()
            raise StaleVersion(self.what, current.version)
        return self.load(row)


class SendSlots:
    """Every send of a sender takes the next slot, ``1 / per_second`` after the one before;
    a worker reserves slots only up to ``lookahead`` seconds ahead (so a second worker
    takes the slots after them), and sends each message at its slot's time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def room(
        self, owner: uuid.UUID, sender: str, per_second: float, lookahead: float
    ) -> tuple[datetime, int, datetime]:
        """(the sender's next free slot, how many slots fit before ``lookahead`` seconds
        from now, the database's clock), with the sender's row locked until commit."""
        await self.session.execute(
            insert(send_slots)
            .values(tenant_id=owner, sender=sender, next_at=func.clock_timestamp())
            .on_conflict_do_nothing()
        )
        row = (
            await self.session.execute(
                select(send_slots.c.next_at, func.clock_timestamp())
                .where(send_slots.c.tenant_id == owner, send_slots.c.sender == sender)
                .with_for_update()
            )
        ).one()
        next_at, now = row[0], row[1]
        start = max(next_at, now)
        ahead = (start - now).total_seconds()
        fits = int((lookahead - ahead) * per_second) + 1 if ahead <= lookahead else 0
        return start, fits, now

    async def take(
        self, owner: uuid.UUID, sender: str, start: datetime, count: int, per_second: float
    ) -> None:
        """``count`` slots from ``start`` are taken: the next free one follows them."""
        await self.session.execute(
            send_slots.update()
            .where(send_slots.c.tenant_id == owner, send_slots.c.sender == sender)
            .values(next_at=start + timedelta(seconds=count / per_second))
        )
