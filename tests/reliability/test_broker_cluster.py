"""The bus on a three-node RabbitMQ cluster with quorum queues: the node leading the
consumer's queue stops mid-stream and later comes back. Nothing is lost, nothing takes
effect twice, and the relay and consumer carry on through the surviving nodes.

Runs on nodes of its own (ports 5701 to 5703); the machine's node serves the rest of the suite.
"""

import asyncio
import uuid

import pytest
from kit_probe import commit_events, outbox_state, probe_service, seen_counts
from netcut import CuttableProxy
from rabbit_cluster import Cluster

from frontdesk.kit import bus
from frontdesk.kit.testing import wait_for


@pytest.fixture
async def cluster():
    cluster = Cluster(prefix=f"fdc{uuid.uuid4().hex[:4]}")
    try:
        await asyncio.to_thread(cluster.start)
        yield cluster
    finally:
        await asyncio.to_thread(cluster.destroy)


@pytest.mark.reliability
async def test_queue_leader_stopped_mid_stream_loses_nothing_and_nothing_twice(cluster) -> None:
    assert await asyncio.to_thread(cluster.running_nodes) == {n.nodename for n in cluster.nodes}
    async with CuttableProxy(ports=tuple(cluster.ports)) as front:
        name = f"kp_cluster_{uuid.uuid4().hex[:6]}"
        async with probe_service(name=name, amqp_url=front.amqp_url) as rt:
            queue = bus.Topology.from_settings(rt.settings).queue(name)
            committed: list[uuid.UUID] = []
            stop = asyncio.Event()

            async def produce() -> None:
                while not stop.is_set():
                    committed.extend(await commit_events(rt, 5))
                    await asyncio.sleep(0.02)

            producer = asyncio.create_task(produce())
            try:
                await wait_for(lambda: _seen(rt, committed[:50]), timeout=30)
                leader = cluster.node(await asyncio.to_thread(cluster.queue_leader, queue))
                await asyncio.to_thread(leader.stop)
                stopped_at = len(committed)
                survivor = next(n for n in cluster.nodes if n is not leader)
                # A new leader is elected among the two that are left, and the stream goes on.
                new_leader = await asyncio.to_thread(cluster.queue_leader, queue, survivor)
                assert new_leader != leader.nodename
                await wait_for(lambda: _seen(rt, committed[: stopped_at + 50]), timeout=60)

                await asyncio.to_thread(leader.start)
                await asyncio.to_thread(leader.await_startup)
                back_at = len(committed)
                await wait_for(lambda: _seen(rt, committed[: back_at + 50]), timeout=60)
            finally:
                stop.set()
                await producer

            assert len(committed) > back_at > stopped_at
            counts = await wait_for(lambda: _seen(rt, committed), timeout=90, interval=0.25)
            assert set(counts) == set(committed) and set(counts.values()) == {1}
            assert await outbox_state(rt) == {"pending": 0, "published": len(committed)}
            assert await asyncio.to_thread(cluster.running_nodes) == {
                n.nodename for n in cluster.nodes
            }


async def _seen(rt, ids):
    counts = await seen_counts(rt)
    return counts if set(ids) <= set(counts) else None
