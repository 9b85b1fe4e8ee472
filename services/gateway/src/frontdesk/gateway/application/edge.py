"""The front door: who may pass (the token's signature and session, the rate limits),
which service answers, and the request sent on to it; one OpenAPI document for all."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from frontdesk.gateway.application import logins
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.domain.edge import Limit, Verdict, judge, merge_openapi
from frontdesk.kit.auth import Principal
from frontdesk.kit.problems import Problem

log = logging.getLogger(__name__)


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"


class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"


class GatewayTimeout(Problem):
    status = 504
    title = "Gateway timeout"


class BadGateway(Problem):
    status = 502
    title = "Bad gateway"


def request_limits(gate: Gate, principal: Principal | None, address: str | None) -> list[Limit]:
    settings = gate.settings
    window = settings.rate_limit_window_seconds
    limits = []
    if principal is not None:
        limits.append(
            Limit("tenant", str(principal.tenant_id), settings.rate_limit_per_tenant, window)
        )
    if address:
        limits.append(Limit("address", address, settings.rate_limit_per_address, window))
    return limits


def login_limits(gate: Gate, address: str | None, account: str | None) -> list[Limit]:
    """Logins, sign-up, resets and sign-in links: per address and per account, far lower."""
    settings = gate.settings
    window = settings.login_limit_window_seconds
    limits = []
    if address:
        limits.append(Limit("login-address", address, settings.login_limit_per_address, window))
    if account:
        limits.append(Limit("login-account", account, settings.login_limit_per_account, window))
    return limits


async def admit(gate: Gate, limits: list[Limit], principal: Principal | None = None) -> Verdict:
    """Counts the request in its windows; 429 past a limit, 401 when the token's session
    was ended. Redis away: the limits are not applied, revocations are read from
    PostgreSQL."""
    session_id = principal.session_id if principal is not None else None
    counts, revoked = await gate.redis.admit(limits, session_id)
    if revoked is None and principal is not None:
        async with gate.runtime.uow() as uow:
            revoked = await logins.session_revoked_in_database(uow, principal)
    if revoked:
        raise logins.refused("Invalid token: its session has ended (logged out).")
    verdict = Verdict.unlimited() if counts is None else judge(counts)
    if not verdict.allowed:
        raise TooManyRequests(
            f"Too many requests ({verdict.refused_by} limit); retry after "
            f"{verdict.retry_after} seconds.",
            headers=verdict.headers,
        )
    return verdict


async def owner_of(gate: Gate, path: str, own_document: Mapping[str, Any]) -> str | None:
    """The service that serves ``path``: the declared table, then what the services'
    documents name (read again when a path is not known yet)."""
    found = gate.routes.owner(path)
    if found is None and time.monotonic() - gate.openapi_at > 5:
        await merged_openapi(gate, own_document, force=True)
        found = gate.routes.owner(path)
    return found


async def merged_openapi(
    gate: Gate, own_document: Mapping[str, Any], *, force: bool = False
) -> dict[str, Any]:
    """One document for the whole API, kept for ``openapi_refresh_seconds``. A service
    that cannot be read is left out (and asked again next time)."""
    fresh = time.monotonic() - gate.openapi_at < gate.settings.openapi_refresh_seconds
    if gate.openapi is not None and fresh and not force:
        return gate.openapi
    services = list(gate.upstream.urls)
    documents = await asyncio.gather(*(gate.upstream.document(s) for s in services))
    found = {s: d for s, d in zip(services, documents, strict=True) if d is not None}
    for service, document in found.items():
        gate.routes.learn(service, document)
    gate.openapi = merge_openapi(
        own_document,
        found,
        description="Every Frontdesk service behind one origin. Missing right now: "
        + (", ".join(sorted(set(services) - set(found))) or "none")
        + ".",
    )
    gate.openapi_at = time.monotonic()
    return gate.openapi


async def forward(
    gate: Gate,
    service: str,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: AsyncIterator[bytes] | None,
) -> httpx.Response:
    """The service's answer, its body still streaming; 503 when the service cannot be
    reached, 504 when it does not answer in time, 502 when it answers nonsense."""
    if service not in gate.upstream.urls:
        raise ServiceUnavailable(
            f"The {service} service is not deployed here.", headers={"Retry-After": "30"}
        )
    try:
        return await gate.upstream.open(service, method, path, headers, body)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        log.warning("%s unreachable: %r", service, error)
        raise ServiceUnavailable(
            f"The {service} service is not reachable right now.", headers={"Retry-After": "5"}
        ) from None
    except httpx.TimeoutException:
        raise GatewayTimeout(
            f"The {service} service did not answer within "
            f"{gate.settings.upstream_timeout_seconds:g} seconds."
        ) from None
    except httpx.HTTPError as error:
        log.warning("%s answered nonsense: %r", service, error)
        raise BadGateway(f"The {service} service's answer could not be read.") from None
