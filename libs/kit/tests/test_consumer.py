"""Consumer: duplicates have one effect, poison parks at once, failures retry then park,
the CLI lists, shows and replays parked messages, and prefetch gives real concurrency."""

import asyncio
import collections
import itertools
import json
import uuid

import kit_probe
import orjson
from kit_probe import CALLS, FAILURES, probe_service, seen_counts
from sqlalchemy import text
from typer.testing import CliRunner

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.kit import bus
from frontdesk.kit.cli import app as cli
from frontdesk.kit.consumer import Handlers, _cancelled_here
from frontdesk.kit.testing import wait_for
from frontdesk.kit.uow import UnitOfWork


def envelope(customer_id: uuid.UUID | None = None, **payload) -> Envelope:
    cid = customer_id or uuid.uuid4()
    event = CustomerRegistered(customer_id=cid, first_name="Dup", last_name="Probe")
    env = Envelope.wrap(event, tenant_id=uuid.uuid4(), aggregate_id=cid, aggregate_version=1)
    if payload:
        env = env.model_copy(update={"payload": {**env.payload, **payload}})
    return env


class Publisher:
    """Publishes straight to the events exchange with aio-pika, as another service would."""

    def __init__(self, runtime) -> None:
        self.settings = runtime.settings
        self.topology = bus.Topology.from_settings(runtime.settings)

    async def __aenter__(self) -> "Publisher":
        self.connection = await bus.connect(self.settings)
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await self.topology.declare_exchange(self.channel)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def send(
        self,
        env: Envelope | None = None,
        *,
        body: bytes | None = None,
        message_id: str | None = None,
        routing_key: str = CustomerRegistered.routing_key(),
    ) -> None:
        payload = body if body is not None else orjson.dumps(env.model_dump(mode="json"))
        message = bus.build_message(
            payload, message_id=message_id or str(env.id), routing_key=routing_key, headers={}
        )
        await self.exchange.publish(message, routing_key=routing_key, mandatory=True)

    async def queue_depth(self, name: str) -> int:
        raw = await self.channel.get_underlay_channel()
        return (await raw.queue_declare(name, passive=True)).message_count


def cli_run(*args: str):
    """The typer app runs asyncio.run itself: call it off the test's event loop."""
    return asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_duplicate_delivery_has_one_effect() -> None:
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        env = envelope()
        await pub.send(env)
        await wait_for(lambda: seen_counts(rt), timeout=10)
        await pub.send(env)
        other = envelope()
        await pub.send(other)  # a later message proves the duplicate was taken off the queue
        counts = await wait_for(lambda: _when(seen_counts(rt), lambda c: other.id in c), timeout=10)
        assert counts == {env.id: 1, other.id: 1}
        await wait_for(lambda: _async(rt.consumer.handled == 3), timeout=5)


async def test_concurrent_duplicates_have_one_effect() -> None:
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        kit_probe.DELAY["seconds"] = 0.3  # both copies are in their handlers at once
        env = envelope()
        await asyncio.gather(pub.send(env), pub.send(env), pub.send(env))
        await wait_for(lambda: _async(rt.consumer.handled == 3), timeout=10)
        assert await seen_counts(rt) == {env.id: 1}
        assert len(CALLS) == 1  # the others found the inbox row and skipped the handler


async def test_poison_message_is_parked_at_once_and_the_next_message_flows() -> None:
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        parking = pub.topology.parking_queue(rt.spec.name)
        bad = envelope(first_name=None)  # fails the contract's schema
        await pub.send(bad)
        await pub.send(body=b"{not json", message_id="garbage-1")
        good = envelope()
        await pub.send(good)
        await wait_for(lambda: _when(seen_counts(rt), lambda c: good.id in c), timeout=10)
        await wait_for(lambda: _async_eq(pub.queue_depth(parking), 2), timeout=5)
        # The poison never reached the handler.
        assert [c for c, _ in CALLS] == [uuid.UUID(good.payload["customer_id"])]

        result = await cli_run("parked", "list", "--service", rt.spec.name)
        assert result.exit_code == 0, result.output
        assert str(bad.id) in result.output and "garbage-1" in result.output
        assert "attempts=0" in result.output

        result = await cli_run("parked", "show", str(bad.id), "--service", rt.spec.name)
        assert result.exit_code == 0, result.output
        meta = json.loads(result.output[: result.output.index("}\n") + 1])
        assert meta["routing_key"] == CustomerRegistered.routing_key()
        assert meta["attempts"] == 0
        assert "invalid message" in meta["error"] and "first_name" in meta["error"]
        # Listing and showing leave the messages parked.
        assert await pub.queue_depth(parking) == 2


async def test_failing_handler_retries_with_growing_delays_then_parks_and_replay_redelivers() -> (
    None
):
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        delays = rt.settings.retry_delays_ms
        assert len(delays) >= 2 and delays == sorted(delays)
        env = envelope()
        cid = uuid.UUID(env.payload["customer_id"])
        FAILURES[cid] = 1_000
        await pub.send(env)
        parking = pub.topology.parking_queue(rt.spec.name)
        await wait_for(lambda: _async_eq(pub.queue_depth(parking), 1), timeout=15)

        times = [t for c, t in CALLS if c == cid]
        assert len(times) == len(delays) + 1  # the first try and one per delay
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for gap, delay in zip(gaps, delays, strict=True):
            assert gap >= delay / 1000 * 0.9, (gaps, delays)
        assert gaps == sorted(gaps), gaps
        assert await seen_counts(rt) == {}

        result = await cli_run("parked", "show", str(env.id), "--service", rt.spec.name)
        assert result.exit_code == 0, result.output
        meta = json.loads(result.output[: result.output.index("}\n") + 1])
        assert meta["attempts"] == len(delays)
        assert "told to fail" in meta["error"]

        # Fixed: the replay re-delivers it and this time it takes effect.
        FAILURES.pop(cid)
        result = await cli_run("parked", "replay", str(env.id), "--service", rt.spec.name)
        assert result.exit_code == 0, result.output
        assert f"replayed {env.id} to {rt.spec.name}" in result.output
        assert await wait_for(lambda: seen_counts(rt), timeout=10) == {env.id: 1}
        assert await pub.queue_depth(parking) == 0

        result = await cli_run("parked", "replay", str(env.id), "--service", rt.spec.name)
        assert result.exit_code == 1


async def test_message_is_not_lost_when_parking_fails() -> None:
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        parking = pub.topology.parking_queue(rt.spec.name)
        await pub.channel.queue_delete(parking)  # parking cannot succeed now
        bad = envelope(first_name=None)
        await pub.send(bad)
        await asyncio.sleep(1.0)
        # Not acked away: it is still on the main queue (or in flight, redelivered later).
        await pub.channel.declare_queue(parking, durable=True, arguments=bus.QUORUM)
        await wait_for(lambda: _async_eq(pub.queue_depth(parking), 1), timeout=15)


async def test_prefetch_gives_bounded_concurrency() -> None:
    # Slow handlers (0.3 s each) run side by side, as many as the consumer's concurrency.
    async with (
        probe_service(relay=False, consumer_prefetch=8, consumer_concurrency=4) as rt,
        Publisher(rt) as pub,
    ):
        kit_probe.DELAY["seconds"] = 0.3
        envs = [envelope() for _ in range(24)]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(pub.send(e) for e in envs))
        counts = await wait_for(lambda: _when(seen_counts(rt), lambda c: len(c) == 24), timeout=20)
        assert set(counts.values()) == {1}
        assert 2 < kit_probe.CONCURRENCY["max"] <= 4
        assert loop.time() - started < 24 * 0.3 / 2


async def test_messages_that_arrive_together_commit_together_and_a_failing_one_alone() -> None:
    # One worker (a pool of two connections, one kept for the relay), so messages queue up
    # behind the one being handled and are taken as batches.
    async with (
        probe_service(relay=False, db_pool_size=1, db_max_overflow=1) as rt,
        Publisher(rt) as pub,
    ):
        kit_probe.DELAY["seconds"] = 0.02
        envs = [envelope() for _ in range(40)]
        poison = json.loads(envs[20].model_dump_json())["payload"]["customer_id"]
        FAILURES[uuid.UUID(poison)] = 1
        await asyncio.gather(*(pub.send(e) for e in envs))
        counts = await wait_for(lambda: _when(seen_counts(rt), lambda c: len(c) == 40), timeout=30)
        assert set(counts.values()) == {1}
        # The failing message ran again alone. Of the rest only those its batch had handled
        # before it ran again (their first try undone with the batch), and only once more.
        calls = collections.Counter(customer for customer, _ in CALLS)
        assert calls[uuid.UUID(poison)] == 2
        again = [c for c, n in calls.items() if n > 1 and c != uuid.UUID(poison)]
        assert max(calls.values()) == 2 and len(again) < rt.settings.consumer_batch_max
        # Rows committed together share their transaction's start time (now()).
        async with rt.engine.connect() as conn:
            commits = (
                await conn.execute(text("SELECT count(DISTINCT seen_at) FROM seen"))
            ).scalar_one()
        assert commits < 40 / 2


async def test_a_handler_of_several_gets_what_arrived_together_and_a_failing_run_alone() -> None:
    calls: list[list[uuid.UUID]] = []
    envs = [envelope() for _ in range(40)]
    poison = envs[20].aggregate_id
    failures = {poison: 1}
    handlers = Handlers()

    @handlers.on_many(CustomerRegistered)
    async def on_many(uow: UnitOfWork, events: list[tuple[Envelope, CustomerRegistered]]) -> None:
        ids = [event.customer_id for _, event in events]
        calls.append(ids)
        await asyncio.sleep(0.02)  # so that the rest queues up behind this call
        if failures[poison] and poison in ids:
            failures[poison] -= 1
            raise RuntimeError("told to fail once")
        await uow.session.execute(
            text(
                "INSERT INTO things (tenant_id, id, name) "
                "SELECT :t, unnest(CAST(:ids AS uuid[])), 'seen'"
            ),
            {"t": uuid.uuid4(), "ids": ids},
        )

    async with (
        probe_service(relay=False, handlers=handlers, consumer_concurrency=1) as rt,
        Publisher(rt) as pub,
    ):
        await asyncio.gather(*(pub.send(e) for e in envs))

        async def things() -> list[uuid.UUID]:
            async with rt.engine.connect() as conn:
                return list((await conn.execute(text("SELECT id FROM things"))).scalars())

        seen = await wait_for(lambda: _when(things(), lambda ids: len(ids) == 40), timeout=30)
    # Each message's effect is kept once, though some were handled again after the failure.
    assert sorted(seen) == sorted(e.aggregate_id for e in envs)
    assert any(len(ids) > 1 for ids in calls) and len(calls) < 40
    # The failing call's messages were each handled again alone, the poison among them.
    failed = next(ids for ids in calls if poison in ids)
    assert len(failed) > 1 and [poison] in calls[calls.index(failed) + 1 :]
    assert all([other] in calls for other in failed)


async def test_a_lingering_consumer_takes_what_trickles_in_as_one_batch() -> None:
    # Messages sent 20 ms apart: at once, each would be a batch of its own; a consumer
    # that lets its batch fill for 400 ms handles them in a few calls.
    calls: list[int] = []
    handlers = Handlers()

    @handlers.on_many(CustomerRegistered)
    async def on_many(uow: UnitOfWork, events: list[tuple[Envelope, CustomerRegistered]]) -> None:
        calls.append(len(events))

    async with (
        probe_service(
            relay=False, handlers=handlers, consumer_concurrency=1, consumer_linger_ms=400
        ) as rt,
        Publisher(rt) as pub,
    ):
        for env in [envelope() for _ in range(10)]:
            await pub.send(env)
            await asyncio.sleep(0.02)
        await wait_for(lambda: _when(_async_value(sum(calls)), lambda n: n == 10), timeout=10)
    assert len(calls) <= 2 and max(calls) >= 5


async def _async_value(value):
    return value


async def test_acks_of_a_batch_wait_for_a_message_retried_before_them_and_then_go() -> None:
    # A window of four unacked messages: if the acks of the messages after a retried one
    # never reached the broker, the consumer would stop at the fifth.
    async with (
        probe_service(relay=False, consumer_prefetch=4, retry_delays_ms=[200]) as rt,
        Publisher(rt) as pub,
    ):
        envs = [envelope() for _ in range(30)]
        FAILURES[envs[3].aggregate_id] = 1
        for env in envs:
            await pub.send(env)
        counts = await wait_for(lambda: _when(seen_counts(rt), lambda c: len(c) == 30), timeout=30)
        assert set(counts.values()) == {1}
        main = pub.topology.queue(rt.spec.name)
        await wait_for(lambda: _async_eq(pub.queue_depth(main), 0), timeout=10)


async def _when(coro, cond):
    value = await coro
    return value if cond(value) else None


async def _async(value):
    return value


async def _async_eq(coro, expected):
    return (await coro) == expected


async def test_a_worker_tells_its_own_cancellation_from_a_future_the_client_cancelled() -> None:
    # aiormq fails the futures of a dropped connection with CancelledError: a worker that
    # took that for its own cancellation would end, and the consumer stop for good.

    dropped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    dropped.set_exception(asyncio.CancelledError())

    async def awaiting_a_dropped_future() -> bool:
        try:
            await dropped
        except asyncio.CancelledError as error:
            return _cancelled_here(error)
        return True

    async def cancelled_itself(started: asyncio.Event) -> bool:
        try:
            started.set()
            await asyncio.sleep(10)
        except asyncio.CancelledError as error:
            return _cancelled_here(error)
        return False

    assert await asyncio.create_task(awaiting_a_dropped_future()) is False
    started = asyncio.Event()
    task = asyncio.create_task(cancelled_itself(started))
    await started.wait()
    task.cancel()
    assert await task is True
