"""``Idempotency-Key`` on creations: one resource per key, however many requests race.

A service keeps an ``idempotency_keys`` table (``idempotency_table``) and claims
the key in the same transaction that creates the resource, so the key and the
resource commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    bindparam,
    func,
)
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.db import Prepared, TenantRepository, keyed, session_writes
from frontdesk.kit.problems import Conflict
from frontdesk.kit.upsert import insert as pg_insert

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$",
        description=(
            "Repeat a creation safely: the same key (1 to 200 printable ASCII characters) "
            "with the same request answers the same resource; with another request 409."
        ),
    ),
]


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("tenant_id", Uuid, nullable=False),
        Column("scope", String(50), nullable=False),
        Column("key", String(200), nullable=False),
        # a hash of the request: the key remembers no personal data
        Column("fingerprint", String(64), nullable=False),
        Column("resource_id", Uuid, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("tenant_id", "scope", "key"),
    )


def fingerprint(request: Any) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(table: Table) -> Prepared:
    """The key's claim (every creation with a key makes one): prepared once per table."""
    return keyed(
        (table, "idempotency claim"),
        lambda: (
            pg_insert(table)
            .values({name: bindparam(name, type_=table.c[name].type) for name in _CLAIMED})
            .on_conflict_do_nothing()
            .returning(table.c.resource_id)
        ),
    )


_CLAIMED = ("tenant_id", "scope", "key", "fingerprint", "resource_id")


class IdempotencyKeys(TenantRepository):
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, table: Table) -> None:
        super().__init__(session, tenant_id)
        self.table = table

    async def claim(
        self, scope: str, key: str, request: Any, resource_id: uuid.UUID, *, what: str
    ) -> uuid.UUID | None:
        """None when this call owns ``key`` (and will create ``resource_id``); the earlier
        resource's id when the same request came with the key before.

        A concurrent request with the same key waits on the primary key until the first
        transaction ends, then sees its row (or, if that one rolled back, claims the key).
        Raises 409 when the key was used for a different request.
        """
        t = self.table
        digest = fingerprint(request)
        claimed = await session_writes(self.session).value(
            _claim(t),
            tenant_id=self.tenant_id,
            scope=scope,
            key=key,
            fingerprint=digest,
            resource_id=resource_id,
        )
        if claimed is not None:
            return None
        earlier = await self._one(
            t.select().where(t.c.tenant_id == self.tenant_id, t.c.scope == scope, t.c.key == key)
        )
        if earlier["fingerprint"] != digest:
            raise Conflict.for_field(
                "Idempotency-Key",
                f"This key was used for a different {what}.",
                title="Idempotency-Key reused",
            )
        return earlier["resource_id"]  # type: ignore[no-any-return]
