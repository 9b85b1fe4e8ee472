import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from frontdesk.contracts import Event
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client, running_service, truncate_all
from frontdesk.scheduling.adapters.tables import messaging
from frontdesk.scheduling.app import SPEC


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
    async with app_client(runtime) as c:
        yield c


@pytest.fixture
def admin(tokens: Any) -> dict[str, str]:
    return tokens.headers("admin")  # type: ignore[no-any-return]


class Studio:
    """A location with a room and a trainer, and helpers to make classes and book them."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        admin: dict[str, str],
        runtime: Runtime,
        tenant_id: uuid.UUID,
    ) -> None:
        self.client, self.admin, self.runtime, self.tenant_id = client, admin, runtime, tenant_id
        self.location: dict[str, Any] = {}
        self.room: dict[str, Any] = {}
        self.trainer: dict[str, Any] = {}
        self.placed = 0

    async def setup(self, timezone: str = "Europe/Berlin") -> "Studio":
        r = await self.client.post(
            "/v1/locations", json={"name": "Mitte", "timezone": timezone}, headers=self.admin
        )
        assert r.status_code == 201, r.text
        self.location = r.json()
        r = await self.client.post(
            "/v1/rooms",
            json={"location_id": self.location["id"], "name": "Studio 1"},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        self.room = r.json()
        r = await self.client.post(
            "/v1/staff",
            json={"name": "Kim", "location_id": self.location["id"]},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        self.trainer = r.json()
        return self

    async def session(
        self,
        *,
        starts_at: datetime | str | None = None,
        capacity: int = 10,
        payment: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        if starts_at is None:
            # Every class placed here starts 90 minutes after the one before (from three
            # days ahead): one room and trainer are never held twice at once (occupancy).
            self.placed += 1
            starts_at = datetime.now(UTC) + timedelta(days=3, minutes=90 * self.placed)
        body = {
            "title": "Yoga",
            "location_id": self.location["id"],
            "room_id": self.room["id"],
            "staff_id": self.trainer["id"],
            "starts_at": starts_at if isinstance(starts_at, str) else starts_at.isoformat(),
            "duration_minutes": 60,
            "capacity": capacity,
            "payment": payment or {"method": "credits", "credits": 1},
            **extra,
        }
        r = await self.client.post("/v1/sessions", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def book(
        self,
        session: dict[str, Any],
        customer_id: uuid.UUID | None = None,
        expect: tuple[int, ...] = (201, 202),
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"session_id": session["id"], **extra}
        if "guest" not in extra:
            body["customer_id"] = str(customer_id or uuid.uuid4())
        r = await self.client.post("/v1/bookings", json=body, headers=self.admin)
        assert r.status_code in expect, r.text
        return r.json()  # type: ignore[no-any-return]

    async def booking(self, booking_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/v1/bookings/{booking_id}", headers=self.admin)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def wait_status(self, booking_id: str, status: str) -> dict[str, Any]:
        from frontdesk.kit.testing import wait_for

        async def reached() -> dict[str, Any] | None:
            b = await self.booking(booking_id)
            return b if b["status"] == status else None

        return await wait_for(reached, timeout=10)  # type: ignore[no-any-return]

    async def publish(self, event: Event, aggregate_id: uuid.UUID, version: int = 1) -> None:
        """Another service's event, through the real outbox, relay and broker."""
        async with self.runtime.uow() as uow:
            uow.publish(
                event,
                tenant_id=self.tenant_id,
                aggregate_id=aggregate_id,
                aggregate_version=version,
            )
            await uow.commit()

    async def published(self, routing_key: str) -> list[dict[str, Any]]:
        async with self.runtime.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(messaging.outbox.c.envelope)
                        .where(
                            messaging.outbox.c.routing_key == routing_key,
                            messaging.outbox.c.tenant_id == self.tenant_id,
                        )
                        .order_by(messaging.outbox.c.seq)
                    )
                )
                .scalars()
                .all()
            )
        return [dict(r["payload"], _version=r["aggregate_version"]) for r in rows]


@pytest.fixture
async def studio(
    client: httpx.AsyncClient, admin: dict[str, str], runtime: Runtime, tenant_id: uuid.UUID
) -> Studio:
    return await Studio(client, admin, runtime, tenant_id).setup()
