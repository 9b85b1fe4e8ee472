"""Customer assets (C15): list, add, edit, remove; each change is ``AssetChanged``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from frontdesk.customers.adapters.assets import AssetRepository
from frontdesk.customers.adapters.customers import CustomerRepository
from frontdesk.customers.domain.assets import Asset, clean_asset
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork


async def of_customer(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> list[Asset]:
    principal.ensure_sees(customer_id, "customer")
    await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    return await AssetRepository(uow.session, principal.tenant_id).of_customer(customer_id)


async def add(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    kind: str,
    values: Mapping[str, Any],
    *,
    region: str,
) -> Asset:
    """A vehicle with its plate (unique in the tenant) and/or VIN (validated)."""
    cleaned = clean_asset(values, region, datetime.now(UTC))
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(
        customer_id, for_update=True
    )
    customer.ensure_editable()
    asset = Asset.add(principal.tenant_id, customer_id, kind, cleaned)
    await AssetRepository(uow.session, principal.tenant_id).write(asset, new=True)
    uow.publish_recorded(asset)
    await uow.commit()
    return asset


async def _owned(repo: AssetRepository, customer_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    asset = await repo.owned(customer_id, asset_id, for_update=True)
    if asset is None:
        raise NotFoundError.of("asset")
    return asset


async def edit(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    asset_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    region: str,
    expected_version: int | None,
) -> Asset:
    cleaned = clean_asset(changes, region, datetime.now(UTC))
    repo = AssetRepository(uow.session, principal.tenant_id)
    asset = await _owned(repo, customer_id, asset_id)
    asset.edit(cleaned, expected_version=expected_version)
    if asset.changed:
        await repo.write(asset, new=False)
        uow.publish_recorded(asset)
    await uow.commit()
    return asset


async def remove(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID, asset_id: uuid.UUID
) -> None:
    repo = AssetRepository(uow.session, principal.tenant_id)
    asset = await _owned(repo, customer_id, asset_id)
    await repo.remove(asset.id)
    asset.remove()
    uow.publish_recorded(asset)
    await uow.commit()
