"""Consumer handling throughput beside its limits, measured in the same run.

Figures: events/s the kit's Consumer handles from a filled quorum queue — validate the
envelope, one transaction per batch that claims the inbox rows and runs the handler
(an upsert, as the read models do), commit, then ack — with a handler of one message
(``Handlers.on``: one upsert per message) and with a handler of several
(``Handlers.on_many``: one upsert per batch).
Replicas: the same consumer (a handler of one) as one worker process and as two sharing
the queue, as two replicas of a service's worker do; each process is started and connected
before the clock starts.
Baselines on the same messages, queue kind and prefetch:
  - raw aio-pika: parse the envelope and ack (what the broker and client allow);
  - raw aio-pika + the same transaction through a bare asyncpg-backed SQLAlchemy
    session (what the database allows per message at this concurrency).

    uv run python bench/consumer_throughput.py [--events 6000] [--prefetch 64] [--rounds 2]

The prefetch is the services' own (``Settings.consumer_prefetch``) unless given.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage
from benchkit import report, scratch_database, scratch_settings
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, text

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.kit import bus, db, inbox
from frontdesk.kit.consumer import Consumer, Handlers
from frontdesk.kit.db import Prepared, session_writes
from frontdesk.kit.settings import Settings
from frontdesk.kit.uow import UnitOfWork
from frontdesk.kit.upsert import insert as pg_insert

CONSUMER = "bench"


def read_model(metadata: MetaData) -> Table:
    return Table(
        "seen",
        metadata,
        Column("customer_id", Uuid, primary_key=True),
        Column("times", Integer, nullable=False),
    )


def upsert(seen: Table, customer_id: uuid.UUID) -> Any:
    stmt = pg_insert(seen).values(customer_id=customer_id, times=1)
    return stmt.on_conflict_do_update(
        index_elements=[seen.c.customer_id], set_={"times": seen.c.times + 1}
    )


# A batch's upserts in one statement (its ids are distinct: one event per customer).
UPSERT_MANY = Prepared(
    text(
        "INSERT INTO seen (customer_id, times) SELECT id, 1 FROM unnest(CAST(:ids AS uuid[])) "
        "AS id ON CONFLICT (customer_id) DO UPDATE SET times = seen.times + 1"
    )
)


async def fill_queue(settings: Settings, n: int) -> None:
    topology = bus.Topology.from_settings(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await topology.declare_exchange(channel)
        await topology.declare_consumer(
            channel, CONSUMER, [CustomerRegistered.routing_key()], settings.retry_delays_ms
        )
        tenant = uuid.uuid4()
        for start in range(0, n, 500):
            publishes = []
            for _ in range(min(500, n - start)):
                cid = uuid.uuid4()
                envelope = Envelope.wrap(
                    CustomerRegistered(
                        customer_id=cid, first_name="Bench", last_name="Mark", email="b@x.io"
                    ),
                    tenant_id=tenant,
                    aggregate_id=cid,
                    aggregate_version=1,
                )
                message = bus.build_message(
                    orjson.dumps(envelope.model_dump(mode="json")),
                    message_id=str(envelope.id),
                    routing_key=envelope.routing_key,
                    headers={},
                )
                publishes.append(exchange.publish(message, routing_key=envelope.routing_key))
            await asyncio.gather(*publishes)
    finally:
        await connection.close()


async def timed(n: int, handled: Callable[[], int], start: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await start()
    # The Consumer exposes a counter, not an event: poll it at a fine grain.
    while handled() < n:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    return n / (time.perf_counter() - started)


def kit_consumer(settings: Settings, engine, tables, seen: Table, *, batched: bool) -> Consumer:
    handlers = Handlers()
    if batched:

        @handlers.on_many(CustomerRegistered)
        async def handle_many(
            uow: UnitOfWork, events: list[tuple[Envelope, CustomerRegistered]]
        ) -> None:
            ids = [event.customer_id for _, event in events]
            await session_writes(uow.session).execute(UPSERT_MANY, ids=ids)

    else:

        @handlers.on(CustomerRegistered)
        async def handle(uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered) -> None:
            await uow.session.execute(upsert(seen, event.customer_id))

    sessions = db.sessionmaker(engine)
    return Consumer(settings, CONSUMER, handlers, lambda: UnitOfWork(sessions, tables))


async def kit_round(
    settings: Settings, engine, tables, seen: Table, n: int, *, batched: bool
) -> float:
    consumer = kit_consumer(settings, engine, tables, seen, batched=batched)
    try:
        return await timed(n, lambda: consumer.handled, consumer.start)
    finally:
        await consumer.close()


async def serve(settings: Settings) -> None:
    """One worker process of the replicas' round: its consumer starts on "go" (a line on
    stdin) and runs until SIGTERM."""
    metadata = db.new_metadata()
    tables = db.messaging_tables(metadata)
    seen = read_model(metadata)
    engine = db.create_engine(settings.resolved_database_url())
    consumer = kit_consumer(settings, engine, tables, seen, batched=False)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await consumer.start()
    await stop.wait()
    await consumer.close()
    await engine.dispose()


async def processes_round(settings: Settings, engine, n: int, processes: int) -> float:
    """Events/s of ``processes`` worker processes sharing the queue (``serve``)."""
    command = ["--serve", settings.service, settings.bus_prefix]
    command += ["--prefetch", str(settings.consumer_prefetch)]
    pipe = asyncio.subprocess.PIPE
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, *command, stdin=pipe, stdout=pipe
        )
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and await worker.stdout.readline() == b"ready\n"

        async def handled() -> int:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM seen"))).scalar_one())

        started = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        # The workers are other processes: their progress is only seen in the database.
        while await handled() < n:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return n / (time.perf_counter() - started)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.wait(), timeout=30)


async def raw_round(settings: Settings, n: int, transaction: Callable | None) -> float:
    topology = bus.Topology.from_settings(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    count = 0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal count
        envelope = Envelope.model_validate_json(message.body)
        if transaction is not None:
            await transaction(envelope)
        await message.ack()
        count += 1

    async def start() -> None:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=settings.consumer_prefetch)
        queue = await topology.declare_consumer(
            channel, CONSUMER, [CustomerRegistered.routing_key()], settings.retry_delays_ms
        )
        await queue.consume(on_message)

    try:
        return await timed(n, lambda: count, start)
    finally:
        await connection.close()


async def main(events: int, prefetch: int, rounds: int) -> None:
    settings = scratch_settings("consumer", consumer_prefetch=prefetch)
    metadata = db.new_metadata()
    tables = db.messaging_tables(metadata)
    seen = read_model(metadata)
    async with scratch_database(settings, metadata) as engine:
        sessions = db.sessionmaker(engine)

        async def bare_transaction(envelope: Envelope) -> None:
            async with sessions() as session, session.begin():
                await inbox.claim(session, tables, envelope, CONSUMER)
                await session.execute(upsert(seen, envelope.aggregate_id))

        try:
            kit_rates, batched_rates, raw_rates, db_rates = [], [], [], []
            one_process, two_processes = [], []
            for _ in range(rounds):
                for rates, round_ in (
                    (
                        kit_rates,
                        lambda: kit_round(settings, engine, tables, seen, events, batched=False),
                    ),
                    (
                        batched_rates,
                        lambda: kit_round(settings, engine, tables, seen, events, batched=True),
                    ),
                    (one_process, lambda: processes_round(settings, engine, events, 1)),
                    (two_processes, lambda: processes_round(settings, engine, events, 2)),
                    (raw_rates, lambda: raw_round(settings, events, None)),
                    (db_rates, lambda: raw_round(settings, events, bare_transaction)),
                ):
                    async with engine.begin() as conn:
                        await conn.execute(text("TRUNCATE inbox, seen"))
                    await fill_queue(settings, events)
                    rates.append(await round_())
            kit, batched, raw, with_tx, one, two = map(
                max, (kit_rates, batched_rates, raw_rates, db_rates, one_process, two_processes)
            )
            report(
                f"consumer_throughput: {events} events, prefetch {prefetch}, best of {rounds}",
                {
                    "kit Consumer, handler of one message (upsert each)": kit,
                    "kit Consumer, handler of several (one upsert per batch)": batched,
                    "one worker process (handler of one)": one,
                    "two worker processes sharing the queue (handler of one)": two,
                    "baseline raw aio-pika (parse, ack)": raw,
                    "baseline raw aio-pika + a transaction per message (no kit)": with_tx,
                },
            )
            print(
                f"  kit / raw aio-pika: {batched / raw:.2f} with a handler of several, "
                f"{kit / raw:.2f} with a handler of one; "
                f"kit / raw+transaction: {kit / with_tx:.2f}; "
                f"two worker processes / one: {two / one:.2f}"
            )
        finally:
            topology = bus.Topology.from_settings(settings)
            connection = await aio_pika.connect(settings.amqp_url)
            channel = await connection.channel()
            await topology.delete_consumer(channel, CONSUMER, len(settings.retry_delays_ms))
            await topology.delete_bus(channel)
            await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--prefetch", type=int, default=Settings().consumer_prefetch)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", nargs=2, metavar=("SERVICE", "BUS_PREFIX"), help="a worker")
    args = parser.parse_args()
    if args.serve:
        service, bus_prefix = args.serve
        worker_settings = Settings(
            service=service,
            bus_prefix=bus_prefix,
            database_prefix="",
            consumer_prefetch=args.prefetch,
        )
        asyncio.run(serve(worker_settings))
    else:
        asyncio.run(main(args.events, args.prefetch, args.rounds))
