"""A relay process killed with SIGKILL mid-stream: nothing it did not get acked is marked
sent, a new relay publishes the rest, and every event takes effect exactly once."""

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
from kit_probe import commit_events, outbox_state, probe_service, published_ids, seen_counts

from frontdesk.kit.testing import wait_for

KIT_PROBE = Path(__file__).resolve().parents[2] / "libs" / "kit" / "tests" / "kit_probe.py"
TOTAL = 1500


async def start_process(name: str, command: str, log: Path, **env: str):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(KIT_PROBE),
        command,
        env={**os.environ, "KIT_PROBE_NAME": name, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


@pytest.mark.reliability
async def test_relay_killed_mid_stream_then_restarted(tmp_path: Path) -> None:
    name = f"kp_kill_{uuid.uuid4().hex[:6]}"
    async with probe_service(relay=False, name=name) as rt:
        ids = []
        for _ in range(TOTAL // 500):
            ids += await commit_events(rt, 500)
        assert await outbox_state(rt) == {"pending": TOTAL, "published": 0}

        first = await start_process(
            name, "relay", tmp_path / "relay1.log", FRONTDESK_RELAY_BATCH_SIZE="10"
        )
        try:
            await wait_for(lambda: _published_at_least(rt, 50), timeout=30, interval=0.005)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        state = await outbox_state(rt)
        assert state["pending"] > 0, "the relay finished before it could be killed"
        # Whatever was marked sent had been acked by the broker: it arrives.
        marked = await published_ids(rt)
        await wait_for(lambda: _seen_all(rt, marked), timeout=30)
        await asyncio.sleep(0.5)
        assert (await outbox_state(rt))["pending"] == state["pending"]  # nobody publishes now

        second = await start_process(name, "relay", tmp_path / "relay2.log")
        try:
            counts = await wait_for(lambda: _seen_all(rt, ids), timeout=60)
            assert len(counts) == TOTAL and set(counts.values()) == {1}
            assert await outbox_state(rt) == {"pending": 0, "published": TOTAL}
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 15) == 0, (
                tmp_path / "relay2.log"
            ).read_text()[-2000:]


async def _published_at_least(rt, n):
    return (await outbox_state(rt))["published"] >= n


async def _seen_all(rt, ids):
    counts = await seen_counts(rt)
    return counts if set(ids) <= set(counts) else None


@pytest.mark.reliability
async def test_worker_killed_mid_stream_then_restarted(tmp_path: Path) -> None:
    """The consumer dies between commit and ack (SIGKILL): the broker redelivers what was
    unacked and the inbox keeps every effect single."""
    name = f"kp_wkill_{uuid.uuid4().hex[:6]}"
    async with probe_service(relay=True, consumer=True, name=name) as rt:
        await rt.consumer.close()  # the queue exists; the worker process consumes from now
        rt.consumer = None
        ids = []
        for _ in range(2):
            ids += await commit_events(rt, 500)
        await wait_for(lambda: _pending_is(rt, 0), timeout=30)

        first = await start_process(name, "worker", tmp_path / "worker1.log")
        try:
            await wait_for(lambda: _seen_at_least(rt, 50), timeout=30, interval=0.005)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert len(await seen_counts(rt)) < len(ids), "the worker finished before the kill"

        second = await start_process(name, "worker", tmp_path / "worker2.log")
        try:
            counts = await wait_for(lambda: _seen_all(rt, ids), timeout=60)
            assert len(counts) == len(ids) and set(counts.values()) == {1}
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 15) == 0, (
                tmp_path / "worker2.log"
            ).read_text()[-2000:]


async def _pending_is(rt, n):
    return (await outbox_state(rt))["pending"] == n


async def _seen_at_least(rt, n):
    return len(await seen_counts(rt)) >= n
