"""What the gateway's tests share: a fake service behind the gateway (real HTTP), the
gateway's app with its lifespan as one client address, the outbox, sign-up."""

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import select

from frontdesk.contracts import Event
from frontdesk.gateway.adapters.tables import messaging
from frontdesk.gateway.api import front
from frontdesk.kit.service import Runtime, create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeService:
    """A service behind the gateway, over real HTTP: echoes what it was sent (headers,
    body), streams, is slow when asked, and serves an OpenAPI document."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    async def _echo(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            {
                "headers": dict(request.headers),
                "body": body,
                "path": request.path_qs,
                "method": request.method,
            }
        )
        if request.path.endswith("/slow"):
            await asyncio.sleep(float(request.query.get("seconds", "3")))
        if request.path.endswith("/stream"):
            response = web.StreamResponse(headers={"content-type": "text/plain"})
            await response.prepare(request)
            for i in range(5):
                await response.write(f"chunk {i}\n".encode())
                await asyncio.sleep(0.01)
            await response.write_eof()
            return response
        return web.json_response(
            {
                "method": request.method,
                "path": request.path_qs,
                "body": body.decode(errors="replace"),
                "headers": {k.lower(): v for k, v in request.headers.items()},
            },
            status=int(request.query.get("status", "200")),
            headers={"x-upstream": "fake", "set-cookie": "a=1"},
        )

    async def _openapi(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "openapi": "3.1.0",
                "info": {"title": "fake", "version": "1"},
                "paths": {
                    "/v1/widgets": {
                        "get": {
                            "operationId": "list_widgets",
                            "tags": ["widgets"],
                            "summary": "List widgets",
                            "responses": {"200": {"description": "ok"}},
                        }
                    },
                },
                "components": {"schemas": {"ProblemBody": {"type": "object", "title": "Other"}}},
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/openapi.json", self._openapi)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@contextlib.asynccontextmanager
async def gateway_client(
    runtime: Runtime, address: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway's app in-process with its lifespan (the gate), as one client address."""
    app = create_app(runtime, start_relay=False)
    async with front.lifespan(app):
        transport = httpx.ASGITransport(
            app=app,
            raise_app_exceptions=False,
            client=(address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9", 5000),
        )
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway.test", timeout=60
        ) as client:
            yield client


async def outbox(runtime: Runtime, routing_key: str) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as conn:
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
    return list(rows)


async def publish(
    runtime: Runtime, event: Event, tenant_id: uuid.UUID, aggregate_id: uuid.UUID, version: int = 1
) -> uuid.UUID:
    """Another service's event, through the real broker (via this service's outbox)."""
    async with runtime.uow() as uow:
        envelope = uow.publish(
            event, tenant_id=tenant_id, aggregate_id=aggregate_id, aggregate_version=version
        )
        await uow.commit()
    return envelope.id


SIGNUP = {
    "name": "Studio Mitte",
    "default_country": "DE",
    "language": "de",
    "currency": "EUR",
    "time_zone": "Europe/Berlin",
    "seller": {"legal_name": "Studio Mitte GmbH", "city": "Berlin", "country": "DE"},
}


async def sign_up(
    client: httpx.AsyncClient, slug: str | None = None, **owner: str
) -> dict[str, Any]:
    body = {
        **SIGNUP,
        "slug": slug or f"studio-{uuid.uuid4().hex[:8]}",
        "owner": {
            "email": owner.get("email", "owner@example.com"),
            "name": owner.get("name", "Olga Owner"),
            "password": owner.get("password", "correct horse battery"),
        },
    }
    r = await client.post("/v1/tenants", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
