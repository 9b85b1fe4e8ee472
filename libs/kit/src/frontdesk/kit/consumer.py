"""The consumer runner: inbox-deduplicated handlers, ack after commit, retry, park."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from pydantic import ValidationError

from frontdesk.contracts import Envelope, Event, UnknownEventError, parse
from frontdesk.kit import bus, inbox, metrics
from frontdesk.kit.settings import Settings
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

E = TypeVar("E", bound=Event)
# A handler of one contract class: it receives the parsed event, typed as that class.
Handler = Callable[[UnitOfWork, Envelope, E], Awaitable[None]]
AnyHandler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Batched:
    """A handler of several messages at once (a projection that writes them in one
    statement), registered with ``Handlers.on_many``. The consumer gives it the
    consecutive messages of its types within a batch, in their order; alone (a retry,
    a batch of one) it gets a list of one. If it raises, each of its messages is handled
    again alone. Events it publishes carry the first message as cause unless it calls
    ``uow.caused_by`` for each."""

    handle: Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]

    async def __call__(self, uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
        await self.handle(uow, [(envelope, event)])


class Handlers(Mapping[type[Event], AnyHandler]):
    """A service's handlers, one per contract class, registered with their event's type:

    handlers = Handlers()

    @handlers.on(BookingRequested)
    async def on_booking_requested(uow, envelope, event: BookingRequested) -> None: ...
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Event], AnyHandler] = {}

    def on(self, event_type: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        def register(handler: Handler[E]) -> Handler[E]:
            if event_type in self._by_type:
                raise ValueError(f"{event_type.__name__} already has a handler")
            self._by_type[event_type] = handler
            return handler

        return register

    def on_many(
        self, *event_types: type[Event]
    ) -> Callable[[Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]], Batched]:
        """Register one handler of a list of (envelope, event) for ``event_types``
        (``Batched``): consecutive messages of any of these types come to it together."""

        def register(
            handle: Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]],
        ) -> Batched:
            batched = Batched(handle)
            for event_type in event_types:
                self.on(event_type)(batched)
            return batched

        return register

    def __getitem__(self, event_type: type[Event]) -> AnyHandler:
        return self._by_type[event_type]

    def __iter__(self) -> Iterator[type[Event]]:
        return iter(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)


@dataclass(frozen=True)
class _Delivery:
    """A message read off the queue, with what handles it."""

    message: AbstractIncomingMessage
    envelope: Envelope
    event: Event
    handler: AnyHandler
    attempt: int


class _FailedInBatch(Exception):
    """A handler failed within a batch on these messages (the error is its ``__cause__``):
    one message, or the run a ``Batched`` handler had."""

    def __init__(self, items: list[_Delivery]) -> None:
        super().__init__([item.envelope.id for item in items])
        self.items = items


def _runs(items: list[_Delivery]) -> Iterator[list[_Delivery]]:
    """The items one handler call takes: consecutive items of one ``Batched`` handler
    together, any other alone."""
    run: list[_Delivery] = []
    for item in items:
        if run and not (isinstance(item.handler, Batched) and item.handler is run[0].handler):
            yield run
            run = []
        run.append(item)
    if run:
        yield run


class _Acks:
    """The acks of handled messages, sent together: one ``basic.ack`` with
    ``multiple=True`` covers every delivery of a channel up to the last of a run of
    handled ones, never one still being handled or settled on its own (a retry, a park,
    a requeue), which leaves the run where it is.

    Each message's channel is the one it arrived on, kept from then: a closed channel
    raises when asked of its message, and a delivery tag means nothing on another one.
    """

    def __init__(self) -> None:
        # Per channel (delivery tags are the channel's own): tag -> handled, in arrival order.
        self._tags: dict[Any, dict[int, bool]] = {}
        self._channel_of: dict[AbstractIncomingMessage, Any] = {}
        self._sending: dict[Any, asyncio.Lock] = {}

    def arrived(self, message: AbstractIncomingMessage) -> None:
        channel = message.channel
        if channel not in self._tags:  # a new channel: the closed ones are done with
            for closed in [c for c in self._tags if c.is_closed]:
                self._forget(closed)
        self._channel_of[message] = channel
        self._tags.setdefault(channel, {})[message.delivery_tag or 0] = False

    async def handled(self, messages: list[AbstractIncomingMessage]) -> None:
        """Committed: ack them (with those before them, once all of those are settled)."""
        channels = {}
        for message in messages:
            channel = self._channel_of.pop(message, None)
            tags = self._tags.get(channel)
            if tags is not None and message.delivery_tag in tags:
                tags[message.delivery_tag or 0] = True
                channels[id(channel)] = channel
        for channel in channels.values():
            await self._release(channel)

    def unsettled(self, message: AbstractIncomingMessage) -> bool:
        """Neither handled nor settled alone yet."""
        return message in self._channel_of

    async def settled_alone(self, message: AbstractIncomingMessage) -> None:
        """Acked or nacked on its own: those after it may go now."""
        channel = self._channel_of.pop(message, None)
        tags = self._tags.get(channel)
        if tags is not None:
            tags.pop(message.delivery_tag or 0, None)
            await self._release(channel)

    async def _release(self, channel: Any) -> None:
        sending = self._sending.setdefault(channel, asyncio.Lock())
        async with sending:  # one ack at a time per channel, in order
            tags = self._tags.get(channel, {})
            last = None
            for tag, handled in tags.items():
                if not handled:
                    break
                last = tag
            if last is None:
                return
            for tag in [tag for tag in tags if tag <= last]:
                del tags[tag]
            try:
                await channel.basic_ack(last, multiple=True)
            except (Exception, asyncio.CancelledError) as error:
                if _cancelled_here(error):
                    raise
                # The channel is gone (the broker redelivers what it had not acked): forget
                # it, so that nothing waits on it any longer.
                log.warning("could not ack up to %d (the broker will redeliver): %r", last, error)
                if channel.is_closed:
                    self._forget(channel)

    def _forget(self, channel: Any) -> None:
        self._tags.pop(channel, None)
        self._sending.pop(channel, None)
        for message in [m for m, c in self._channel_of.items() if c is channel]:
            del self._channel_of[message]


def _cancelled_here(error: BaseException) -> bool:
    """Whether ``error`` is the running task's own cancellation (``close`` cancels the
    workers), rather than a future the client library failed with ``CancelledError`` as
    it dropped a connection, which a worker survives like any other failure."""
    task = asyncio.current_task()
    return isinstance(error, asyncio.CancelledError) and task is not None and task.cancelling() > 0


# After a failure to settle a message, wait this long before requeueing it.
REQUEUE_PAUSE_SECONDS = 1.0
FORWARD_TIMEOUT_SECONDS = 30.0
# How often the queue-depth gauges are refreshed (one passive declare per queue).
QUEUE_DEPTH_SECONDS = 15.0


class Consumer:
    """Runs one service's handlers on its queue.

    For each message: validate the envelope and payload (invalid → parked at
    once, with the error), then in one transaction claim the inbox row and run
    the handler; ack only after that commit. A handler error sends the message
    to the next delay queue with an incremented attempt header (our own count,
    not the broker's delivery limit); after the last delay it is parked.
    """

    def __init__(
        self,
        settings: Settings,
        name: str,
        handlers: Mapping[type[Event], AnyHandler],
        uow_factory: Callable[[], UnitOfWork],
    ) -> None:
        self._settings = settings
        self.name = name
        self._handlers = {cls.routing_key(): handler for cls, handler in handlers.items()}
        self._uow_factory = uow_factory
        self._topology = bus.Topology.from_settings(settings)
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._forward_channel: AbstractChannel | None = None
        self.handled = 0  # messages taken off the queue, whatever their outcome
        self.queue_depths: dict[str, int] = {}  # last measured, for the gauge
        self._depth_task: asyncio.Task[None] | None = None
        # At most as many batches at once as the process has connections for (one kept
        # for the relay): the rest of the prefetch window waits in ``_arrivals``, not for a
        # connection it could time out on.
        self._concurrency = max(
            1,
            min(
                settings.consumer_concurrency,
                settings.consumer_prefetch,
                settings.db_pool_size + settings.db_max_overflow - 1,
            ),
        )
        self._batch_max = max(1, settings.consumer_batch_max)
        self._linger = settings.consumer_linger_ms / 1000
        self._arrivals: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._acks = _Acks()
        self._workers: list[asyncio.Task[None]] = []
        metrics.watch_consumer(self)

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._handlers)

    async def start(self) -> None:
        self._connection = await bus.connect(self._settings)
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=self._settings.consumer_prefetch)
        # Copies to the delay and parking queues go out on a channel of their own with
        # confirms and returns, so a copy that did not arrive is known before the ack.
        self._forward_channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        queue = await self._topology.declare_consumer(
            self._channel, self.name, self.routing_keys, self._settings.retry_delays_ms
        )
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self.name} consumer {n}")
            for n in range(self._concurrency)
        ]
        await queue.consume(self._on_message)
        self._depth_task = asyncio.create_task(self._watch_depths(), name="queue depths")

    async def close(self) -> None:
        if self._depth_task is not None:
            self._depth_task.cancel()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._connection is not None:
            await self._connection.close()

    async def measure_queue_depths(self) -> dict[str, int]:
        """Messages waiting in this consumer's main and parking queues (for the gauge)."""
        assert self._connection is not None, "start() first"
        channel = await self._connection.channel()
        try:
            raw = await channel.get_underlay_channel()
            for label, name in (
                ("ready", self._topology.queue(self.name)),
                ("parked", self._topology.parking_queue(self.name)),
            ):
                self.queue_depths[label] = (
                    await raw.queue_declare(name, passive=True)
                ).message_count or 0
        finally:
            await channel.close()
        return dict(self.queue_depths)

    async def _watch_depths(self) -> None:
        while True:
            try:
                await self.measure_queue_depths()
            except Exception as error:  # a gauge is not worth failing the consumer
                log.debug("could not measure queue depths: %r", error)
            await asyncio.sleep(QUEUE_DEPTH_SECONDS)

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # The prefetch window bounds what waits here; the workers take it in batches.
        self._acks.arrived(message)
        self._arrivals.put_nowait(message)

    async def _work(self) -> None:
        while True:
            batch = [await self._arrivals.get()]
            if self._linger:
                await asyncio.sleep(self._linger)
            # A fair share of what waits, so that slow handlers still run side by side.
            share = -(-(self._arrivals.qsize() + 1) // self._concurrency)
            while len(batch) < min(share, self._batch_max) and not self._arrivals.empty():
                batch.append(self._arrivals.get_nowait())
            metrics.consumer_batch_size.record(len(batch), {"consumer": self.name})
            try:
                await self._run_batch(batch)
            except (Exception, asyncio.CancelledError) as error:
                if _cancelled_here(error):
                    raise
                # A worker outlives any one batch: a message not settled yet goes back to
                # the queue (the inbox absorbs one that had committed).
                log.exception("a batch of %d ended abnormally; requeueing the rest", len(batch))
                for message in batch:
                    if self._acks.unsettled(message):
                        await self._settle(message.nack(requeue=True))
                        await self._acks.settled_alone(message)

    async def _run_batch(self, batch: list[AbstractIncomingMessage]) -> None:
        """Handle what arrived together in one transaction: one inbox statement, the
        handlers one after the other, one commit. A message whose handler fails is taken
        out and handled again alone (so a poison message never holds back the rest), and
        the others are handled together again: nothing of the failed attempt was kept.
        Nothing is acked before the commit that holds its effects."""
        ready = [item for message in batch if (item := await self._read(message)) is not None]
        alone: list[_Delivery] = []
        while len(ready) > 1:
            try:
                handled = await self._handle_together(ready)
            except _FailedInBatch as failed:
                log.info("%s failed within a batch (%r); again alone", failed, failed.__cause__)
                ready = [item for item in ready if all(item is not f for f in failed.items)]
                alone.extend(failed.items)
                continue
            except Exception as error:  # the commit itself, or the connection: each alone
                log.warning("batch of %d not committed (%r); each again alone", len(ready), error)
                break
            await self._acks.handled([item.message for item, _ in handled])
            for item, first_time in handled:
                self._handled(item, first_time)
            ready = []
        for item in alone + ready:
            await self._run_alone(item)

    async def _read(self, message: AbstractIncomingMessage) -> _Delivery | None:
        """The message's envelope, event and handler; an invalid message is parked."""
        attempt = bus.header_int(message.headers, bus.ATTEMPT_HEADER)
        routing_key = bus.header_str(message.headers, bus.ROUTING_KEY_HEADER) or (
            message.routing_key or ""
        )
        try:
            envelope = Envelope.model_validate_json(message.body)
            event = parse(envelope)
            handler = self._handlers[envelope.routing_key]
        except (ValidationError, UnknownEventError, KeyError, ValueError) as error:
            await self._guarded(
                message, self._park(message, routing_key, attempt, f"invalid message: {error}")
            )
            return None
        return _Delivery(message, envelope, event, handler, attempt)

    async def _guarded(self, message: AbstractIncomingMessage, step: Awaitable[None]) -> None:
        try:
            await step
        except (Exception, asyncio.CancelledError) as error:
            if _cancelled_here(error):
                raise
            # Whatever went wrong (the copy to a delay or parking queue not confirmed, the
            # database gone), the message is not lost: it goes back to the queue.
            log.exception("could not settle message %s; requeueing it", message.message_id)
            await asyncio.sleep(REQUEUE_PAUSE_SECONDS)
            await self._settle(message.nack(requeue=True))
            await self._acks.settled_alone(message)

    async def _settle(self, settling: Awaitable[Any]) -> None:
        """Ack or nack; if the channel is gone the broker redelivers and the inbox absorbs it."""
        try:
            await settling
        except (Exception, asyncio.CancelledError) as error:
            if _cancelled_here(error):
                raise
            log.warning("could not ack/nack (the broker will redeliver): %r", error)

    def _span(self, item: _Delivery, count: int = 1) -> Any:
        """The span of handling ``item`` (and the ``count`` - 1 of its run after it)."""
        attributes: dict[str, Any] = {
            "messaging.system": "rabbitmq",
            "messaging.consumer.group.name": self.name,
            "messaging.message.id": str(item.envelope.id),
            "messaging.rabbitmq.destination.routing_key": item.envelope.routing_key,
        }
        if count > 1:
            attributes["messaging.batch.message_count"] = count
        return _tracer.start_as_current_span(
            f"{item.envelope.routing_key} process",
            context=extract(dict(item.message.headers or {})),
            kind=trace.SpanKind.CONSUMER,
            attributes=attributes,
        )

    async def _handle_together(self, items: list[_Delivery]) -> list[tuple[_Delivery, bool]]:
        """The messages handled in one transaction, each with whether it was new (a
        duplicate, in the inbox already or twice in the batch, is acked unhandled)."""
        handled: list[tuple[_Delivery, bool]] = []
        async with self._uow_factory() as uow:
            uow.hold_commits()
            new = await inbox.claim_many(
                uow.session, uow.tables, [item.envelope for item in items], self.name
            )
            for item in items:
                handled.append((item, item.envelope.id in new))
                new.discard(item.envelope.id)
            for run in _runs([item for item, first_time in handled if first_time]):
                first = run[0]
                with self._span(first, len(run)):
                    uow.caused_by(first.envelope)
                    try:
                        if len(run) > 1:
                            assert isinstance(first.handler, Batched)
                            await first.handler.handle(
                                uow, [(item.envelope, item.event) for item in run]
                            )
                        else:
                            await first.handler(uow, first.envelope, first.event)
                    except Exception as error:
                        raise _FailedInBatch(run) from error
            await uow.commit_held()
        return handled

    async def _run_alone(self, item: _Delivery) -> None:
        await self._guarded(item.message, self._process(item))

    async def _process(self, item: _Delivery) -> None:
        envelope = item.envelope
        with self._span(item) as span:
            try:
                first_time = await self._handle(item)
            except Exception as error:
                span.record_exception(error)
                metrics.handler_errors.add(
                    1,
                    {
                        "consumer": self.name,
                        "routing_key": envelope.routing_key,
                        "error": type(error).__name__,
                    },
                )
                log.warning(
                    "handler %s failed on %s (attempt %d): %r",
                    self.name,
                    envelope.routing_key,
                    item.attempt,
                    error,
                )
                await self._retry_or_park(
                    item.message, envelope.routing_key, item.attempt, repr(error)
                )
                return
        await self._acks.handled([item.message])
        self._handled(item, first_time)

    def _handled(self, item: _Delivery, first_time: bool) -> None:
        envelope = item.envelope
        self.handled += 1
        self._count(envelope.routing_key, "handled" if first_time else "duplicate")
        if first_time:
            lag = (datetime.now(UTC) - envelope.occurred_at).total_seconds()
            metrics.consumer_lag.record(
                max(lag, 0.0), {"consumer": self.name, "routing_key": envelope.routing_key}
            )

    def _count(self, routing_key: str, outcome: str) -> None:
        metrics.consumer_messages.add(
            1, {"consumer": self.name, "routing_key": routing_key, "outcome": outcome}
        )

    async def _handle(self, item: _Delivery) -> bool:
        """Handle in one transaction; False for a duplicate (already in the inbox)."""
        async with self._uow_factory() as uow:
            uow.caused_by(item.envelope)
            first_time = await self._claim_and_handle(uow, item)
            await uow.commit()
        return first_time

    async def _claim_and_handle(self, uow: UnitOfWork, item: _Delivery) -> bool:
        """Claim the inbox row and, the first time only, run the handler."""
        first_time = await inbox.claim(uow.session, uow.tables, item.envelope, self.name)
        if first_time:
            await item.handler(uow, item.envelope, item.event)
        return first_time

    async def _retry_or_park(
        self, message: AbstractIncomingMessage, routing_key: str, attempt: int, error: str
    ) -> None:
        delays = self._settings.retry_delays_ms
        if attempt >= len(delays):
            await self._park(message, routing_key, attempt, error)
            return
        await self._forward(
            message,
            self._topology.retry_queue(self.name, attempt + 1),
            {
                bus.ATTEMPT_HEADER: attempt + 1,
                bus.ERROR_HEADER: error[:2000],
                bus.ROUTING_KEY_HEADER: routing_key,
            },
        )
        self._count(routing_key, "retried")

    async def _park(
        self, message: AbstractIncomingMessage, routing_key: str, attempt: int, error: str
    ) -> None:
        log.error("parking message %s (%s): %s", message.message_id, routing_key, error)
        await self._forward(
            message,
            self._topology.parking_queue(self.name),
            {
                bus.ATTEMPT_HEADER: attempt,
                bus.ERROR_HEADER: error[:4000],
                bus.ROUTING_KEY_HEADER: routing_key,
                bus.PARKED_AT_HEADER: datetime.now(UTC).isoformat(),
            },
        )
        self._count(routing_key, "parked")

    async def _forward(
        self, message: AbstractIncomingMessage, queue: str, extra_headers: dict[str, Any]
    ) -> None:
        """Publish a copy to ``queue`` and ack the original only once the broker confirmed
        the copy was queued (a missing queue returns it and raises): never lost."""
        assert self._forward_channel is not None
        headers = {**dict(message.headers or {}), **extra_headers}
        inject(headers)
        copy = bus.build_message(
            message.body,
            message_id=message.message_id or "",
            routing_key=str(extra_headers.get(bus.ROUTING_KEY_HEADER, "")),
            headers=headers,
        )
        await self._forward_channel.default_exchange.publish(
            copy, routing_key=queue, mandatory=True, timeout=FORWARD_TIMEOUT_SECONDS
        )
        await self._settle(message.ack())
        await self._acks.settled_alone(message)
        self.handled += 1
