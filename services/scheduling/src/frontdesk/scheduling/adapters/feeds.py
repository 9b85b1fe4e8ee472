"""Calendar feeds: a secret's hash and the scope it shows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import TableRepository
from frontdesk.scheduling.adapters.tables import calendar_feeds


class FeedRepository(TableRepository[RowMapping]):
    table = calendar_feeds
    what = "calendar feed"

    def _where(self, row_id: uuid.UUID) -> Any:
        """Only live feeds: a revoked one is gone."""
        return super()._where(row_id) & calendar_feeds.c.revoked_at.is_(None)

    async def created_by(self, creator: str | None) -> Sequence[RowMapping]:
        """Live feeds, newest first; ``creator`` None: every feed of the tenant."""
        stmt = select(calendar_feeds).where(
            calendar_feeds.c.tenant_id == self.tenant_id,
            calendar_feeds.c.revoked_at.is_(None),
        )
        if creator is not None:
            stmt = stmt.where(calendar_feeds.c.created_by == creator)
        return await self._all(
            stmt.order_by(calendar_feeds.c.created_at.desc(), calendar_feeds.c.id).limit(1000)
        )

    async def revoke(self, feed_id: uuid.UUID) -> None:
        await self.session.execute(
            update(calendar_feeds).where(self._where(feed_id)).values(revoked_at=func.now())
        )

    async def revoke_customer(self, customer_id: uuid.UUID) -> None:
        """A deleted or erased customer's feed URLs stop answering."""
        await self.session.execute(
            update(calendar_feeds)
            .where(
                calendar_feeds.c.tenant_id == self.tenant_id,
                calendar_feeds.c.customer_id == customer_id,
                calendar_feeds.c.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        )


async def feed_by_secret_hash(session: AsyncSession, secret_hash: str) -> RowMapping | None:
    """The live feed a secret URL names, in whichever tenant: the secret is the
    credential (its hash is unique), and the row says which tenant to read."""
    result = await session.execute(
        select(calendar_feeds).where(
            calendar_feeds.c.secret_hash == secret_hash,
            calendar_feeds.c.revoked_at.is_(None),
        )
    )
    return result.mappings().first()
