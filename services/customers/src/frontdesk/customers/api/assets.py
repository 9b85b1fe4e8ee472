"""Customer assets (C15): /v1/customers/{id}/assets."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.customers.api.common import CustomersRuntime, Editor, answer
from frontdesk.customers.api.schemas import AssetCreate, AssetOut, AssetPatch
from frontdesk.customers.application import assets
from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/customers", tags=["assets"])


def _answer(asset: AssetOut, *, status_code: int = 200) -> Response:
    return answer(asset, status_code=status_code, headers={"ETag": etag(asset.version)})


@router.get("/{customer_id}/assets", response_model=list[AssetOut])
async def list_assets(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[AssetOut]:
    return [AssetOut.of(a) for a in await assets.of_customer(uow, principal, customer_id)]


@router.post("/{customer_id}/assets", status_code=status.HTTP_201_CREATED, response_model=AssetOut)
async def add_asset(
    customer_id: uuid.UUID,
    body: AssetCreate,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: Editor,
) -> Response:
    """A vehicle needs a plate (unique in the business) or a VIN (validated)."""
    asset = await assets.add(
        uow,
        principal,
        customer_id,
        body.kind.value,
        body.model_dump(exclude={"kind"}),
        region=rt.settings.default_region,
    )
    return _answer(AssetOut.of(asset), status_code=status.HTTP_201_CREATED)


@router.patch("/{customer_id}/assets/{asset_id}", response_model=AssetOut)
async def edit_asset(
    customer_id: uuid.UUID,
    asset_id: uuid.UUID,
    body: AssetPatch,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: Editor,
    if_match: IfMatch = None,
) -> Response:
    """Only the fields given; an empty or null plate or VIN removes it."""
    asset = await assets.edit(
        uow,
        principal,
        customer_id,
        asset_id,
        body.model_dump(exclude_unset=True),
        region=rt.settings.default_region,
        expected_version=expected_version(if_match),
    )
    return _answer(AssetOut.of(asset))


@router.delete("/{customer_id}/assets/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_asset(
    customer_id: uuid.UUID, asset_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    await assets.remove(uow, principal, customer_id, asset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
