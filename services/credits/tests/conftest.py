import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from frontdesk.contracts import Event
from frontdesk.credits.adapters.tables import messaging
from frontdesk.credits.app import SPEC
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client, running_service, truncate_all, wait_for


@pytest.fixture(scope="session")
async def runtime() -> AsyncIterator[Runtime]:
    async with running_service(SPEC) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty the tables after each test that used the database (domain tests start none)."""
    yield
    if "runtime" in request.fixturenames:
        await truncate_all(request.getfixturevalue("runtime"))


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(runtime) as c:
        yield c


class Bus:
    """Publishes other services' events through the real broker (via this service's
    outbox and relay) and reads what credits published."""

    def __init__(self, runtime: Runtime, tenant_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id

    async def publish(self, event: Event, aggregate_id: uuid.UUID, version: int = 1) -> uuid.UUID:
        async with self.runtime.uow() as uow:
            envelope = uow.publish(
                event,
                tenant_id=self.tenant_id,
                aggregate_id=aggregate_id,
                aggregate_version=version,
            )
            await uow.commit()
        return envelope.id

    async def redeliver(self, message_id: uuid.UUID) -> None:
        """Send the very same message (same id) again, once it has been sent."""
        outbox = messaging.outbox

        async def sent() -> bool:
            async with self.runtime.engine.connect() as conn:
                return bool(
                    (
                        await conn.execute(
                            select(outbox.c.published_at).where(outbox.c.id == message_id)
                        )
                    ).scalar()
                )

        await wait_for(sent)
        async with self.runtime.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id == message_id).values(published_at=None)
            )
        self.runtime.relay.wake()

    async def outbox(self, routing_key: str) -> list[dict[str, Any]]:
        async with self.runtime.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(messaging.outbox.c.envelope)
                        .where(messaging.outbox.c.routing_key == routing_key)
                        .order_by(messaging.outbox.c.seq)
                    )
                )
                .scalars()
                .all()
            )
        return [r for r in rows if r["tenant_id"] == str(self.tenant_id)]


@pytest.fixture
def bus(runtime: Runtime, tenant_id: uuid.UUID) -> Bus:
    return Bus(runtime, tenant_id)
