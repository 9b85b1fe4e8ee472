"""/v1/program-products (the catalogue of programs) and /v1/programs (programs bought,
with their progress). Staff with ``manage_credits`` sell programs and edit the catalogue;
a customer token buys from an active product for itself and sees only its own."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.credits.api.common import CreditsManager, created_after, created_page, problem
from frontdesk.credits.api.schemas import (
    ProgramOut,
    ProgramPage,
    ProgramProductCreate,
    ProgramProductOut,
    ProgramProductPage,
    ProgramProductPatch,
    ProgramPurchase,
)
from frontdesk.credits.application import programs
from frontdesk.credits.application.programs import PROGRAM_PRODUCTS
from frontdesk.kit.auth import CurrentPrincipal, Permission
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import Forbidden, patch_changes
from frontdesk.kit.service import UnitOfWorkDep

products_router = APIRouter(prefix="/v1/program-products", tags=["programs"])
router = APIRouter(prefix="/v1/programs", tags=["programs"])

NOT_NULL = ("name", "sessions", "price_minor", "currency", "active")


@products_router.post("", status_code=status.HTTP_201_CREATED, response_model=ProgramProductOut)
async def create_program_product(
    body: ProgramProductCreate, response: Response, uow: UnitOfWorkDep, principal: CreditsManager
) -> ProgramProductOut:
    product = await PROGRAM_PRODUCTS.create(uow, principal, body.model_dump())
    response.headers["ETag"] = etag(product.version)
    response.headers["Location"] = f"{products_router.prefix}/{product.id}"
    return ProgramProductOut.of(product)


@products_router.get("", response_model=ProgramProductPage)
async def list_program_products(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ProgramProductPage:
    """Customers see only the active ones."""
    found = await PROGRAM_PRODUCTS.page(
        uow, principal, active=active, after=created_after(cursor), limit=limit
    )
    items, next_cursor = created_page(found, limit)
    return ProgramProductPage(
        items=[ProgramProductOut.of(p) for p in items], next_cursor=next_cursor
    )


@products_router.get("/{product_id}", response_model=ProgramProductOut)
async def get_program_product(
    product_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> ProgramProductOut:
    product = await PROGRAM_PRODUCTS.get(uow, principal, product_id)
    response.headers["ETag"] = etag(product.version)
    return ProgramProductOut.of(product)


@products_router.patch("/{product_id}", response_model=ProgramProductOut)
async def patch_program_product(
    product_id: uuid.UUID,
    body: ProgramProductPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> ProgramProductOut:
    """Changes apply to later sales; programs bought keep their terms."""
    product = await PROGRAM_PRODUCTS.edit(
        uow,
        principal,
        product_id,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(product.version)
    return ProgramProductOut.of(product)


@products_router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Retire a program product (it is not deleted)",
)
async def retire_program_product(
    product_id: uuid.UUID, uow: UnitOfWorkDep, principal: CreditsManager
) -> Response:
    await PROGRAM_PRODUCTS.retire(uow, principal, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgramOut,
    responses={
        200: {"model": ProgramOut, "description": "Replay of an earlier purchase (same key)"},
        409: problem("Key reused for another purchase, or the customer was deleted"),
    },
)
async def buy_program(
    body: ProgramPurchase,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> ProgramOut:
    """A program bought as one, on the product's terms (``credits.program.purchased``)."""
    if not principal.is_customer and not principal.can(Permission.manage_credits):
        raise Forbidden("Selling programs needs the 'manage_credits' permission.")
    bought = await programs.purchase(
        uow, principal, body.customer_id, body.product_id, idempotency_key=idempotency_key
    )
    if not bought.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{bought.program.id}"
    return ProgramOut.of(await programs.get(uow, principal, bought.program.id))


@router.get("", response_model=ProgramPage)
async def list_programs(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> ProgramPage:
    """Programs with their progress: used / total, the next confirmed session, expiry."""
    found = await programs.page(
        uow, principal, customer_id=customer_id, after=created_after(cursor), limit=limit
    )
    items, next_cursor = created_page([p.program for p in found], limit)
    shown = {p.id for p in items}
    return ProgramPage(
        items=[ProgramOut.of(p) for p in found if p.program.id in shown], next_cursor=next_cursor
    )


@router.get("/{program_id}", response_model=ProgramOut)
async def get_program(
    program_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> ProgramOut:
    return ProgramOut.of(await programs.get(uow, principal, program_id))
