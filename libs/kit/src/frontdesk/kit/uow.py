"""Unit of work: the state change and its outbox rows commit in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

import orjson
from opentelemetry.propagate import inject
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
)

from frontdesk.contracts import Envelope, Event
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.db import MessagingTables, Prepared, Reads, session_writes

# The events a unit published, written in one prepared statement over arrays whatever
# their number (JSON as text: the driver's codec takes it so). A service's hottest write
# may carry it as one part of its own statement (``take_outbox``).
OUTBOX_COLUMNS = (
    "outbox_ids",
    "outbox_tenants",
    "outbox_keys",
    "outbox_envelopes",
    "outbox_headers",
)
OUTBOX_INSERT = (
    "INSERT INTO outbox (id, tenant_id, routing_key, envelope, headers) "
    "SELECT * FROM unnest(CAST(:outbox_ids AS uuid[]), CAST(:outbox_tenants AS uuid[]), "
    "CAST(:outbox_keys AS text[]), CAST(:outbox_envelopes AS jsonb[]), "
    "CAST(:outbox_headers AS jsonb[]))"
)
# The outbox rows and the notices a unit leaves for its commit, in one round trip (a
# data-modifying WITH runs whether or not the query reads it).
_FLUSH = Prepared(
    text(
        f"WITH outbox AS ({OUTBOX_INSERT}) SELECT pg_notify(n.channel, n.key) "
        "FROM unnest(CAST(:channels AS text[]), CAST(:keys AS text[])) AS n (channel, key)"
    )
)


class UnitOfWork:
    """Open with ``async with``; only ``commit()`` makes anything durable.

    ``publish`` queues an event; it is written to the outbox in the same
    transaction as the state change, with the current trace context, and the
    relay is woken once the commit has succeeded.

    The session opens on first use: a unit that only reads through ``reads`` never opens
    one (nor anything to roll back).
    """

    def __init__(
        self,
        sessions: async_sessionmaker,  # type: ignore[type-arg]
        tables: MessagingTables,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self.tables = tables
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._reads: Reads | None = None
        self._pending: list[tuple[Any, ...]] = []  # outbox rows, as OUTBOX_COLUMNS
        self._notices: list[tuple[str, str]] = []  # (channel, key) to notify at commit
        self._cause: Envelope | None = None
        self.published: list[Envelope] = []
        self._held = False  # in a consumer's batch: commit() leaves it to commit_held()
        self._committed = 0  # how many of ``published`` are committed

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    @session.setter
    def session(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def opened(self) -> bool:
        """Whether its session was opened (else there is nothing to roll back or close)."""
        return self._session is not None

    @property
    def reads(self) -> Reads:
        """Prepared statements run by the driver (``kit.db.Reads``, for the hottest reads):
        in this unit's transaction once it has begun one, else each on a connection
        borrowed from the pool for that read alone."""
        if self._reads is None:
            self._reads = Reads(self._sessions.kw["bind"], self._transaction_connection)
        return self._reads

    async def _transaction_connection(self) -> AsyncConnection | None:
        session = self._session
        if session is None or not session.in_transaction():
            return None
        return await session.connection()

    async def __aenter__(self) -> UnitOfWork:
        self._session = None
        self._pending = []
        self._notices = []
        self.published = []
        self._held = False
        self._committed = 0
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.rollback()
            await self._session.close()

    def caused_by(self, envelope: Envelope) -> None:
        """Events published from here on carry this message as cause and its correlation."""
        self._cause = envelope

    def publish(
        self,
        event: Event,
        *,
        tenant_id: uuid.UUID,
        aggregate_id: uuid.UUID,
        aggregate_version: int,
    ) -> Envelope:
        cause = self._cause
        envelope = Envelope.wrap(
            event,
            tenant_id=tenant_id,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            correlation_id=(cause.correlation_id or cause.id) if cause else None,
            causation_id=cause.id if cause else None,
        )
        headers: dict[str, str] = {}
        inject(headers)
        self._pending.append(
            (
                envelope.id,
                tenant_id,
                envelope.routing_key,
                envelope.model_dump_json(),
                orjson.dumps(headers).decode(),
            )
        )
        self.published.append(envelope)
        return envelope

    def publish_recorded(self, aggregate: Aggregate) -> list[Envelope]:
        """Publish the events ``aggregate`` recorded, at the version its save gave it."""
        return [
            self.publish(
                event,
                tenant_id=aggregate.tenant_id,
                aggregate_id=aggregate.id,
                aggregate_version=aggregate.version,
            )
            for event in aggregate.collect_events()
        ]

    async def notify(self, channel: str, key: str) -> None:
        """Tell a process waiting on ``channel`` for ``key`` (kit.notices), at commit (sent
        with the outbox rows: PostgreSQL delivers a notice only at commit anyway)."""
        self._notices.append((channel, key))

    async def flush_outbox(self) -> None:
        """Write the outbox rows and send the notices published so far (before commit)."""
        if self._pending or self._notices:
            channels = [channel for channel, _ in self._notices]
            keys = [key for _, key in self._notices]
            self._notices = []
            await session_writes(self.session).execute(
                _FLUSH, channels=channels, keys=keys, **self.take_outbox()
            )

    def take_outbox(self) -> dict[str, list[Any]]:
        """The outbox rows of the events published so far, as the arrays ``OUTBOX_INSERT``
        takes, for a statement that writes them itself (they are not written again)."""
        assert self.tables.outbox.name == "outbox"
        columns = zip(*self._pending, strict=True) if self._pending else [[]] * len(OUTBOX_COLUMNS)
        self._pending = []
        return {name: list(values) for name, values in zip(OUTBOX_COLUMNS, columns, strict=True)}

    async def commit(self) -> None:
        if self._held:
            return  # a consumer's batch: its one commit comes after its last message
        await self.commit_held()

    async def rollback(self) -> None:
        """Undo everything since the last commit: its writes and the events it published."""
        if self._session is not None:
            await self._session.rollback()
        self._pending = []
        self._notices = []
        del self.published[self._committed :]

    def hold_commits(self) -> None:
        """Make ``commit()`` wait for ``commit_held()``: the several messages of a
        consumer's batch commit together (or, if one fails, not at all)."""
        self._held = True

    async def commit_held(self) -> None:
        await self.flush_outbox()
        await self.session.commit()
        if len(self.published) > self._committed and self._on_commit is not None:
            self._on_commit()
        self._committed = len(self.published)
