"""The outbox relay: publishes committed events and marks them sent only after the ack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError, PublishError
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from pydantic import ValidationError
from sqlalchemy import ARRAY, Integer, Table, Uuid, any_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from frontdesk.contracts import Envelope, UnknownEventError, parse
from frontdesk.kit import bus, metrics
from frontdesk.kit.db import MessagingTables, Prepared, Reads, begun_connection, keyed
from frontdesk.kit.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 5.0
# Counting the backlog reads the unpublished index: do it at most this often.
BACKLOG_MEASURE_SECONDS = 5.0
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
        self.last_failed = 0  # rows of the last batch whose publication failed
        self.service = settings.service
        self.backlog: int | None = None  # last measured, for the backlog gauge
        self.oldest_unpublished_seconds: float | None = None
        self._measured_at = float("-inf")
        metrics.watch_relay(self)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self.connection = await bus.connect(self._settings)
        await self._open_channel()

    async def _open_channel(self) -> None:
        """A channel with confirms and returns, and the exchange on it; a previous one is
        closed."""
        assert self.connection is not None
        previous = self._channel
        self._channel = await self.connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        self._exchange = await self._topology.declare_exchange(self._channel)
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous.close()

    async def close(self) -> None:
        self._stopping = True
        self.wake()
        if self.connection is not None:
            await self.connection.close()

    async def run(self) -> None:
        """Publish until stopped: woken after each commit, polling as the fallback.

        While the broker is unreachable every publish fails fast (or times out), the
        rows stay unpublished with ``attempts`` and ``last_error``, and the relay backs
        off; the robust connection restores the channel and the next pass sends them.
        """
        if self._exchange is None:
            await self.start()
        poll = self._settings.relay_poll_seconds
        backoff = poll
        while not self._stopping:
            # Cleared before the pass takes its rows, not after: a commit during the pass
            # (after its snapshot) wakes the next one rather than waiting for the poll.
            self._wake.clear()
            try:
                published = await self.publish_batch()
                failed = self.last_failed
            except Exception:
                log.exception("relay batch failed; retrying")
                published, failed = 0, 1
            await self._measure(published, failed)
            if failed:
                backoff = min(backoff * 2, max(poll, MAX_BACKOFF_SECONDS))
            else:
                backoff = poll
                if published >= self._settings.relay_batch_size:
                    continue
            if failed:  # new commits do not cut a failing broker's back-off short
                await asyncio.sleep(backoff)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)

    async def _measure(self, published: int, failed: int) -> None:
        if published == 0 and not failed:
            self.backlog, self.oldest_unpublished_seconds = 0, 0.0  # known without a query
            return
        now = asyncio.get_running_loop().time()
        if now - self._measured_at >= BACKLOG_MEASURE_SECONDS:
            self._measured_at = now
            with contextlib.suppress(Exception):  # a gauge is not worth failing the relay
                await self.measure_backlog()

    async def measure_backlog(self) -> int:
        """Count the unpublished rows and the age of the oldest (for the gauges)."""
        outbox = self._outbox
        unpublished = outbox.c.published_at.is_(None) & (
            outbox.c.attempts < self._settings.relay_max_attempts
        )
        async with self._engine.connect() as conn:
            count = (
                await conn.execute(select(func.count()).select_from(outbox).where(unpublished))
            ).scalar_one()
            age = (
                await conn.execute(
                    select(func.extract("epoch", func.now() - outbox.c.created_at))
                    .where(unpublished)
                    .order_by(outbox.c.seq)
                    .limit(1)
                )
            ).scalar()
        self.backlog = count
        self.oldest_unpublished_seconds = float(age or 0.0)
        return count

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many rows were taken.

        A row that can never be published (its event does not match its contract) or that
        the broker refused ``relay_max_attempts`` times is parked: left unpublished with its
        error, skipped from then on (so it never holds back the rows behind it), listed and
        replayed by ``frontdesk parked``. A broker or network outage parks nothing.
        """
        assert self._exchange is not None, "start() first"
        outbox = self._outbox
        parked_from = self._settings.relay_max_attempts
        async with self._engine.begin() as conn:
            driver = Reads(self._engine, lambda: begun_connection(conn))
            taken = [
                _Row(**row)
                for row in await driver.rows(
                    _take(outbox), parked_from=parked_from, limit=self._settings.relay_batch_size
                )
            ]
            self.last_failed = 0
            if not taken:
                return 0
            rows: list[Any] = []
            invalid: dict[str, list[Any]] = {}
            for row in taken:
                problem = _unpublishable(row)
                if problem is None:
                    rows.append(row)
                else:
                    invalid.setdefault(problem, []).append(row.id)
            for problem, ids in invalid.items():
                await self._park(conn, ids, problem)
            results = await self._publish_all(rows)
            sent = [row.id for row, result in zip(rows, results, strict=True) if result is None]
            self.last_failed = len(rows) - len(sent)
            attributes = {"service": self.service}
            metrics.relay_published.add(len(sent), attributes)
            if self.last_failed:
                metrics.relay_failed.add(self.last_failed, attributes)
            if sent:
                await driver.execute(_sent(outbox), ids=sent)
            failures: dict[str, list[Any]] = {}
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    error = repr(result)[:2000] if str(result) else repr(type(result))
                    failures.setdefault(error, []).append(row.id)
            # A nack refuses the row only when the broker took others of the same pass:
            # when it nacks every one (a quorum queue electing its leader, a full queue), the
            # broker is unavailable and no row is at fault.
            refused = [
                row.id
                for row, result in zip(rows, results, strict=True)
                if sent and _nacked(result)
            ]
            for error, ids in failures.items():
                log.warning("publish of %d outbox row(s) failed: %s", len(ids), error)
                # ``attempts`` counts the broker refusing this very message (a nack), towards
                # parking; an outage or a missing route (a return) is not the row's fault and
                # only leaves its ``last_error``.
                counted = [i for i in ids if i in refused]
                if counted:
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.id.in_(counted))
                        .values(attempts=outbox.c.attempts + 1, last_error=error)
                    )
                rest = [i for i in ids if i not in refused]
                if rest:
                    await conn.execute(
                        update(outbox).where(outbox.c.id.in_(rest)).values(last_error=error)
                    )
            if refused:
                await self._park_exhausted(conn, refused)
        if rows and not sent and all(_nacked(result) for result in results):
            # The broker refused every row of the pass. After the node leading a quorum
            # queue stopped, RabbitMQ 3.10 was seen to nack everything on the channel the
            # reconnect restored while taking the same messages on a new one
            # (tests/reliability/test_broker_cluster.py): the next pass goes on a new one.
            log.warning("the broker refused all %d rows; publishing on a new channel", len(rows))
            await self._open_channel()
        return len(taken)

    async def _park(self, conn: AsyncConnection, ids: Sequence[Any], error: str) -> None:
        log.error("parking %d outbox row(s) that cannot be published: %s", len(ids), error)
        outbox = self._outbox
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(ids)))
            .values(attempts=self._settings.relay_max_attempts, last_error=error[:2000])
        )
        metrics.relay_parked.add(len(ids), {"service": self.service})

    async def _park_exhausted(self, conn: AsyncConnection, ids: Sequence[Any]) -> None:
        outbox = self._outbox
        exhausted = (
            (
                await conn.execute(
                    select(outbox.c.id).where(
                        outbox.c.id.in_(list(ids)),
                        outbox.c.attempts >= self._settings.relay_max_attempts,
                    )
                )
            )
            .scalars()
            .all()
        )
        if exhausted:
            log.error("parking %d outbox row(s) the broker refused repeatedly", len(exhausted))
            metrics.relay_parked.add(len(exhausted), {"service": self.service})

    async def _publish_all(self, rows: Sequence[Any]) -> list[BaseException | None]:
        """Publish every row with all confirms in flight; one outcome per row (None = acked).

        A publication neither confirmed nor failed within the timeout counts as failed.
        """
        if not rows:
            return []
        tasks = [asyncio.create_task(self._publish(row)) for row in rows]
        try:
            _, pending = await asyncio.wait(
                tasks, timeout=self._settings.relay_publish_timeout_seconds
            )
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        results: list[BaseException | None] = []
        for task in tasks:
            if task in pending:
                results.append(TimeoutError("publish not confirmed in time"))
            elif task.cancelled():
                results.append(asyncio.CancelledError())
            else:
                results.append(task.exception())
        return results

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


def _nacked(result: BaseException | None) -> bool:
    """A publish the broker refused (a nack), not one it returned or never answered."""
    return isinstance(result, DeliveryError) and not isinstance(result, PublishError)


class _Row(NamedTuple):
    """An outbox row to publish."""

    id: uuid.UUID
    routing_key: str
    envelope: dict[str, Any]
    headers: dict[str, Any] | None


def _take(outbox: Table) -> Prepared:
    """The oldest rows to publish, locked (another relay skips them): prepared once."""
    return keyed(
        (outbox, "relay take"),
        lambda: (
            select(outbox.c.id, outbox.c.routing_key, outbox.c.envelope, outbox.c.headers)
            .where(
                outbox.c.published_at.is_(None),
                outbox.c.attempts < bindparam("parked_from", type_=Integer),
            )
            .order_by(outbox.c.seq)
            .limit(bindparam("limit", type_=Integer))
            .with_for_update(skip_locked=True)
        ),
    )


def _sent(outbox: Table) -> Prepared:
    return keyed(
        (outbox, "relay sent"),
        lambda: (
            update(outbox)
            .where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))
            .values(published_at=func.now())
        ),
    )


def _unpublishable(row: Any) -> str | None:
    """Why a row's event can never be published (it does not match its contract), or None.
    Consumers would park it on arrival; parking it here keeps it from blocking the relay."""
    try:
        envelope = Envelope.model_validate(row.envelope)
        if envelope.routing_key != row.routing_key:
            return f"routing key {row.routing_key!r} is not its event's {envelope.routing_key!r}"
        parse(envelope)
    except (ValidationError, UnknownEventError, ValueError, TypeError) as error:
        return f"invalid event: {error}"[:2000]
    return None
