"""The broker unreachable for a while: rows stay unsent, then relay and consumer recover
on their own (robust connection) and every event has its effect exactly once."""

import asyncio

import kit_probe
from kit_probe import commit_events, outbox_state, probe_service, seen_counts
from netcut import CuttableProxy

from frontdesk.kit.testing import wait_for


async def test_relay_and_consumer_recover_from_a_network_cut_without_restart() -> None:
    async with CuttableProxy() as proxy, probe_service(amqp_url=proxy.amqp_url) as rt:
        first = await commit_events(rt, 20)
        await wait_for(lambda: _seen(rt, first), timeout=10)
        assert (await rt.ready())["broker"] == "ok"

        proxy.cut()
        await asyncio.sleep(0.3)
        during = await commit_events(rt, 20)
        await asyncio.sleep(2.0)
        assert (await outbox_state(rt))["pending"] == 20  # nothing marked sent without an ack
        assert (await rt.ready())["broker"] != "ok"

        proxy.restore()
        await wait_for(lambda: _seen(rt, first + during), timeout=30)
        after = await commit_events(rt, 10)  # the consumer is back on its queue
        counts = await wait_for(lambda: _seen(rt, first + during + after), timeout=15)
        assert set(counts.values()) == {1}
        assert await outbox_state(rt) == {"pending": 0, "published": 50}


async def _seen(rt, ids):
    counts = await seen_counts(rt)
    return counts if set(ids) <= set(counts) else None


async def test_a_cut_while_messages_are_being_handled_leaves_the_consumer_running() -> None:
    # Messages in the middle of their handling when the connection goes: their acks (and
    # the futures the client library fails with CancelledError when it drops a
    # connection) must not end the consumer's workers, or nothing is handled after the cut.
    async with CuttableProxy() as proxy, probe_service(amqp_url=proxy.amqp_url) as rt:
        kit_probe.DELAY["seconds"] = 0.4
        before = await commit_events(rt, 20)
        await wait_for(lambda: _seen_any(rt, before), timeout=10)
        proxy.cut()
        await asyncio.sleep(1.0)  # the handlers in flight commit, then find the channel gone
        proxy.restore()
        await wait_for(lambda: _seen(rt, before), timeout=30)
        kit_probe.DELAY["seconds"] = 0.0
        after = await commit_events(rt, 20)
        counts = await wait_for(lambda: _seen(rt, before + after), timeout=30)
        assert set(counts.values()) == {1}


async def _seen_any(rt, ids):
    counts = await seen_counts(rt)
    return counts if set(ids) & set(counts) else None
