"""Waiting for another process's commit without polling the database.

A unit of work ``notify(channel, key)``s inside its transaction (PostgreSQL delivers it at
commit, never for a rollback); a process that must wait for it (an API answering
``Prefer: wait``) holds ONE listening connection, whatever the number of waiting
requests. If that connection is lost, waiters simply run to their timeout and read once.
Keep notifications to the few transactions someone waits on: NOTIFY serialises commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class Notices:
    def __init__(self, database_url: str) -> None:
        self._dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._connection: asyncpg.Connection | None = None
        self._channels: set[str] = set()
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = defaultdict(set)
        self._lock = asyncio.Lock()

    async def _listen(self, channel: str) -> None:
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._dsn)
                self._connection.add_termination_listener(self._on_lost)
                self._channels.clear()
            if channel not in self._channels:
                await self._connection.add_listener(channel, self._on_notice)
                self._channels.add(channel)

    def _on_lost(self, _: Any) -> None:
        log.warning("notice listener connection lost; waiters fall back to their timeout")
        self._connection = None

    def _on_notice(self, _: Any, __: int, channel: str, payload: object) -> None:
        for event in self._waiters.get((channel, str(payload)), ()):
            event.set()

    @contextlib.asynccontextmanager
    async def expect(self, channel: str, key: str) -> AsyncIterator[asyncio.Event]:
        """An event set when ``key`` is notified on ``channel``. Enter it BEFORE reading the
        state you wait on, so a commit between the read and the wait is not missed."""
        event = asyncio.Event()
        try:
            await self._listen(channel)
        except Exception as error:  # the listener is an optimisation: never fail the request
            log.warning("cannot listen on %s (%r); waiting until the timeout", channel, error)
        self._waiters[(channel, key)].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get((channel, key))
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[(channel, key)]

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None


async def wait(event: asyncio.Event, timeout: float) -> bool:
    """Whether ``event`` was set within ``timeout`` seconds."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
