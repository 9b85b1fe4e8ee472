"""Fixtures: the stand-ins (a fake Twilio and an SMTP server) in-process, the service with
its own database and bus, its API also listening on a real port (Twilio's status
callbacks and inbound SMS come over HTTP, signed), and helpers to publish other
services' events and to send what is due."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select, text

from frontdesk.contracts import Event
from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.contracts.scheduling import BookingConfirmed, BookingPayment
from frontdesk.kit.service import Runtime, create_app
from frontdesk.kit.testing import app_client, running_service, truncate_all, wait_for
from frontdesk.notifications import standins
from frontdesk.notifications.adapters.tables import messages, messaging
from frontdesk.notifications.app import SPEC, send_due

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from running_stack import stack, tenant  # noqa: E402, F401  (fixtures for the e2e tests)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class Standins:
    base: str
    smtp_port: int
    twilio: standins.FakeTwilio
    mailbox: standins.Mailbox

    def requests(self, to: str) -> list[dict[str, Any]]:
        return [r for r in self.twilio.requests if r["to"] == to]

    def accepted(self, to: str) -> list[dict[str, Any]]:
        return [r for r in self.requests(to) if r.get("answered") == 201]

    def mails(self, to: str) -> list[dict[str, Any]]:
        return [m for m in self.mailbox.mails if to in m["rcpt_tos"]]

    def script(self, to: str, *responses: Any) -> None:
        self.twilio.scripts[to].extend(responses)


@pytest.fixture(scope="session")
async def fakes() -> AsyncIterator[Standins]:
    async with standins.running(callback_delay=0.02, hang=3.0) as (base, smtp, twilio, mailbox):
        yield Standins(base, smtp, twilio, mailbox)


@pytest.fixture(scope="session")
async def runtime(fakes: Standins) -> AsyncIterator[Runtime]:
    port = free_port()
    async with running_service(
        SPEC,
        db_pool_size=3,
        db_max_overflow=2,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        twilio_api_base=fakes.base,
        smtp_port=fakes.smtp_port,
        twilio_timeout_seconds=1.0,
        unknown_outcome_grace_seconds=1.0,
        retry_base_seconds=0.2,
        retry_max_seconds=1.0,
        claim_lease_seconds=3.0,
        contact_wait_seconds=2.0,
        sms_per_second=50.0,
        email_per_second=50.0,
    ) as rt:
        # The API on a real port too: the fake sends its callbacks over HTTP.
        app = create_app(rt, start_relay=False)
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
            )
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
            await asyncio.sleep(0.02)
        try:
            yield rt
        finally:
            server.should_exit = True
            await task


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "fakes" in request.fixturenames:
        # Let the fake's status callbacks land before the tables are emptied under them.
        twilio = request.getfixturevalue("fakes").twilio
        for _ in range(100):
            if not twilio._tasks:
                break
            await asyncio.sleep(0.05)
    if "runtime" in request.fixturenames:
        await truncate_all(request.getfixturevalue("runtime"))


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(runtime) as c:
        yield c


def phone() -> str:
    """A German mobile number no other test uses."""
    return f"+49151{random.randint(10_000_000, 99_999_999)}"


def address() -> str:
    return f"c{uuid.uuid4().hex[:12]}@example.com"


class World:
    """Other services' events for one tenant, through the real broker (published via this
    service's outbox and relay, consumed by its consumer), and what came of them."""

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

    async def handled(self, message_id: uuid.UUID, timeout: float = 10.0) -> None:
        """Until the consumer took the message (its inbox row)."""
        inbox = messaging.inbox

        async def taken() -> bool:
            async with self.runtime.engine.connect() as conn:
                row = await conn.execute(
                    select(inbox.c.message_id).where(inbox.c.message_id == message_id)
                )
                return row.first() is not None

        await wait_for(taken, timeout=timeout)

    async def tell(self, event: Event, aggregate_id: uuid.UUID, version: int = 1) -> None:
        await self.handled(await self.publish(event, aggregate_id, version))

    async def customer(
        self, *, sms: str | None = None, email: str | None = None, first_name: str = "Ada"
    ) -> uuid.UUID:
        customer_id = uuid.uuid4()
        await self.tell(
            CustomerRegistered(
                customer_id=customer_id,
                first_name=first_name,
                last_name="Lovelace",
                email=email,
                phone=sms,
            ),
            customer_id,
        )
        return customer_id

    def booking(
        self,
        customer_id: uuid.UUID | None,
        starts_at: datetime,
        *,
        booking_id: uuid.UUID | None = None,
        seats: int = 1,
        timezone: str = "Europe/Berlin",
        title: str = "Yoga",
        cls: type[Any] = BookingConfirmed,
        **extra: Any,
    ) -> Any:
        return cls(
            booking_id=booking_id or uuid.uuid4(),
            customer_id=customer_id,
            session_id=uuid.uuid4(),
            session_kind="class",
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            location_id=uuid.uuid4(),
            location_name="Mitte",
            timezone=timezone,
            seats=seats,
            payment=BookingPayment(method="credits", credits=1),
            **extra,
        )

    async def messages(self, **where: Any) -> list[dict[str, Any]]:
        stmt = select(messages).where(messages.c.tenant_id == self.tenant_id)
        for column, value in where.items():
            stmt = stmt.where(messages.c[column] == value)
        async with self.runtime.engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(messages.c.created_at))).mappings().all()
        return [dict(r) for r in rows]

    async def outbox(self, routing_key: str) -> list[dict[str, Any]]:
        async with self.runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(messaging.outbox.c.envelope)
                    .where(messaging.outbox.c.routing_key == routing_key)
                    .order_by(messaging.outbox.c.seq)
                )
            ).scalars()
            return [r for r in rows if r["tenant_id"] == str(self.tenant_id)]

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.runtime.engine.begin() as conn:
            await conn.execute(text(sql), params)


@pytest.fixture
def world(runtime: Runtime, tenant_id: uuid.UUID) -> World:
    return World(runtime, tenant_id)


async def send(runtime: Runtime) -> Any:
    return await send_due(runtime)


async def settled(world: World, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Send what is due until ``predicate(messages)`` holds (callbacks arrive meanwhile)."""

    async def check() -> list[dict[str, Any]] | None:
        await send(world.runtime)
        found = await world.messages()
        return found if predicate(found) else None

    result: list[dict[str, Any]] = await wait_for(check, timeout=timeout, interval=0.1)
    return result


def in_days(days: float, hour: int = 18) -> datetime:
    """A time ``days`` from now at ``hour``:00 Berlin time."""
    from zoneinfo import ZoneInfo

    day = (datetime.now(UTC) + timedelta(days=days)).astimezone(ZoneInfo("Europe/Berlin"))
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)
