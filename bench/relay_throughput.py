"""Relay publish throughput beside its limit, measured in the same run.

Figure: events/s the outbox relay publishes (rows selected FOR UPDATE SKIP LOCKED,
published with confirms in flight, marked sent) for N committed outbox rows.
Baseline: raw aio-pika publishing the same messages on a confirm channel, confirms
gathered per batch of the same size — what the broker and client allow at best.

    uv run python bench/relay_throughput.py [--events 5000] [--batch 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aio_pika
import orjson
from benchkit import report, scratch_database, scratch_settings

from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.kit import bus, db
from frontdesk.kit.relay import Relay
from frontdesk.kit.settings import Settings
from frontdesk.kit.uow import UnitOfWork


async def fill_outbox(settings: Settings, engine, tables, n: int) -> None:
    sessions = db.sessionmaker(engine)
    tenant = uuid.uuid4()
    for start in range(0, n, 1000):
        async with UnitOfWork(sessions, tables) as uow:
            for _ in range(min(1000, n - start)):
                cid = uuid.uuid4()
                uow.publish(
                    CustomerRegistered(
                        customer_id=cid,
                        first_name="Bench",
                        last_name="Mark",
                        email="bench@example.com",
                    ),
                    tenant_id=tenant,
                    aggregate_id=cid,
                    aggregate_version=1,
                )
            await uow.commit()


async def relay_round(settings: Settings, engine, tables, n: int) -> float:
    async with engine.begin() as conn:
        await conn.execute(tables.outbox.delete())
    await fill_outbox(settings, engine, tables, n)
    relay = Relay(settings, engine, tables)
    await relay.start()
    try:
        started = time.perf_counter()
        sent = 0
        while taken := await relay.publish_batch():
            assert relay.last_failed == 0, "publish failures during the benchmark"
            sent += taken
        elapsed = time.perf_counter() - started
    finally:
        await relay.close()
    assert sent == n, (sent, n)
    return n / elapsed


async def baseline_round(settings: Settings, engine, tables, n: int, batch: int) -> float:
    """The same bodies and headers, straight from memory through aio-pika."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                tables.outbox.select().with_only_columns(
                    tables.outbox.c.id,
                    tables.outbox.c.routing_key,
                    tables.outbox.c.envelope,
                    tables.outbox.c.headers,
                )
            )
        ).all()
    messages = [
        (
            r.routing_key,
            bus.build_message(
                orjson.dumps(r.envelope),
                message_id=str(r.id),
                routing_key=r.routing_key,
                headers=dict(r.headers),
            ),
        )
        for r in rows[:n]
    ]
    topology = bus.Topology.from_settings(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await topology.declare_exchange(channel)
        started = time.perf_counter()
        for i in range(0, len(messages), batch):
            await asyncio.gather(
                *(
                    exchange.publish(m, routing_key=key, mandatory=True)
                    for key, m in messages[i : i + batch]
                )
            )
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
    return len(messages) / elapsed


async def main(events: int, batch: int, rounds: int) -> None:
    settings = scratch_settings("relay", relay_batch_size=batch)
    metadata = db.new_metadata()
    tables = db.messaging_tables(metadata)
    topology = bus.Topology.from_settings(settings)
    async with scratch_database(settings, metadata) as engine:
        connection = await aio_pika.connect(settings.amqp_url)
        channel = await connection.channel()
        queue_name = topology.queue("bench")
        try:
            # A consuming service's quorum queue receives every event, as in production.
            exchange = await topology.declare_exchange(channel)
            queue = await channel.declare_queue(
                queue_name,
                durable=True,
                arguments={"x-queue-type": "quorum", "x-expires": 10 * 60 * 1000},
            )
            await queue.bind(exchange, routing_key=CustomerRegistered.routing_key())

            relay_rates, raw_rates = [], []
            for _ in range(rounds):
                relay_rates.append(await relay_round(settings, engine, tables, events))
                await queue.purge()
                raw_rates.append(await baseline_round(settings, engine, tables, events, batch))
                await queue.purge()
            relay, raw = max(relay_rates), max(raw_rates)
            report(
                f"relay_throughput: {events} outbox rows, batch {batch}, best of {rounds}",
                {
                    "relay (select, publish with confirms, mark sent)": relay,
                    "baseline (raw aio-pika, confirms per batch)": raw,
                },
                unit=" events/s",
            )
            print(f"  relay / baseline: {relay / raw:.2f}")
        finally:
            await channel.queue_delete(queue_name)
            await topology.delete_bus(channel)
            await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch, args.rounds))
