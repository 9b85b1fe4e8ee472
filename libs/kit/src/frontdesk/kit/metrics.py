"""Messaging metrics (OpenTelemetry): consumer outcomes, lag and handler errors; relay
throughput, failures and backlog. Exported by OTLP with the traces (telemetry.configure).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Protocol

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

_meter = metrics.get_meter("frontdesk.kit")

consumer_messages = _meter.create_counter(
    "frontdesk.consumer.messages",
    unit="{message}",
    description="Messages a consumer took off its queue, by outcome "
    "(handled, duplicate, retried, parked)",
)
consumer_lag = _meter.create_histogram(
    "frontdesk.consumer.lag",
    unit="s",
    description="From the event's occurrence to the commit of its handling",
)
consumer_batch_size = _meter.create_histogram(
    "frontdesk.consumer.batch_size",
    unit="{message}",
    description="Messages a consumer handled in one transaction",
)
handler_errors = _meter.create_counter(
    "frontdesk.consumer.handler_errors",
    unit="{error}",
    description="Handler failures (each sends the message to a delay queue or parks it)",
)
relay_published = _meter.create_counter(
    "frontdesk.relay.published",
    unit="{message}",
    description="Outbox rows the broker confirmed",
)
relay_parked = _meter.create_counter(
    "frontdesk.relay.parked",
    unit="{message}",
    description="Outbox rows parked: invalid, or refused by the broker too often",
)
relay_failed = _meter.create_counter(
    "frontdesk.relay.failed",
    unit="{message}",
    description="Outbox rows whose publication failed (they stay and are retried)",
)


class Backlogged(Protocol):
    service: str
    backlog: int | None
    oldest_unpublished_seconds: float | None


class QueueWatcher(Protocol):
    name: str
    queue_depths: dict[str, int]


_relays: weakref.WeakSet[Backlogged] = weakref.WeakSet()
_consumers: weakref.WeakSet[QueueWatcher] = weakref.WeakSet()


def watch_relay(relay: Backlogged) -> None:
    """Report this relay's last measured backlog while it lives."""
    _relays.add(relay)


def watch_consumer(consumer: QueueWatcher) -> None:
    """Report this consumer's last measured queue depths while it lives."""
    _consumers.add(consumer)


def _queue_depth(_: CallbackOptions) -> Iterable[Observation]:
    for consumer in list(_consumers):
        for queue, depth in consumer.queue_depths.items():
            yield Observation(depth, {"consumer": consumer.name, "queue": queue})


def _backlog(_: CallbackOptions) -> Iterable[Observation]:
    for relay in list(_relays):
        if relay.backlog is not None:
            yield Observation(relay.backlog, {"service": relay.service})


def _oldest(_: CallbackOptions) -> Iterable[Observation]:
    for relay in list(_relays):
        if relay.oldest_unpublished_seconds is not None:
            yield Observation(relay.oldest_unpublished_seconds, {"service": relay.service})


_meter.create_observable_gauge(
    "frontdesk.consumer.queue_depth",
    callbacks=[_queue_depth],
    unit="{message}",
    description="Messages waiting in a consumer's queues: ready (its main queue) and "
    "parked (waiting for `frontdesk parked replay`)",
)
_meter.create_observable_gauge(
    "frontdesk.relay.backlog",
    callbacks=[_backlog],
    unit="{message}",
    description="Outbox rows not yet published",
)
_meter.create_observable_gauge(
    "frontdesk.relay.oldest_unpublished",
    callbacks=[_oldest],
    unit="s",
    description="Age of the oldest outbox row not yet published (0 when none)",
)
