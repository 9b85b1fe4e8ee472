"""/v1/credit-products: the catalogue. Staff with manage_credits (or admins) edit it;
everyone in the tenant, customers too, lists the active products."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.credits.adapters.repository import CatalogueRepository, Page
from frontdesk.credits.api.common import (
    CreditsManager,
    created_after,
    created_cursor,
)
from frontdesk.credits.api.schemas import ProductCreate, ProductOut, ProductPage, ProductPatch
from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch, check_if_match, etag
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import NotFound, patch_changes
from frontdesk.kit.service import RuntimeDep

router = APIRouter(prefix="/v1/credit-products", tags=["credit products"])

NOT_NULL = ("name", "credits", "price_minor", "currency", "active")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductOut)
async def create_product(
    body: ProductCreate, response: Response, rt: RuntimeDep, principal: CreditsManager
) -> ProductOut:
    async with rt.uow() as uow:
        row = await CatalogueRepository.products(uow.session, principal.tenant_id).add(
            {"id": uuid.uuid4(), **body.model_dump()}
        )
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    response.headers["Location"] = f"/v1/credit-products/{row['id']}"
    return ProductOut.of(row)


@router.get("", response_model=ProductPage)
async def list_products(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ProductPage:
    """Customers see only the active products."""
    if principal.is_customer:
        active = True
    async with rt.uow() as uow:
        rows = await CatalogueRepository.products(uow.session, principal.tenant_id).list(
            Page(limit + 1, created_cursor(cursor)), active=active
        )
    rows, next_cursor = split_page(rows, limit, created_after)
    return ProductPage(items=[ProductOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(
    product_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> ProductOut:
    async with rt.uow() as uow:
        row = await CatalogueRepository.products(uow.session, principal.tenant_id).get(product_id)
    if row is None or (principal.is_customer and not row["active"]):
        raise NotFound("No such credit product.")
    response.headers["ETag"] = etag(row["version"])
    return ProductOut.of(row)


@router.patch("/{product_id}", response_model=ProductOut)
async def patch_product(
    product_id: uuid.UUID,
    body: ProductPatch,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> ProductOut:
    """Changes apply to future purchases; packages already bought keep their terms."""
    changes = patch_changes(body, NOT_NULL)
    async with rt.uow() as uow:
        repo = CatalogueRepository.products(uow.session, principal.tenant_id)
        current = await repo.get(product_id, for_update=True)
        if current is None:
            raise NotFound("No such credit product.")
        check_if_match(if_match, current["version"])
        row = await repo.update(product_id, changes) if changes else current
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return ProductOut.of(row)


@router.delete("/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_product(
    product_id: uuid.UUID, rt: RuntimeDep, principal: CreditsManager
) -> Response:
    """Retires the product (no longer sold); packages bought from it stay."""
    async with rt.uow() as uow:
        repo = CatalogueRepository.products(uow.session, principal.tenant_id)
        if await repo.get(product_id, for_update=True) is None:
            raise NotFound("No such credit product.")
        await repo.update(product_id, {"active": False})
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
