"""Pytest plugin: what every service's tests need (registered via the pytest11 entry point).

Each test process gets its own names: databases ``t<id>_<service>`` and bus
names prefixed ``t<id>.``, set in the environment before anything reads
settings, so parallel workers and concurrent runs never meet. Test queues
expire when idle, so a crashed run leaves nothing behind for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aio_pika
import httpx
import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_fixed

from frontdesk.kit import bus, migrations, telemetry
from frontdesk.kit.auth import Permission, Role, issue_token
from frontdesk.kit.problems import RETRYABLE_SQLSTATES
from frontdesk.kit.service import Runtime, ServiceSpec, create_app
from frontdesk.kit.settings import Settings

SPANS = InMemorySpanExporter()
METRICS = InMemoryMetricReader()
RUN_ID = uuid.uuid4().hex[:10]


def pytest_configure(config: pytest.Config) -> None:
    # Set, not defaulted: xdist workers inherit the controller's environment, and
    # each worker process must have names of its own.
    os.environ["FRONTDESK_DATABASE_PREFIX"] = f"t{RUN_ID}_"
    os.environ["FRONTDESK_BUS_PREFIX"] = f"t{RUN_ID}."
    os.environ.setdefault("FRONTDESK_RETRY_DELAYS_MS", "[200, 400]")
    os.environ.setdefault("FRONTDESK_RELAY_POLL_SECONDS", "0.2")
    telemetry.configure("tests", exporter=SPANS, metric_reader=METRICS, log_level="WARNING")


def metric_value(name: str, **attributes: str) -> float:
    """The current value of a counter or gauge (a histogram: its count), summed over the
    data points whose attributes include ``attributes``; 0 when none was recorded."""
    total = 0.0
    data = METRICS.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    if attributes.items() <= dict(point.attributes or {}).items():
                        histogram = isinstance(point, HistogramDataPoint)
                        total += point.count if histogram else point.value  # type: ignore[union-attr]
    return total


# The consumers this test process started, by bus prefix: their queues, exchanges and
# unrouted queue are deleted when the session ends (queues have no expiry), should a
# test's own teardown not have run.
BUS_PREFIXES: dict[str, set[str]] = {}
# As many delay levels as any process of a run may use (deleting a missing queue is fine).
DELAY_LEVELS = 5


def pytest_sessionfinish(session: pytest.Session) -> None:
    if BUS_PREFIXES:
        asyncio.run(delete_bus(BUS_PREFIXES))


async def delete_bus(consumers_by_prefix: dict[str, set[str]]) -> None:
    """Delete what these prefixes' consumers declared on the broker."""
    settings = Settings()
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        for prefix, consumers in sorted(consumers_by_prefix.items()):
            topology = bus.Topology(prefix=prefix)
            await topology.delete_everything(channel, sorted(consumers), DELAY_LEVELS)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def running_service(
    spec: ServiceSpec[Any], *, relay: bool = True, consumer: bool = True, **overrides: Any
) -> AsyncIterator[Runtime[Any]]:
    """A migrated database of its own and, if asked, the relay and consumer running.

    Each service gets a bus of its own (``<run prefix><service>.``), so one
    service's suite never answers the events another suite publishes in the
    same process; flows across services belong to tests/e2e.
    """
    overrides.setdefault("bus_prefix", f"{Settings().bus_prefix}{spec.name}.")
    settings = spec.settings(**overrides)
    BUS_PREFIXES.setdefault(settings.bus_prefix, set()).add(spec.name)
    url = settings.resolved_database_url()
    await asyncio.to_thread(migrations.upgrade, spec.migrations_dir, url)
    runtime = Runtime(spec, settings)
    try:
        if relay:
            await runtime.start_relay()
        if consumer and spec.handlers():
            await runtime.start_consumer()
        yield runtime
    finally:
        await runtime.close()
        await migrations.drop_database(url)
        if consumer and spec.handlers():
            await delete_bus({settings.bus_prefix: {spec.name}})


@contextlib.asynccontextmanager
async def app_client(runtime: Runtime[Any]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the service's app in-process (its relay already runs in ``runtime``)."""
    app = create_app(runtime, start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://{runtime.spec.name}", timeout=60
    ) as client:
        yield client


async def truncate_all(runtime: Runtime[Any]) -> None:
    """Empty every table of the service (between tests). The runtime's consumer or relay may
    still be finishing the test's last message: TRUNCATE locks the tables one by one, so the
    two can deadlock; PostgreSQL then aborts one of them, and a truncate aborted is tried
    again (a message aborted is redelivered)."""
    names = ", ".join(f'"{t.name}"' for t in runtime.spec.metadata.sorted_tables)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_rolled_back_whole),
        stop=stop_after_attempt(5),
        wait=wait_fixed(0.1),
        reraise=True,
    ):
        with attempt:
            async with runtime.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _rolled_back_whole(error: BaseException) -> bool:
    """A deadlock victim or a serialization failure (nothing of it was kept)."""
    return (
        isinstance(error, DBAPIError)
        and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


async def lock_awaited(engine: AsyncEngine) -> bool:
    """Whether a transaction on the engine's database waits for a lock (a test's cue that a
    concurrent step reached the lock it holds for it): ``wait_for(lambda: lock_awaited(e))``."""
    async with engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(waiting.scalar())


async def wait_for(predicate: Any, *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async predicate until it returns something truthy (eventual consistency)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


class Tokens:
    """Builds Authorization headers for any tenant, role and permissions."""

    def __init__(self, settings: Settings, tenant_id: uuid.UUID) -> None:
        self.settings = settings
        self.tenant_id = tenant_id

    def headers(
        self,
        role: Role | str = Role.admin,
        *permissions: Permission | str,
        sub: str | uuid.UUID | None = None,
        tenant_id: uuid.UUID | None = None,
        name: str | None = None,
    ) -> dict[str, str]:
        token = issue_token(
            self.settings,
            tenant_id=tenant_id or self.tenant_id,
            role=Role(role),
            permissions=[Permission(p) for p in permissions],
            sub=str(sub) if sub else None,
            name=name,
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tenant_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def tokens(tenant_id: uuid.UUID) -> Tokens:
    return Tokens(Settings(), tenant_id)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    SPANS.clear()
    yield SPANS
    SPANS.clear()
