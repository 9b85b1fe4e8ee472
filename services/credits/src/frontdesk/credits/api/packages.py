"""/v1/credit-packages and /v1/credit-history.

Staff read any customer's packages; changing them needs ``manage_credits`` (admins
and owners always may). A customer token sees only its own, and may buy a package
from an active product for itself.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.credits.api.common import (
    CreditsManager,
    created_after,
    created_page,
    problem,
    seq_after,
    seq_page,
)
from frontdesk.credits.api.schemas import (
    BalanceOut,
    CreditsChange,
    ExtendIn,
    HistoryEntryOut,
    HistoryPage,
    PackageOut,
    PackagePage,
    PackagePatch,
    PackagePurchase,
    ReasonIn,
    TopUpIn,
)
from frontdesk.credits.application import accounts, packages
from frontdesk.credits.domain.packages import Package, PackageStatus, TopUp
from frontdesk.kit.auth import CurrentPrincipal, Permission
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import Forbidden
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/credit-packages", tags=["credit packages"])
history_router = APIRouter(prefix="/v1/credit-history", tags=["credit history"])


def _answer(response: Response, package: Package) -> PackageOut:
    response.headers["ETag"] = etag(package.version)
    return PackageOut.of(package)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageOut,
    responses={
        200: {"model": PackageOut, "description": "Replay of an earlier purchase (same key)"},
        409: problem("Key reused for another purchase, or the customer was deleted"),
    },
)
async def purchase_package(
    body: PackagePurchase,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> PackageOut:
    """A customer token buys from an active product for itself; staff with
    ``manage_credits`` sell from a product or grant custom credits."""
    if not principal.is_customer and not principal.can(Permission.manage_credits):
        raise Forbidden("Selling credits needs the 'manage_credits' permission.")
    outcome = await packages.purchase(
        uow,
        principal,
        packages.PurchaseRequest(**body.model_dump()),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{outcome.package.id}"
    return _answer(response, outcome.package)


@router.get("", response_model=PackagePage)
async def list_packages(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[PackageStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> PackagePage:
    found = await packages.page(
        uow,
        principal,
        customer_id=customer_id,
        status=status_,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = created_page(found, limit)
    return PackagePage(items=[PackageOut.of(p) for p in items], next_cursor=next_cursor)


@router.get("/balance", response_model=BalanceOut)
async def get_balance(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, customer_id: uuid.UUID | None = None
) -> BalanceOut:
    """The customer's credit account: usable, paused and all credits ever bought."""
    return BalanceOut.of(await accounts.balance(uow, principal, customer_id))


@router.get("/{package_id}", response_model=PackageOut)
async def get_package(
    package_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> PackageOut:
    return _answer(response, await packages.get(uow, principal, package_id))


@router.patch(
    "/{package_id}",
    response_model=PackageOut,
    responses={412: problem("If-Match names an older version (current ETag sent)")},
)
async def rename_package(
    package_id: uuid.UUID,
    body: PackagePatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> PackageOut:
    package = await packages.rename(
        uow,
        principal,
        package_id,
        body.name,
        reason=body.reason,
        expected_version=expected_version(if_match),
    )
    return _answer(response, package)


@router.post(
    "/{package_id}/top-up",
    response_model=PackageOut,
    responses={409: problem("Key reused for another top-up, or the package is closed")},
)
async def top_up_package(
    package_id: uuid.UUID,
    body: TopUpIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    idempotency_key: IdempotencyKey = None,
) -> PackageOut:
    """Adds credits: a free adjustment (``credits``), a sale (``credits`` with
    ``price_minor``) or a product's credits at its price (``product_id``). Every top-up
    publishes ``credits.package.topped_up`` with its price (0 when free) for billing.
    The same ``Idempotency-Key`` answers the package again (``Idempotent-Replayed``)
    and adds nothing."""
    outcome = await packages.top_up(
        uow,
        principal,
        package_id,
        TopUp(
            credits=body.credits,
            product_id=body.product_id,
            price_minor=body.price_minor,
            currency=body.currency,
        ),
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.headers["Idempotent-Replayed"] = "true"
    return _answer(response, outcome.package)


@router.post("/{package_id}/deduct", response_model=PackageOut)
async def deduct_from_package(
    package_id: uuid.UUID,
    body: CreditsChange,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
) -> PackageOut:
    package = await packages.deduct(uow, principal, package_id, body.credits, reason=body.reason)
    return _answer(response, package)


@router.post("/{package_id}/pause", response_model=PackageOut)
async def pause_package(
    package_id: uuid.UUID,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> PackageOut:
    reason = body.reason if body else None
    return _answer(response, await packages.pause(uow, principal, package_id, reason=reason))


@router.post("/{package_id}/resume", response_model=PackageOut)
async def resume_package(
    package_id: uuid.UUID,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> PackageOut:
    """The expiry moves later by the time the package was paused."""
    reason = body.reason if body else None
    return _answer(response, await packages.resume(uow, principal, package_id, reason=reason))


@router.post("/{package_id}/extend", response_model=PackageOut)
async def extend_package(
    package_id: uuid.UUID,
    body: ExtendIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
) -> PackageOut:
    """A later expiry (``expires_at``, or ``days`` added); an expired package comes back
    with its expired credits. The expiry stays before 2200."""
    package = await packages.extend(
        uow,
        principal,
        package_id,
        expires_at=body.expires_at,
        days=body.days,
        reason=body.reason,
    )
    return _answer(response, package)


@history_router.get("", response_model=HistoryPage)
async def list_history(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    package_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> HistoryPage:
    """Every change to credits, oldest first: who, when, why, delta and balances after."""
    rows = await accounts.history(
        uow,
        principal,
        customer_id=customer_id,
        package_id=package_id,
        booking_id=booking_id,
        after_seq=seq_after(cursor),
        limit=limit,
    )
    items, next_cursor = seq_page(rows, limit)
    return HistoryPage(items=[HistoryEntryOut.of(r) for r in items], next_cursor=next_cursor)
