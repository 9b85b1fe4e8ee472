"""The gateway's live parts beside the database, one set per process: Redis (rate limits,
revoked sessions), the pooled connections to the services, the webhook sender, the
signing key in use and the JWKS this process verifies its own tokens with (read from its
database, not over HTTP from itself)."""

from __future__ import annotations

import time
from typing import Any

from frontdesk.gateway.adapters.redis import RedisGate
from frontdesk.gateway.adapters.sender import WebhookSender
from frontdesk.gateway.adapters.upstream import Upstream
from frontdesk.gateway.application import keys
from frontdesk.gateway.domain.edge import RouteTable
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit import auth
from frontdesk.kit.auth import SigningKey
from frontdesk.kit.service import Runtime

# The gateway's own top-level resources (never routed to a service).
OWN_PREFIXES = frozenset(
    {
        "auth",
        "tenant",
        "tenants",
        "users",
        "customer-accounts",
        "webhook-endpoints",
        "webhook-event-types",
    }
)
# How long a process signs with the key it read before looking for a newer one.
KEY_CACHE_SECONDS = 5.0


class Gate:
    def __init__(self, runtime: Runtime[GatewaySettings]) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.settings = settings
        self.redis = RedisGate(settings.redis_url, f"frontdesk:{settings.bus_prefix}")
        self.upstream = Upstream(
            {k: v for k, v in settings.service_urls.items() if k != "gateway"},
            connect_timeout=settings.upstream_connect_timeout_seconds,
            timeout=settings.upstream_timeout_seconds,
            max_connections=settings.upstream_max_connections,
            max_keepalive=settings.upstream_max_keepalive,
        )
        self.routes = RouteTable(settings.routes, OWN_PREFIXES)
        self.openapi: dict[str, Any] | None = None
        self.openapi_at = 0.0
        self._sender: WebhookSender | None = None
        self._key: SigningKey | None = None
        self._key_at = 0.0
        url = settings.resolved_jwks_url()
        if url is not None:
            auth.serve_keys_locally(url, self.jwks)

    @property
    def sender(self) -> WebhookSender:
        if self._sender is None:
            self._sender = WebhookSender(self.settings.webhook_timeout_seconds)
        return self._sender

    async def signing_key(self) -> SigningKey:
        if self._key is None or time.monotonic() - self._key_at > KEY_CACHE_SECONDS:
            async with self.runtime.uow() as uow:
                self._key = await keys.active_key(uow, self.settings)
            self._key_at = time.monotonic()
        return self._key

    def forget_signing_key(self) -> None:
        self._key = None

    async def jwks(self) -> dict[str, Any]:
        async with self.runtime.uow() as uow:
            return await keys.jwks(uow, self.settings)

    async def close(self) -> None:
        await self.redis.close()
        await self.upstream.close()
        if self._sender is not None:
            await self._sender.close()
        _GATES.pop(id(self.runtime), None)


_GATES: dict[int, Gate] = {}


def of(runtime: Runtime[Any]) -> Gate:
    """This runtime's gate, made on first use."""
    gate = _GATES.get(id(runtime))
    if gate is None or gate.runtime is not runtime:
        gate = _GATES[id(runtime)] = Gate(runtime)
    return gate
