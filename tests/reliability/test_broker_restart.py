"""RabbitMQ restarted mid-stream: nothing is lost, nothing takes effect twice, and the
relay and consumer resume on their own (aio-pika's robust connection, proven here).

Restarts the broker every test on the machine shares: reliability-marked, run sparingly.
"""

import asyncio
import uuid

import pytest
from kit_probe import commit_events, outbox_state, probe_service, seen_counts

from frontdesk.kit.testing import wait_for


async def rabbitmqctl(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, f"rabbitmqctl {' '.join(args)}: {err.decode()}"


async def restart_broker() -> None:
    await rabbitmqctl("stop_app")
    await asyncio.sleep(1.0)
    await rabbitmqctl("start_app")
    await rabbitmqctl("await_startup")


@pytest.mark.reliability
async def test_broker_restart_mid_stream_loses_nothing_and_consumers_resume() -> None:
    async with probe_service(name=f"kp_restart_{uuid.uuid4().hex[:6]}") as rt:
        committed: list[uuid.UUID] = []
        stop = asyncio.Event()

        async def produce() -> None:
            while not stop.is_set():
                committed.extend(await commit_events(rt, 5))
                await asyncio.sleep(0.02)

        producer = asyncio.create_task(produce())
        try:
            await wait_for(lambda: _seen(rt, committed[:50]), timeout=15)
            await restart_broker()
            after_restart = len(committed)
            await asyncio.sleep(2.0)  # keep publishing with the broker back
        finally:
            stop.set()
            await producer
        assert len(committed) > after_restart

        counts = await wait_for(lambda: _seen(rt, committed), timeout=90, interval=0.25)
        assert set(counts) == set(committed) and set(counts.values()) == {1}

        # Relay and consumer both still work for new events.
        late = await commit_events(rt, 10)
        counts = await wait_for(lambda: _seen(rt, committed + late), timeout=30)
        assert set(counts.values()) == {1}
        assert await outbox_state(rt) == {"pending": 0, "published": len(committed) + 10}
        assert (await rt.ready())["broker"] == "ok"


async def _seen(rt, ids):
    counts = await seen_counts(rt)
    return counts if set(ids) <= set(counts) else None
