import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from frontdesk.customers.app import SPEC
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client, running_service, truncate_all

# Test helpers live beside the tests (customers_testing.py).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
async def runtime() -> AsyncIterator[Runtime]:
    async with running_service(SPEC) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empties the tables after each test that used the database (domain tests do not
    start it at all)."""
    yield
    if "runtime" in request.fixturenames:
        await truncate_all(request.getfixturevalue("runtime"))


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(runtime) as c:
        yield c


# -- events from other services ---------------------------------------------------------

import uuid  # noqa: E402
from datetime import datetime  # noqa: E402
from typing import Any  # noqa: E402

from frontdesk.contracts import Envelope, Event  # noqa: E402
from frontdesk.customers import consumers  # noqa: E402
from frontdesk.kit import bus  # noqa: E402


def envelope(
    event: Event,
    tenant_id: uuid.UUID,
    aggregate_id: uuid.UUID | None = None,
    version: int = 1,
    occurred_at: datetime | None = None,
) -> Envelope:
    env = Envelope.wrap(
        event,
        tenant_id=tenant_id,
        aggregate_id=aggregate_id or uuid.uuid4(),
        aggregate_version=version,
    )
    if occurred_at is not None:
        env = env.model_copy(update={"occurred_at": occurred_at})
    return env


class Broker:
    """Publishes envelopes on the run's real exchange, as another service's relay would."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.topology = bus.Topology.from_settings(runtime.settings)
        self.connection = None
        self.exchange = None

    async def start(self) -> None:
        self.connection = await bus.connect(self.runtime.settings)
        channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await self.topology.declare_exchange(channel)

    async def publish(self, env: Envelope) -> Envelope:
        message = bus.build_message(
            env.model_dump_json().encode(),
            message_id=str(env.id),
            routing_key=env.routing_key,
            headers={},
        )
        await self.exchange.publish(message, routing_key=env.routing_key, mandatory=True)
        return env

    async def emit(
        self, event: Event, tenant_id: uuid.UUID, aggregate_id=None, version=1, occurred_at=None
    ) -> Envelope:
        return await self.publish(envelope(event, tenant_id, aggregate_id, version, occurred_at))


@pytest.fixture
def sent(runtime: Runtime, broker: "Broker") -> Any:
    from customers_testing import Sent

    return Sent(runtime, broker)


@pytest.fixture(scope="session")
async def broker(runtime: Runtime) -> AsyncIterator[Broker]:
    b = Broker(runtime)
    await b.start()
    yield b
    await b.connection.close()


async def apply(
    runtime: Runtime,
    event: Event,
    tenant_id: uuid.UUID,
    aggregate_id: uuid.UUID | None = None,
    version: int = 1,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Runs this service's handler on the event, in a transaction (no broker): fast seeding."""
    env = envelope(event, tenant_id, aggregate_id, version, occurred_at)
    handler = consumers.handlers[type(event)]
    async with runtime.uow() as uow:
        uow.caused_by(env)
        await handler(uow, env, event)
        await uow.commit()
    return env
