import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from frontdesk.contracts import Event
from frontdesk.credits.adapters.tables import messaging
from frontdesk.credits.app import SPEC
from frontdesk.kit.service import Runtime, create_app
from frontdesk.kit.testing import running_service, truncate_all


@pytest.fixture(scope="session")
async def runtime() -> AsyncIterator[Runtime]:
    async with running_service(SPEC) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def _clean(runtime: Runtime) -> AsyncIterator[None]:
    yield
    await truncate_all(runtime)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://credits") as c:
        yield c


class Bus:
    """Publishes other services' events through the real broker (via this service's
    outbox and relay) and reads what credits published."""

    def __init__(self, runtime: Runtime, tenant_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id

    async def publish(self, event: Event, aggregate_id: uuid.UUID, version: int = 1,
                      envelope_id: uuid.UUID | None = None) -> uuid.UUID:
        async with self.runtime.uow() as uow:
            envelope = uow.publish(event, tenant_id=self.tenant_id, aggregate_id=aggregate_id,
                                   aggregate_version=version)
            if envelope_id is not None:  # a redelivery: the same message id again
                pending = uow._pending[-1]
                pending["id"] = envelope_id
                pending["envelope"]["id"] = str(envelope_id)
            await uow.commit()
        return envelope_id or envelope.id

    async def outbox(self, routing_key: str) -> list[dict[str, Any]]:
        async with self.runtime.engine.connect() as conn:
            rows = (await conn.execute(
                select(messaging.outbox.c.envelope)
                .where(messaging.outbox.c.routing_key == routing_key)
                .order_by(messaging.outbox.c.seq))).scalars().all()
        return [r for r in rows if r["tenant_id"] == str(self.tenant_id)]


@pytest.fixture
def bus(runtime: Runtime, tenant_id: uuid.UUID) -> Bus:
    return Bus(runtime, tenant_id)
