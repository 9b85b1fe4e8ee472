"""Login sessions, their refresh tokens, and one-time tokens (all stored as digests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.gateway.adapters.tables import login_sessions, one_time_tokens, refresh_tokens
from frontdesk.gateway.domain.sessions import LoginSession
from frontdesk.kit.db import AggregateRepository, TenantRepository


class SessionRepository(AggregateRepository[LoginSession]):
    table = login_sessions
    aggregate = LoginSession
    what = "session"

    async def active_of(self, account_id: uuid.UUID) -> Sequence[LoginSession]:
        t = self.table
        rows = await self._all(
            select(t)
            .where(
                t.c.tenant_id == self.tenant_id,
                t.c.account_id == account_id,
                t.c.revoked_at.is_(None),
            )
            .order_by(t.c.created_at)
            .with_for_update()
        )
        return [self.load(r) for r in rows]

    async def revoked_ids(self, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        t = self.table
        rows = await self._all(
            select(t.c.id).where(
                t.c.tenant_id == self.tenant_id, t.c.id.in_(ids), t.c.revoked_at.is_not(None)
            )
        )
        return {r["id"] for r in rows}


async def revoked_since(session: AsyncSession, since: datetime) -> Sequence[RowMapping]:
    """Sessions of every tenant ended after ``since`` (the worker repeats them to Redis)."""
    t = login_sessions
    return (
        (
            await session.execute(
                select(t.c.id, t.c.revoked_at)
                .where(t.c.revoked_at > since)
                .order_by(t.c.revoked_at)
                .limit(10_000)
            )
        )
        .mappings()
        .all()
    )


class RefreshTokenRepository(TenantRepository):
    async def add(self, session_id: uuid.UUID, token_hash: bytes, expires_at: datetime) -> None:
        await self.session.execute(
            refresh_tokens.insert().values(
                id=uuid.uuid4(),
                tenant_id=self.tenant_id,
                session_id=session_id,
                token_hash=token_hash,
                expires_at=expires_at,
            )
        )

    async def by_hash(self, token_hash: bytes) -> RowMapping | None:
        """The token, locked: two refreshes with one token are decided one after the other."""
        t = refresh_tokens
        return await self._first(
            select(t)
            .where(t.c.tenant_id == self.tenant_id, t.c.token_hash == token_hash)
            .with_for_update()
        )

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> None:
        t = refresh_tokens
        await self.session.execute(
            update(t).where(t.c.tenant_id == self.tenant_id, t.c.id == token_id).values(used_at=now)
        )


class OneTimeTokenRepository(TenantRepository):
    async def replace(
        self, purpose: str, account_id: uuid.UUID, token_hash: bytes, expires_at: datetime
    ) -> None:
        """A new secret for ``purpose``; earlier unused ones of the account stop working."""
        t = one_time_tokens
        await self.session.execute(
            update(t)
            .where(
                t.c.tenant_id == self.tenant_id,
                t.c.account_id == account_id,
                t.c.purpose == purpose,
                t.c.used_at.is_(None),
            )
            .values(expires_at=t.c.created_at)
        )
        await self.session.execute(
            t.insert().values(
                id=uuid.uuid4(),
                tenant_id=self.tenant_id,
                purpose=purpose,
                account_id=account_id,
                token_hash=token_hash,
                expires_at=expires_at,
            )
        )

    async def take(self, purpose: str, token_hash: bytes, now: datetime) -> Any:
        """The account a valid secret is for, using it up; None if unknown, used or old."""
        t = one_time_tokens
        row = await self._first(
            update(t)
            .where(
                t.c.tenant_id == self.tenant_id,
                t.c.token_hash == token_hash,
                t.c.purpose == purpose,
                t.c.used_at.is_(None),
                t.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(t.c.account_id)
        )
        return None if row is None else row["account_id"]
