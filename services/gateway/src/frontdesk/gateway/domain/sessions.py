"""Login sessions: each login starts one, a family of refresh tokens that replace each
other. A refresh token works once: using it gives the next one (rotation). Using one a
second time means it was copied, so the whole family is revoked (reuse detection) and
neither the thief's nor the owner's token works any more; the owner logs in again.

Revoking a session (logout, log out everywhere, a password change, a disabled account, a
reused token) also ends the access tokens that name it (``sid``): the gateway refuses them
at the edge, for every service behind it.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import datetime
from typing import Self

from frontdesk.kit.aggregate import Aggregate

STAFF, CUSTOMER = "staff", "customer"


class Refresh(enum.Enum):
    ROTATE = "rotate"
    REUSED = "reused"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclasses.dataclass(kw_only=True, eq=False)
class LoginSession(Aggregate):
    account_id: uuid.UUID
    kind: str
    method: str
    user_agent: str | None = None
    address: str | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @classmethod
    def start(
        cls,
        tenant_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        kind: str,
        method: str,
        user_agent: str | None = None,
        address: str | None = None,
    ) -> Self:
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            account_id=account_id,
            kind=kind,
            method=method,
            user_agent=(user_agent or "")[:300] or None,
            address=address,
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def judge_refresh(
        self, *, used_at: datetime | None, expires_at: datetime, now: datetime
    ) -> Refresh:
        """What presenting one of this family's refresh tokens means."""
        if not self.active:
            return Refresh.REVOKED
        if used_at is not None:
            return Refresh.REUSED
        if expires_at <= now:
            return Refresh.EXPIRED
        return Refresh.ROTATE

    def used(self, now: datetime) -> None:
        self.change(last_used_at=now)

    def revoke(self, reason: str, now: datetime) -> bool:
        """True when this ended the session (False: it had ended before)."""
        if not self.active:
            return False
        self.change(revoked_at=now, revoked_reason=reason)
        return True
