"""Outgoing webhooks: endpoints (owner and admins), one delivery per endpoint for every
event it chose (taken from the bus, so each event is delivered once per endpoint however
often the bus brings it), the worker that sends what is due, the log and replays."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import RowMapping

from frontdesk.contracts import CATALOGUE, Envelope
from frontdesk.gateway.adapters.common import CreatedKey
from frontdesk.gateway.adapters.webhooks import (
    AttemptRepository,
    DeliveryRepository,
    EndpointRepository,
    claim_due,
)
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.domain.webhooks import Delivery, WebhookEndpoint
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotAllowed, NotFoundError
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)

EVENT_TYPES: dict[str, Any] = {cls.TYPE: cls for cls in CATALOGUE}


def event_types() -> list[dict[str, Any]]:
    """Every event type an endpoint may choose, with its payload's JSON Schema."""
    return [
        {
            "type": cls.TYPE,
            "version": cls.VERSION,
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            "schema": cls.model_json_schema(),
        }
        for cls in sorted(CATALOGUE, key=lambda c: c.TYPE)
    ]


def _admins_only(principal: Principal) -> None:
    if not principal.is_admin:
        raise NotAllowed("Only the owner and admins manage webhooks.")


async def register(
    uow: UnitOfWork, gate: Gate, principal: Principal, values: Mapping[str, Any]
) -> WebhookEndpoint:
    _admins_only(principal)
    endpoint = WebhookEndpoint.register(
        principal.tenant_id,
        url=values["url"],
        event_types=values["event_types"],
        description=values.get("description"),
        known_types=EVENT_TYPES,
        allow_insecure=gate.settings.insecure_webhooks_allowed,
    )
    await EndpointRepository(uow.session, principal.tenant_id).add(endpoint)
    await uow.commit()
    return endpoint


async def page(
    uow: UnitOfWork, principal: Principal, *, after: CreatedKey | None, limit: int
) -> list[WebhookEndpoint]:
    _admins_only(principal)
    return list(await EndpointRepository(uow.session, principal.tenant_id).page(limit + 1, after))


async def get(uow: UnitOfWork, principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    _admins_only(principal)
    return await EndpointRepository(uow.session, principal.tenant_id).require(endpoint_id)


async def edit(
    uow: UnitOfWork,
    gate: Gate,
    principal: Principal,
    endpoint_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> WebhookEndpoint:
    _admins_only(principal)
    repo = EndpointRepository(uow.session, principal.tenant_id)
    endpoint = await repo.require(endpoint_id, for_update=True)
    endpoint.require_version(expected_version, "webhook endpoint")
    endpoint.edit(
        changes, known_types=EVENT_TYPES, allow_insecure=gate.settings.insecure_webhooks_allowed
    )
    await repo.save(endpoint)
    await uow.commit()
    return endpoint


async def remove(uow: UnitOfWork, principal: Principal, endpoint_id: uuid.UUID) -> None:
    """The endpoint and its delivery log are deleted; nothing more is sent to it."""
    _admins_only(principal)
    if not await EndpointRepository(uow.session, principal.tenant_id).remove(endpoint_id):
        raise NotFoundError.of("webhook endpoint")
    await uow.commit()


# --- deliveries --------------------------------------------------------------------------


def payload_of(envelope: Envelope) -> dict[str, Any]:
    """What the receiver gets: Standard Webhooks' ``type``, ``timestamp`` and ``data``, and
    the event's id (the same event sent to two endpoints has one ``id``)."""
    return {
        "type": envelope.type,
        "version": envelope.version,
        "timestamp": envelope.occurred_at.isoformat(),
        "id": str(envelope.id),
        "tenant_id": str(envelope.tenant_id),
        "aggregate_id": str(envelope.aggregate_id),
        "data": envelope.payload,
    }


async def fan_out(uow: UnitOfWork, envelope: Envelope, now: datetime | None = None) -> int:
    """A delivery for each endpoint of the tenant that chose this event (not committed:
    the consumer's handler commits it with the inbox row)."""
    now = now or datetime.now(UTC)
    endpoints = await EndpointRepository(uow.session, envelope.tenant_id).wanting(envelope.type)
    deliveries = DeliveryRepository(uow.session, envelope.tenant_id)
    made = 0
    for endpoint in endpoints:
        delivery = Delivery.of_event(
            endpoint,
            event_id=envelope.id,
            event_type=envelope.type,
            payload=payload_of(envelope),
            now=now,
        )
        made += await deliveries.add_once(delivery)
    return made


async def event_arrived(uow: UnitOfWork, envelope: Envelope) -> None:
    await fan_out(uow, envelope)
    await uow.commit()


async def deliver_due(gate: Gate, now: datetime | None = None) -> int:
    """Send what is due (leased so other workers skip it), and record each attempt."""
    settings = gate.settings
    now = now or datetime.now(UTC)
    lease = now + timedelta(seconds=settings.webhook_timeout_seconds * 3 + 30)
    async with gate.runtime.uow() as uow:
        claimed = await claim_due(uow.session, now, lease, settings.webhook_batch_size)
        await uow.commit()
    for delivery, endpoint in claimed:
        await _attempt(gate, delivery, endpoint)
    return len(claimed)


async def _attempt(gate: Gate, delivery: Delivery, endpoint: WebhookEndpoint) -> None:
    body = orjson.dumps(delivery.payload).decode()
    attempt, duration_ms = await gate.sender.send(
        endpoint.url, endpoint.secret, str(delivery.id), body
    )
    now = datetime.now(UTC)
    async with gate.runtime.uow() as uow:
        repo = DeliveryRepository(uow.session, delivery.tenant_id)
        current = await repo.get(delivery.id, for_update=True)
        if current is None:
            return  # the endpoint was deleted meanwhile
        await AttemptRepository(uow.session, delivery.tenant_id).add(
            delivery.id, attempt.status_code, attempt.error, duration_ms, now
        )
        # Replayed while this attempt was on its way: the replay's schedule stands.
        if current.version == delivery.version:
            current.attempted(attempt, now, gate.settings.webhook_retry_delays_seconds)
            await repo.save(current)
        await uow.commit()
    if not attempt.succeeded:
        log.info("webhook %s to %s failed: %s", delivery.id, endpoint.url, attempt.error)


async def deliveries(
    uow: UnitOfWork,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    status: str | None,
    after: CreatedKey | None,
    limit: int,
) -> list[Delivery]:
    await get(uow, principal, endpoint_id)
    repo = DeliveryRepository(uow.session, principal.tenant_id)
    return list(await repo.of_endpoint(endpoint_id, limit + 1, after, status))


async def delivery(
    uow: UnitOfWork, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[Delivery, Sequence[RowMapping]]:
    """A delivery with every attempt made (the log)."""
    _admins_only(principal)
    found = await DeliveryRepository(uow.session, principal.tenant_id).get(delivery_id)
    if found is None or found.endpoint_id != endpoint_id:
        raise NotFoundError.of("webhook delivery")
    attempts = await AttemptRepository(uow.session, principal.tenant_id).of(delivery_id)
    return found, attempts


async def replay(
    uow: UnitOfWork, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> Delivery:
    """Send it again now (same ``webhook-id``), with a fresh retry schedule."""
    _admins_only(principal)
    repo = DeliveryRepository(uow.session, principal.tenant_id)
    found = await repo.get(delivery_id, for_update=True)
    if found is None or found.endpoint_id != endpoint_id:
        raise NotFoundError.of("webhook delivery")
    found.replay(datetime.now(UTC))
    await repo.save(found)
    await uow.commit()
    return found
