"""Waiting for another transaction's commit: a committed ``notify`` wakes exactly the waiters
of its channel and key, a rolled-back one wakes nobody, and one process holds one
listening connection however many requests wait."""

import asyncio
import contextlib
import socket
import uuid

import pytest
from kit_probe import probe_service
from sqlalchemy import text

from frontdesk.kit.notices import Notices, wait
from frontdesk.kit.testing import wait_for

SHORT = 0.5  # how long "not woken" is watched
LONG = 10.0  # how long a wake-up may take at most


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


@pytest.fixture
async def notices(runtime):
    n = Notices(runtime.settings.resolved_database_url())
    try:
        yield n
    finally:
        await n.close()


def channel() -> str:
    return f"probe_{uuid.uuid4().hex[:8]}"


async def listeners(runtime) -> list[int]:
    """Backends of this database that last ran LISTEN (the notice connection)."""
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND query ILIKE 'LISTEN%'"
            )
        )
        return [r.pid for r in rows]


async def no_listeners(runtime) -> bool:
    return await listeners(runtime) == []


async def cut_listeners(runtime) -> None:
    """Terminate the notice connection(s) of this database, as a failover or restart would."""
    async with runtime.engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND query ILIKE 'LISTEN%'"
            )
        )


async def notify(runtime, chan: str, key: str, *, commit: bool = True) -> None:
    async with runtime.uow() as uow:
        await uow.notify(chan, key)
        if commit:
            await uow.commit()


async def test_a_committed_notify_wakes_the_waiter_of_that_key_only(runtime, notices):
    chan, other_chan = channel(), channel()
    async with (
        notices.expect(chan, "order-1") as mine,
        notices.expect(chan, "order-2") as other_key,
        notices.expect(other_chan, "order-1") as other_channel,
        notices.expect(chan, "order-1") as also_mine,
    ):
        await notify(runtime, chan, "order-1")
        assert await wait(mine, LONG)
        assert await wait(also_mine, LONG)  # every waiter of the key
        assert not await wait(other_key, SHORT)
        assert not await wait(other_channel, SHORT)


async def test_a_rolled_back_notify_wakes_nobody(runtime, notices):
    chan = channel()
    async with notices.expect(chan, "k") as event:
        await notify(runtime, chan, "k", commit=False)  # the unit of work rolls back
        with contextlib.suppress(RuntimeError):
            async with runtime.uow() as uow:
                await uow.notify(chan, "k")
                raise RuntimeError("the command failed")
        assert not await wait(event, SHORT)
        await notify(runtime, chan, "k")  # the same key, committed, does
        assert await wait(event, LONG)


async def test_the_notify_is_delivered_at_commit_not_before(runtime, notices):
    chan = channel()
    async with notices.expect(chan, "k") as event, runtime.uow() as uow:
        await uow.notify(chan, "k")
        assert not await wait(event, SHORT)
        await uow.commit()
        assert await wait(event, LONG)


async def test_a_waiter_that_left_is_not_woken_and_a_new_one_is(runtime, notices):
    chan = channel()
    async with notices.expect(chan, "k") as left:
        pass
    async with notices.expect(chan, "k") as fresh:
        await notify(runtime, chan, "k")
        assert await wait(fresh, LONG)
    assert not left.is_set()


async def test_many_waiters_share_one_listening_connection(runtime, notices):
    await wait_for(lambda: no_listeners(runtime), timeout=5)  # earlier tests' are gone
    chans = [channel() for _ in range(3)]
    async with contextlib.AsyncExitStack() as stack:
        events = await asyncio.gather(
            *(
                stack.enter_async_context(notices.expect(chans[n % 3], f"key-{n}"))
                for n in range(30)
            )
        )
        assert len(await listeners(runtime)) == 1
        await notify(runtime, chans[1], "key-4")
        assert await wait(events[4], LONG)
        assert sum(e.is_set() for e in events) == 1
    await notices.close()
    await wait_for(lambda: no_listeners(runtime), timeout=5)


async def test_after_the_listening_connection_is_lost_a_new_wait_listens_again(runtime, notices):
    chan = channel()
    async with notices.expect(chan, "before") as before:
        await cut_listeners(runtime)
        await asyncio.sleep(SHORT)
        # the waiter of the lost connection runs to its timeout (and reads once)
        await notify(runtime, chan, "before")
        assert not await wait(before, SHORT)

        async with notices.expect(chan, "after") as after:
            assert len(await listeners(runtime)) == 1
            await notify(runtime, chan, "after")
            assert await wait(after, LONG)


async def test_a_wait_begun_just_as_the_listening_connection_is_lost_does_not_raise(
    runtime, notices
):
    chan = channel()
    for _ in range(30):
        async with notices.expect(chan, "warm"):
            pass
        await cut_listeners(runtime)
        async with notices.expect(channel(), "k") as event:  # a channel not listened to yet
            assert not event.is_set()
    await asyncio.sleep(SHORT)
    async with notices.expect(chan, "after") as after:
        await notify(runtime, chan, "after")
        assert await wait(after, LONG)


async def test_when_no_listening_connection_can_be_had_waiters_run_to_their_timeout():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    notices = Notices(f"postgresql+asyncpg://u@127.0.0.1:{port}/db")
    try:
        async with notices.expect("chan", "k") as event:
            assert not await wait(event, 0.2)
    finally:
        await notices.close()
