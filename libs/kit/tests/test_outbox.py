"""Outbox: atomic with the state change, published by the relay exactly once in effect."""

import asyncio
import uuid

import pytest
from kit_probe import (
    commit_events,
    outbox_state,
    probe_service,
    published_ids,
    seen_counts,
    things,
)
from sqlalchemy import func, insert, select, text

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerErased, CustomerRegistered
from frontdesk.kit.db import Prepared, session_writes
from frontdesk.kit.testing import wait_for
from frontdesk.kit.uow import OUTBOX_INSERT


async def _counts(runtime) -> tuple[int, int]:
    async with runtime.engine.connect() as conn:
        n_things = (await conn.execute(select(func.count()).select_from(things))).scalar_one()
        n_outbox = (
            await conn.execute(select(func.count()).select_from(runtime.spec.tables.outbox))
        ).scalar_one()
    return n_things, n_outbox


async def _write(uow, tenant: uuid.UUID) -> None:
    thing = uuid.uuid4()
    await uow.session.execute(insert(things).values(id=thing, tenant_id=tenant, name="x"))
    _publish(uow, tenant, thing)


def _publish(uow, tenant: uuid.UUID, customer: uuid.UUID | None = None) -> None:
    customer = customer or uuid.uuid4()
    uow.publish(
        CustomerRegistered(customer_id=customer, first_name="A", last_name="B"),
        tenant_id=tenant,
        aggregate_id=customer,
        aggregate_version=1,
    )


async def test_rolled_back_unit_of_work_leaves_neither_state_nor_outbox_row() -> None:
    async with probe_service(relay=False, consumer=False) as rt:
        tenant = uuid.uuid4()
        async with rt.uow() as uow:
            await _write(uow, tenant)
            await uow.flush_outbox()  # even flushed rows vanish without commit
        with pytest.raises(RuntimeError):
            async with rt.uow() as uow:
                await _write(uow, tenant)
                raise RuntimeError("handler failed")
        assert await _counts(rt) == (0, 0)

        async with rt.uow() as uow:
            await _write(uow, tenant)
            await uow.commit()
        assert await _counts(rt) == (1, 1)


async def test_a_unit_whose_first_statement_goes_through_the_driver_still_rolls_back() -> None:
    # The outbox rows are written by the driver itself (a prepared statement), before
    # SQLAlchemy sent anything: they must be inside the transaction, not committed alone.
    async with probe_service(relay=False, consumer=False) as rt:
        async with rt.uow() as uow:
            _publish(uow, uuid.uuid4())
            await uow.flush_outbox()
        assert await _counts(rt) == (0, 0)


async def test_outbox_rows_taken_by_a_statement_are_written_once() -> None:
    async with probe_service(relay=False, consumer=False) as rt:
        async with rt.uow() as uow:
            _publish(uow, uuid.uuid4())
            _publish(uow, uuid.uuid4())
            rows = uow.take_outbox()
            await session_writes(uow.session).execute(Prepared(text(OUTBOX_INSERT)), **rows)
            await uow.commit()
        assert await _counts(rt) == (0, 2)


async def test_events_committed_while_no_relay_runs_are_published_later_exactly_once() -> None:
    async with probe_service(relay=False) as rt:
        ids = await commit_events(rt, 50)
        await asyncio.sleep(0.5)
        assert await outbox_state(rt) == {"pending": 50, "published": 0}
        assert await seen_counts(rt) == {}

        await rt.start_relay()
        counts = await wait_for(lambda: _all_seen(rt, ids), timeout=15)
        assert set(counts) == set(ids) and set(counts.values()) == {1}
        assert await outbox_state(rt) == {"pending": 0, "published": 50}


async def _all_seen(rt, ids):
    counts = await seen_counts(rt)
    return counts if len(counts) >= len(ids) else None


async def test_relay_wakes_on_commit_without_waiting_for_the_poll() -> None:
    async with probe_service(relay_poll_seconds=30.0) as rt:
        await asyncio.sleep(0.3)  # the relay has polled once and now sleeps 30 s
        loop = asyncio.get_running_loop()
        started = loop.time()
        ids = await commit_events(rt, 1)
        await wait_for(lambda: _all_seen(rt, ids), timeout=5)
        assert loop.time() - started < 3


async def test_a_commit_during_a_relay_pass_goes_out_without_waiting_for_the_poll() -> None:
    """An event committed while the relay publishes the previous ones (after the pass took
    its rows) goes out in the next pass, not after the poll interval."""
    async with probe_service(relay_poll_seconds=30.0) as rt:
        await asyncio.sleep(0.3)  # the relay has polled once and now sleeps 30 s
        assert rt.relay is not None
        publish_all = rt.relay._publish_all
        during: list[uuid.UUID] = []

        async def committing_meanwhile(rows):
            if not during:
                during.extend(await commit_events(rt, 1))
            return await publish_all(rows)

        rt.relay._publish_all = committing_meanwhile  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = await commit_events(rt, 1)
        await wait_for(lambda: _all_seen(rt, first + during), timeout=10)
        assert during and loop.time() - started < 3


async def test_several_relays_publish_every_event_once() -> None:
    from frontdesk.kit.relay import Relay

    async with probe_service(relay=False, relay_batch_size=50) as rt:
        # A queue of our own counts every publication, duplicates included.
        counter = await _counting_queue(rt)
        ids = await commit_events(rt, 500)
        relays = [Relay(rt.settings, rt.engine, rt.spec.tables) for _ in range(3)]
        for relay in relays:
            await relay.start()
        tasks = [asyncio.create_task(relay.run()) for relay in relays]
        try:
            counts = await wait_for(lambda: _all_seen(rt, ids), timeout=30)
            assert set(counts) == set(ids) and set(counts.values()) == {1}
            await wait_for(lambda: _published_all(rt, 500), timeout=10)
            raw = await counter.channel.get_underlay_channel()
            declared = await raw.queue_declare(counter.name, passive=True)
            assert declared.message_count == 500  # no double publication
        finally:
            for relay in relays:
                await relay.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await counter.channel.queue_delete(counter.name)
            await counter.connection.close()


async def _published_all(rt, n):
    return (await outbox_state(rt))["published"] == n


class _Counter:
    def __init__(self, connection, channel, name):
        self.connection, self.channel, self.name = connection, channel, name


async def _counting_queue(rt):
    from frontdesk.kit import bus

    connection = await bus.connect(rt.settings)
    channel = await connection.channel()
    topology = bus.Topology.from_settings(rt.settings)
    exchange = await topology.declare_exchange(channel)
    name = f"{topology.prefix}{rt.spec.name}.counter"
    queue = await channel.declare_queue(name, arguments={"x-expires": 600_000})
    await queue.bind(exchange, routing_key=CustomerRegistered.routing_key())
    return _Counter(connection, channel, name)


async def test_unroutable_events_go_to_the_alternate_exchange_and_are_marked_published() -> None:
    from frontdesk.kit import bus

    # No consumer: nothing is bound for this routing key except our own listener.
    async with probe_service(consumer=False) as rt:
        topology = bus.Topology.from_settings(rt.settings)
        connection = await bus.connect(rt.settings)
        try:
            channel = await connection.channel()
            await topology.declare_exchange(channel)
            unrouted = await channel.declare_queue(topology.unrouted_queue, passive=True)
            await unrouted.purge()
            # An event nobody binds (other probes of this run bind CustomerRegistered only).
            tenant = uuid.uuid4()
            envelope = Envelope.wrap(
                CustomerErased(customer_id=uuid.uuid4()),
                tenant_id=tenant,
                aggregate_id=uuid.uuid4(),
                aggregate_version=1,
            )
            event_id = envelope.id
            async with rt.engine.begin() as conn:
                await conn.execute(
                    insert(rt.spec.tables.outbox).values(
                        id=event_id,
                        tenant_id=tenant,
                        routing_key=envelope.routing_key,
                        envelope=envelope.model_dump(mode="json"),
                        headers={},
                    )
                )
            rt.relay.wake()
            await wait_for(lambda: _published_all(rt, 1), timeout=10)

            async def got():
                return await unrouted.get(no_ack=True, fail=False)

            found = []

            async def drain():
                while (m := await got()) is not None:
                    found.append(m)
                return any(m.message_id == str(event_id) for m in found)

            await wait_for(drain, timeout=5)
            state = await outbox_state(rt)
            assert state == {"pending": 0, "published": 1}
        finally:
            await connection.close()


async def test_failed_publish_leaves_the_row_unpublished_with_its_error() -> None:
    from frontdesk.kit import bus

    async with probe_service(consumer=False) as rt:
        topology = bus.Topology.from_settings(rt.settings)
        connection = await bus.connect(rt.settings)
        try:
            channel = await connection.channel()
            # Without the alternate exchange's queue nothing routes: the broker returns it.
            await channel.queue_delete(topology.unrouted_queue)
            await commit_events(rt, 3)

            async def failed():
                async with rt.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            select(
                                rt.spec.tables.outbox.c.attempts,
                                rt.spec.tables.outbox.c.last_error,
                                rt.spec.tables.outbox.c.published_at,
                            )
                        )
                    ).all()
                return rows if rows and all(r.last_error for r in rows) else None

            rows = await wait_for(failed, timeout=10)
            assert all(r.published_at is None for r in rows)
            # A missing route is the deployment's fault, not the rows': none counts towards
            # parking, so they are published as soon as the route is back.
            assert all(r.attempts == 0 for r in rows)
            assert await published_ids(rt) == set()

            # The route comes back: the relay publishes them without a restart.
            await topology.declare_exchange(channel)
            await wait_for(lambda: _published_all(rt, 3), timeout=15)
        finally:
            await connection.close()


async def test_a_broker_that_refuses_everything_parks_nothing() -> None:
    """Every publication nacked (a quorum queue electing its leader, a full queue): the
    broker is unavailable, no row is at fault; they wait, on a new channel, and go out
    once it takes them."""
    from frontdesk.kit import bus

    async with probe_service(consumer=False) as rt:
        topology = bus.Topology.from_settings(rt.settings)
        connection = await bus.connect(rt.settings)
        try:
            channel = await connection.channel()
            exchange = await topology.declare_exchange(channel)
            full = await channel.declare_queue(
                f"{topology.prefix}full",
                arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
            )
            await full.bind(exchange, routing_key="#")
            first_channel = rt.relay._channel
            await commit_events(rt, 3)

            async def refused():
                async with rt.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            select(
                                rt.spec.tables.outbox.c.attempts,
                                rt.spec.tables.outbox.c.last_error,
                            )
                        )
                    ).all()
                return rows if rows and all(r.last_error for r in rows) else None

            rows = await wait_for(refused, timeout=10)
            await asyncio.sleep(1.0)  # several passes, all refused
            assert await published_ids(rt) == set()
            assert (await outbox_state(rt))["pending"] == 3
            assert not await cli_parked_rows(rt)
            assert all(r.attempts == 0 for r in rows)
            # A pass refused whole goes again on a new channel (a channel RabbitMQ keeps
            # refusing after a quorum queue's leader stopped, while it takes a new one's).
            assert first_channel is not None and first_channel.is_closed
            assert rt.relay._channel is not first_channel

            await full.delete(if_unused=False, if_empty=False)
            await wait_for(lambda: _published_all(rt, 3), timeout=15)
        finally:
            await connection.close()


async def cli_parked_rows(rt):
    from frontdesk.kit import cli

    return await cli._parked_outbox_rows(rt.spec.name)


async def test_a_thousand_unpublishable_rows_ahead_never_hold_back_the_good_ones() -> None:
    """Rows whose event matches no contract are parked with their error (visible and
    replayable by ``frontdesk parked``); the good rows behind them are published."""
    from frontdesk.kit import cli

    async with probe_service(consumer=False, relay=False) as rt:
        outbox = rt.spec.tables.outbox
        tenant = uuid.uuid4()
        bad = [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant,
                "routing_key": "customers.customer.registered.v1",
                "envelope": {"id": "not an envelope"},
                "headers": {},
            }
            for _ in range(1000)
        ]
        async with rt.engine.begin() as conn:
            await conn.execute(insert(outbox), bad)
        good = await commit_events(rt, 3, tenant_id=tenant)
        await rt.start_relay()
        await wait_for(lambda: _published_all(rt, 3), timeout=30)
        assert await published_ids(rt) == set(good)

        parked = await cli._parked_outbox_rows(rt.spec.name)
        assert len(parked) == 1000
        assert all("invalid event" in (row["error"] or "") for row in parked)
        assert (await rt.relay.measure_backlog()) == 0  # parked rows are not backlog

        # Replayed, a row is tried again (and, still invalid, parked again).
        assert await cli.replay_parked_outbox_row(parked[0]["id"], [rt.spec.name])
        async with rt.engine.connect() as conn:
            attempts = (
                await conn.execute(
                    select(outbox.c.attempts).where(outbox.c.id == uuid.UUID(parked[0]["id"]))
                )
            ).scalar_one()
        assert attempts in (0, rt.settings.relay_max_attempts)
