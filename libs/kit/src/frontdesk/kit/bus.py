"""RabbitMQ topology, publishing and the message headers we own.

Only this package touches aio-pika. One durable topic exchange carries every
domain event; each consuming service has a quorum queue bound to the routing
keys it handles, delay queues whose TTL dead-letters back into it, and a parking
queue for messages that failed for good. Unroutable events go to an alternate
exchange rather than vanishing. Every queue is a quorum queue: on a cluster, a
classic queue lives on one node, and while that node is down it cannot even be
declared, so a reconnecting consumer or relay could not restore its topology.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustConnection,
)

from frontdesk.kit.settings import Settings

ATTEMPT_HEADER = "x-frontdesk-attempt"
ERROR_HEADER = "x-frontdesk-error"
ROUTING_KEY_HEADER = "x-frontdesk-routing-key"
PARKED_AT_HEADER = "x-frontdesk-parked-at"
UNROUTED_MAX_LENGTH = 1_000_000
QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}


@dataclass(frozen=True)
class Topology:
    prefix: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        return cls(prefix=settings.bus_prefix)

    @property
    def exchange(self) -> str:
        return f"{self.prefix}frontdesk.events"

    @property
    def unrouted_exchange(self) -> str:
        return f"{self.prefix}frontdesk.unrouted"

    @property
    def unrouted_queue(self) -> str:
        return f"{self.prefix}frontdesk.unrouted"

    def queue(self, consumer: str) -> str:
        return f"{self.prefix}{consumer}"

    def retry_queue(self, consumer: str, attempt: int) -> str:
        return f"{self.prefix}{consumer}.retry.{attempt}"

    def parking_queue(self, consumer: str) -> str:
        return f"{self.prefix}{consumer}.parked"

    def consumer_queues(self, consumer: str, retry_levels: int) -> list[str]:
        """A consumer's queue, its delay queues and its parking queue."""
        delays = [self.retry_queue(consumer, n) for n in range(1, retry_levels + 1)]
        return [self.queue(consumer), *delays, self.parking_queue(consumer)]

    async def delete_consumer(
        self, channel: AbstractChannel, consumer: str, retry_levels: int
    ) -> None:
        for name in self.consumer_queues(consumer, retry_levels):
            await channel.queue_delete(name)

    async def delete_bus(self, channel: AbstractChannel) -> None:
        """Remove the exchanges and the unrouted queue (test runs and benchmarks clean up)."""
        await channel.exchange_delete(self.exchange)
        await channel.exchange_delete(self.unrouted_exchange)
        await channel.queue_delete(self.unrouted_queue)

    async def delete_everything(
        self, channel: AbstractChannel, consumers: Iterable[str], retry_levels: int
    ) -> None:
        """The consumers' queues, the exchanges and the unrouted queue (test runs and
        benchmarks clean up after themselves: quorum queues get no expiry, as the broker
        stalls while it expires many of them)."""
        for consumer in consumers:
            await self.delete_consumer(channel, consumer, retry_levels)
        await self.delete_bus(channel)

    async def declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        unrouted = await channel.declare_exchange(
            self.unrouted_exchange, aio_pika.ExchangeType.FANOUT, durable=True
        )
        queue = await channel.declare_queue(
            self.unrouted_queue,
            durable=True,
            arguments={
                **QUORUM,
                "x-max-length": UNROUTED_MAX_LENGTH,
                "x-overflow": "drop-head",
            },
        )
        await queue.bind(unrouted)
        return await channel.declare_exchange(
            self.exchange,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            arguments={"alternate-exchange": self.unrouted_exchange},
        )

    async def declare_consumer(
        self,
        channel: AbstractChannel,
        consumer: str,
        routing_keys: list[str],
        retry_delays_ms: list[int],
    ) -> AbstractQueue:
        exchange = await self.declare_exchange(channel)
        main = self.queue(consumer)
        queue = await channel.declare_queue(main, durable=True, arguments={**QUORUM})
        for key in routing_keys:
            await queue.bind(exchange, routing_key=key)
        for attempt, delay in enumerate(retry_delays_ms, start=1):
            # Per-queue TTL, then dead-letter straight back to the main queue; at least
            # once (the broker keeps a message until the main queue has confirmed it).
            await channel.declare_queue(
                self.retry_queue(consumer, attempt),
                durable=True,
                arguments={
                    **QUORUM,
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": main,
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            )
        # Inspecting parked messages (get, then closing the channel) returns them without
        # counting a delivery, so a parked message never meets a delivery limit.
        await channel.declare_queue(
            self.parking_queue(consumer), durable=True, arguments={**QUORUM}
        )
        return queue


async def connect(settings: Settings) -> AbstractRobustConnection:
    """A robust connection: it reconnects and restores channels, queues and consumers."""
    return await aio_pika.connect_robust(
        settings.amqp_url,
        client_properties={"connection_name": f"frontdesk-{settings.service}"},
        reconnect_interval=1,
    )


def build_message(
    body: bytes,
    *,
    message_id: str,
    routing_key: str,
    headers: dict[str, Any],
    occurred_at: datetime | None = None,
) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        type=routing_key,
        timestamp=occurred_at or datetime.now(UTC),
        headers=headers,
    )


def header_int(headers: dict[str, Any] | None, name: str) -> int:
    value = (headers or {}).get(name, 0)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def header_str(headers: dict[str, Any] | None, name: str) -> str | None:
    value = (headers or {}).get(name)
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
