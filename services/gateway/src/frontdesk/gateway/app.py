"""Wiring of the gateway: ``python -m frontdesk.gateway api|worker|relay|migrate``.

The API is the front door (its own routes first, then every other ``/v1/...`` path on to
its service); the worker sends webhooks, rotates signing keys and repeats revoked
sessions to Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from frontdesk.gateway import console, consumers
from frontdesk.gateway.adapters.tables import messaging, metadata
from frontdesk.gateway.api import auth, customer_accounts, front, tenants, users, webhooks
from frontdesk.gateway.application import gate as gates
from frontdesk.gateway.application import keys, logins
from frontdesk.gateway.application import webhooks as outgoing
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.service import Runtime, ServiceSpec

GatewayRuntime = Runtime[GatewaySettings]


def routers() -> list[APIRouter]:
    # The console's pages and files (/console/, /me/) when enabled; they call /v1/... only.
    pages = console.routers() if GatewaySettings().console_enabled else []
    return [
        *pages,
        auth.router,
        tenants.signup_router,
        tenants.router,
        users.router,
        customer_accounts.router,
        webhooks.router,
        webhooks.types_router,
        front.router,  # last: its /v1/{rest} takes every path the others do not serve
    ]


async def send_webhooks(runtime: GatewayRuntime) -> int:
    return await outgoing.deliver_due(gates.of(runtime))


async def maintain_keys(runtime: GatewayRuntime) -> dict[str, Any]:
    async with runtime.uow() as uow:
        return await keys.maintain(uow, runtime.settings)


_REVOKED_SINCE: dict[int, datetime] = {}


async def repeat_revocations(runtime: GatewayRuntime) -> None:
    """Every ended session reaches Redis, even one ended while Redis was away or by the
    worker itself (a customer erased)."""
    gate = gates.of(runtime)
    since = _REVOKED_SINCE.get(id(runtime)) or datetime.now(UTC) - timedelta(
        seconds=runtime.settings.access_token_ttl_seconds + 60
    )
    _REVOKED_SINCE[id(runtime)] = await logins.repeat_revocations(gate, since)


def periodic() -> Sequence[tuple[float, Callable[[GatewayRuntime], Any]]]:
    settings = GatewaySettings()
    return [
        (settings.webhook_poll_seconds, send_webhooks),
        (settings.signing_key_sweep_seconds, maintain_keys),
        (2.0, repeat_revocations),
    ]


SPEC = ServiceSpec(
    name="gateway",
    port=8000,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=GatewaySettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    periodic=periodic,
    public_paths=(*auth.PUBLIC, *tenants.PUBLIC, *front.PUBLIC),
    description="The front door (routing, one OpenAPI document, rate limits), identity "
    "(tenants, staff and customer accounts, logins, JWKS) and outgoing webhooks.",
)
