"""What the benchmarks share: a scratch database and bus of their own, and the figures."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from frontdesk.kit import db, migrations
from frontdesk.kit.settings import Settings


def scratch_settings(name: str, **overrides: Any) -> Settings:
    """Names of this run only (database, exchanges, queues), left to expire if killed."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        service=f"bench_{name}_{run}",
        bus_prefix=f"bench.{run}.",
        database_prefix="",
        **overrides,
    )


@contextlib.asynccontextmanager
async def scratch_database(settings: Settings, metadata: MetaData) -> AsyncIterator[AsyncEngine]:
    """The settings' database with ``metadata``'s tables, dropped afterwards."""
    url = settings.resolved_database_url()
    await migrations.ensure_database(url)
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield engine
    finally:
        await engine.dispose()
        await migrations.drop_database(url)


def report(title: str, figures: dict[str, float], unit: str = "/s") -> None:
    """The measured figure beside its baselines, measured in the same run."""
    print(title)
    width = max(len(label) for label in figures) + 2
    for label, value in figures.items():
        print(f"  {label:<{width}}{value:8.0f}{unit}")


# -- HTTP load (the customers chain-scale benchmark) ---------------------------------------


class HttpClient:
    """One keep-alive HTTP/1.1 connection, as lean as a client can be (so that the server,
    not the client, is what a figure measures): GET, read the status and the body."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        try:
            return await self._get(path)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed a connection left idle (keep-alive timeout): a new one.
            await self.close()
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None and self.writer is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {
            k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if x)
        }
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        else:  # chunked
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def latencies(client: HttpClient, paths: list[str], *, expect: int = 200) -> list[float]:
    """Milliseconds of each GET, one after the other."""
    out = []
    for path in paths:
        started = time.perf_counter()
        status, body = await client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert status == expect, (path, status, body[:300])
    return out


async def throughput(
    host: str,
    port: int,
    paths: list[str],
    *,
    clients: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> float:
    """Requests per second from ``clients`` connections, each sending its next GET as soon as
    the last answered, for ``seconds`` (after a short warm-up)."""
    done = 0
    stop = time.perf_counter() + seconds

    async def one(number: int) -> None:
        nonlocal done
        client = HttpClient(host, port, headers)
        try:
            i = number
            while time.perf_counter() < stop:
                status, body = await client.get(paths[i % len(paths)])
                assert status == 200, (status, body[:300])
                done += 1
                i += clients
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(clients)))
    return done / (time.perf_counter() - started)
