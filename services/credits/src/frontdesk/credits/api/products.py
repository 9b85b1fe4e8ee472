"""/v1/credit-products: the catalogue. Staff with manage_credits (or admins) edit it;
everyone in the tenant, customers too, lists the active products."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.credits.adapters.tables import credit_products
from frontdesk.credits.api.catalogue import Catalogue
from frontdesk.credits.api.common import (
    CreditsManager,
)
from frontdesk.credits.api.schemas import ProductCreate, ProductOut, ProductPage, ProductPatch
from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.etags import IfMatch
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.service import RuntimeDep

router = APIRouter(prefix="/v1/credit-products", tags=["credit products"])

PRODUCTS = Catalogue(
    credit_products,
    path=router.prefix,
    missing="No such credit product.",
    not_null=("name", "credits", "price_minor", "currency", "active"),
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductOut)
async def create_product(
    body: ProductCreate, response: Response, rt: RuntimeDep, principal: CreditsManager
) -> ProductOut:
    return ProductOut.of(await PRODUCTS.add(rt, principal, body, response))


@router.get("", response_model=ProductPage)
async def list_products(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ProductPage:
    """Customers see only the active products."""
    rows, next_cursor = await PRODUCTS.page(rt, principal, active, cursor, limit)
    return ProductPage(items=[ProductOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(
    product_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> ProductOut:
    return ProductOut.of(await PRODUCTS.get(rt, principal, product_id, response))


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
    row = await PRODUCTS.patch(rt, principal, product_id, body, if_match, response)
    return ProductOut.of(row)


@router.delete("/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_product(
    product_id: uuid.UUID, rt: RuntimeDep, principal: CreditsManager
) -> Response:
    """Retires the product (no longer sold); packages bought from it stay."""
    return await PRODUCTS.retire(rt, principal, product_id)
