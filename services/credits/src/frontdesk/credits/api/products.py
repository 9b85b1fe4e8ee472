"""/v1/credit-products: the catalogue. Staff with manage_credits (or admins) edit it;
everyone in the tenant, customers too, lists the active products."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.credits.api.common import (
    CreditsManager,
    created_after,
    created_page,
)
from frontdesk.credits.api.schemas import ProductCreate, ProductOut, ProductPage, ProductPatch
from frontdesk.credits.application.catalogue import PRODUCTS
from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/credit-products", tags=["credit products"])

NOT_NULL = ("name", "credits", "price_minor", "currency", "active")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductOut)
async def create_product(
    body: ProductCreate, response: Response, uow: UnitOfWorkDep, principal: CreditsManager
) -> ProductOut:
    product = await PRODUCTS.create(uow, principal, body.model_dump())
    response.headers["ETag"] = etag(product.version)
    response.headers["Location"] = f"{router.prefix}/{product.id}"
    return ProductOut.of(product)


@router.get("", response_model=ProductPage)
async def list_products(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ProductPage:
    """Customers see only the active products."""
    found = await PRODUCTS.page(
        uow, principal, active=active, after=created_after(cursor), limit=limit
    )
    items, next_cursor = created_page(found, limit)
    return ProductPage(items=[ProductOut.of(p) for p in items], next_cursor=next_cursor)


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(
    product_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> ProductOut:
    product = await PRODUCTS.get(uow, principal, product_id)
    response.headers["ETag"] = etag(product.version)
    return ProductOut.of(product)


@router.patch("/{product_id}", response_model=ProductOut)
async def patch_product(
    product_id: uuid.UUID,
    body: ProductPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> ProductOut:
    """Changes apply to future purchases; packages already bought keep their terms."""
    product = await PRODUCTS.edit(
        uow,
        principal,
        product_id,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(product.version)
    return ProductOut.of(product)


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Retire a credit product (it is not deleted)",
)
async def retire_product(
    product_id: uuid.UUID, uow: UnitOfWorkDep, principal: CreditsManager
) -> Response:
    """Retires the product: it is no longer sold and customers no longer see it, but it
    is not deleted. Staff still read it (``active: false``), and packages bought from it
    keep their credits and terms. ``PATCH`` with ``{"active": true}`` sells it again."""
    await PRODUCTS.retire(uow, principal, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
