"""/v1/webhook-endpoints: a tenant's outgoing webhooks (owner and admins): register an
HTTPS endpoint for chosen event types, read its secret, see each delivery with every
attempt, replay one. /v1/webhook-event-types lists what may be chosen, with the payload's
schema (the same catalogue as the AsyncAPI document at /asyncapi.json)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response, status

from frontdesk.gateway.api.common import (
    TOO_MANY,
    Admitted,
    GateDep,
    created_after,
    created_page,
)
from frontdesk.gateway.api.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointPage,
    EndpointPatch,
    EndpointSecret,
    EventTypeOut,
)
from frontdesk.gateway.application import webhooks
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], responses=TOO_MANY)
types_router = APIRouter(prefix="/v1/webhook-event-types", tags=["webhooks"], responses=TOO_MANY)


@types_router.get("", response_model=list[EventTypeOut])
async def list_event_types(principal: Admitted) -> list[EventTypeOut]:
    return [
        EventTypeOut(
            type=t["type"], version=t["version"], summary=t["summary"], payload_schema=t["schema"]
        )
        for t in webhooks.event_types()
    ]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EndpointCreated)
async def register_endpoint(
    body: EndpointCreate,
    response: Response,
    uow: UnitOfWorkDep,
    gate: GateDep,
    principal: Admitted,
) -> EndpointCreated:
    endpoint = await webhooks.register(uow, gate, principal, body.model_dump())
    response.headers["ETag"] = etag(endpoint.version)
    response.headers["Location"] = f"{router.prefix}/{endpoint.id}"
    return EndpointCreated.of(endpoint)


@router.get("", response_model=EndpointPage)
async def list_endpoints(
    uow: UnitOfWorkDep,
    principal: Admitted,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> EndpointPage:
    found = await webhooks.page(uow, principal, after=created_after(cursor), limit=limit)
    items, next_cursor = created_page(found, limit)
    return EndpointPage(items=[EndpointOut.of(e) for e in items], next_cursor=next_cursor)


@router.get("/{endpoint_id}", response_model=EndpointOut)
async def get_endpoint(
    endpoint_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: Admitted
) -> EndpointOut:
    endpoint = await webhooks.get(uow, principal, endpoint_id)
    response.headers["ETag"] = etag(endpoint.version)
    return EndpointOut.of(endpoint)


@router.get("/{endpoint_id}/secret", response_model=EndpointSecret)
async def get_endpoint_secret(
    endpoint_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admitted
) -> EndpointSecret:
    return EndpointSecret(secret=(await webhooks.get(uow, principal, endpoint_id)).secret)


@router.patch("/{endpoint_id}", response_model=EndpointOut)
async def patch_endpoint(
    endpoint_id: uuid.UUID,
    body: EndpointPatch,
    response: Response,
    uow: UnitOfWorkDep,
    gate: GateDep,
    principal: Admitted,
    if_match: IfMatch = None,
) -> EndpointOut:
    endpoint = await webhooks.edit(
        uow,
        gate,
        principal,
        endpoint_id,
        patch_changes(body, ("url", "event_types", "active")),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(endpoint.version)
    return EndpointOut.of(endpoint)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_endpoint(
    endpoint_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admitted
) -> Response:
    await webhooks.remove(uow, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    endpoint_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: Admitted,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> DeliveryPage:
    """The delivery log, oldest first."""
    found = await webhooks.deliveries(
        uow, principal, endpoint_id, status=status, after=created_after(cursor), limit=limit
    )
    items, next_cursor = created_page(found, limit)
    return DeliveryPage(items=[DeliveryOut.of(d) for d in items], next_cursor=next_cursor)


@router.get("/{endpoint_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_delivery(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admitted
) -> DeliveryDetail:
    """The delivery, what it sends, and every attempt with its answer."""
    delivery, attempts = await webhooks.delivery(uow, principal, endpoint_id, delivery_id)
    return DeliveryDetail(
        **DeliveryOut.of(delivery).model_dump(),
        payload=delivery.payload,
        attempt_log=[AttemptOut(**{k: a[k] for k in AttemptOut.model_fields}) for a in attempts],
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
)
async def replay_delivery(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admitted
) -> DeliveryOut:
    """Sends it again now (the same ``webhook-id``), with a fresh retry schedule."""
    return DeliveryOut.of(await webhooks.replay(uow, principal, endpoint_id, delivery_id))
