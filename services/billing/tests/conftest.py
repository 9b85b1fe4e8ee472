import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from frontdesk.billing.adapters.tables import messaging
from frontdesk.billing.app import SPEC
from frontdesk.contracts import Event
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client, running_service, truncate_all, wait_for

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from running_stack import stack, tenant  # noqa: E402, F401  (fixtures for test_e2e_*)

# Small pools: PostgreSQL's 100 connections are shared by every suite on the machine.
POOL = {"db_pool_size": 2, "db_max_overflow": 2}


@pytest.fixture(scope="session")
async def runtime() -> AsyncIterator[Runtime]:
    async with running_service(SPEC, **POOL) as rt:
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
    outbox and relay) and reads what billing published."""

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

    async def handled(self) -> int:
        consumer = self.runtime.consumer
        return 0 if consumer is None else consumer.handled


@pytest.fixture
def bus(runtime: Runtime, tenant_id: uuid.UUID) -> Bus:
    return Bus(runtime, tenant_id)
