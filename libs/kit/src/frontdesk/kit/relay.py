"""The outbox relay: publishes committed events and marks them sent only after the ack."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from frontdesk.kit import bus
from frontdesk.kit.db import MessagingTables
from frontdesk.kit.settings import Settings

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


class Relay:
    """Publishes unsent outbox rows in batches with many confirms in flight.

    Rows are locked ``FOR UPDATE SKIP LOCKED`` while in flight, so several
    relays (in the API process, the worker, or on their own) never publish the
    same row at once. A row is marked sent only once the broker confirmed it;
    if the relay dies in between, the row is published again and the inboxes
    absorb the duplicate.
    """

    def __init__(self, settings: Settings, engine: AsyncEngine, tables: MessagingTables) -> None:
        self._settings = settings
        self._engine = engine
        self._outbox = tables.outbox
        self._topology = bus.Topology.from_settings(settings)
        self._wake = asyncio.Event()
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self.connection = await bus.connect(self._settings)
        self._channel = await self.connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        self._exchange = await self._topology.declare_exchange(self._channel)

    async def close(self) -> None:
        self._stopping = True
        self.wake()
        if self.connection is not None:
            await self.connection.close()

    async def run(self) -> None:
        """Publish until stopped: woken after each commit, polling as the fallback."""
        if self._exchange is None:
            await self.start()
        backoff = self._settings.relay_poll_seconds
        while not self._stopping:
            try:
                published = await self.publish_batch()
                backoff = self._settings.relay_poll_seconds
            except Exception:
                log.exception("relay batch failed; retrying")
                published = 0
                backoff = min(backoff * 2, 30.0)
            if published >= self._settings.relay_batch_size:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except TimeoutError:
                pass

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many rows were taken."""
        assert self._exchange is not None, "start() first"
        outbox = self._outbox
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.id, outbox.c.routing_key, outbox.c.envelope, outbox.c.headers)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self._settings.relay_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await asyncio.gather(
                *(self._publish(row) for row in rows), return_exceptions=True
            )
            sent = [row.id for row, result in zip(rows, results, strict=True) if result is None]
            if sent:
                await conn.execute(
                    update(outbox).where(outbox.c.id.in_(sent)).values(published_at=func.now())
                )
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    log.warning("publish of %s failed: %r", row.routing_key, result)
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.id == row.id)
                        .values(attempts=outbox.c.attempts + 1, last_error=repr(result)[:2000])
                    )
        return len(rows)

    async def _publish(self, row: Any) -> None:
        assert self._exchange is not None
        parent = extract(row.headers or {})
        with _tracer.start_as_current_span(
            f"{row.routing_key} publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": self._topology.exchange,
                "messaging.rabbitmq.destination.routing_key": row.routing_key,
                "messaging.message.id": str(row.id),
            },
        ):
            headers: dict[str, Any] = {}
            inject(headers)
            message = bus.build_message(
                orjson.dumps(row.envelope),
                message_id=str(row.id),
                routing_key=row.routing_key,
                headers=headers,
            )
            await self._exchange.publish(message, routing_key=row.routing_key, mandatory=True)

