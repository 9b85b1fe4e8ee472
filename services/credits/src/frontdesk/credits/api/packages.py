"""/v1/credit-packages and /v1/credit-history.

Staff read any customer's packages; changing them needs ``manage_credits``
(admins and owners always may). A customer token sees only its own, and may
buy a package from an active product for itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import RowMapping

from frontdesk.credits.adapters.repository import (
    AccountRepository,
    HistoryRepository,
    PackageRepository,
    Page,
)
from frontdesk.credits.api.common import (
    CreditsManager,
    created_after,
    created_cursor,
    customer_scope,
    rules,
    seq_after,
    seq_cursor,
    visible,
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
from frontdesk.credits.application import ledger
from frontdesk.credits.domain.packages import PackageStatus
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal
from frontdesk.kit.etags import IfMatch, etag
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import Forbidden, InvalidInput, NotFound
from frontdesk.kit.service import RuntimeDep
from frontdesk.kit.uow import UnitOfWork

router = APIRouter(prefix="/v1/credit-packages", tags=["credit packages"])
history_router = APIRouter(prefix="/v1/credit-history", tags=["credit history"])


def _buyer(principal: Principal, body: PackagePurchase) -> ledger.Purchase:
    if principal.is_customer:
        own = principal.customer_id
        if own is None:
            raise Forbidden("This token names no customer.")
        if body.customer_id is not None and body.customer_id != own:
            raise NotFound("No such customer.")
        if body.product_id is None or body.credits is not None:
            raise InvalidInput.for_field("product_id", "customers buy from a product")
        return ledger.Purchase(customer_id=own, product_id=body.product_id, reason=body.reason)
    if not principal.can(Permission.manage_credits):
        raise Forbidden("Selling credits needs the 'manage_credits' permission.")
    if body.customer_id is None:
        raise InvalidInput.for_field("customer_id", "required")
    if (body.product_id is None) == (body.credits is None):
        raise InvalidInput.for_field(
            "product_id", "give either product_id or credits (a custom grant), not both"
        )
    if body.product_id is not None:
        extra = {k for k in ("name", "validity_days", "expires_at") if getattr(body, k) is not None}
        if extra:
            field = sorted(extra)[0]
            raise InvalidInput.for_field(field, "only for a custom grant (without product_id)")
        return ledger.Purchase(
            customer_id=body.customer_id, product_id=body.product_id, reason=body.reason
        )
    assert body.credits is not None
    grant = ledger.Grant(
        name=body.name or "Credit grant",
        credits=body.credits,
        validity_days=body.validity_days,
        expires_at=body.expires_at,
        price_minor=body.price_minor,
        currency=body.currency,
    )
    return ledger.Purchase(customer_id=body.customer_id, grant=grant, reason=body.reason)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageOut,
    responses={
        200: {"model": PackageOut, "description": "Replay of an earlier purchase (same key)"},
        409: {"description": "Key reused for another purchase, or the customer was deleted"},
    },
)
async def purchase_package(
    body: PackagePurchase,
    response: Response,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> PackageOut:
    request = _buyer(principal, body)
    with rules("No such package."):
        async with rt.uow() as uow:
            row, created = await ledger.purchase(
                uow,
                principal.tenant_id,
                request,
                actor=principal.sub,
                idempotency_key=idempotency_key,
            )
            if created:
                await uow.commit()
    if not created:
        if principal.is_customer and row["customer_id"] != principal.customer_id:
            raise NotFound("No such package.")
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = etag(row["version"])
    response.headers["Location"] = f"/v1/credit-packages/{row['id']}"
    return PackageOut.of(row)


@router.get("", response_model=PackagePage)
async def list_packages(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[PackageStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> PackagePage:
    scope = customer_scope(principal, customer_id)
    async with rt.uow() as uow:
        rows = await PackageRepository(uow.session, principal.tenant_id).list(
            Page(limit + 1, created_cursor(cursor)),
            customer_id=scope,
            status=status_.value if status_ else None,
        )
    rows, next_cursor = split_page(rows, limit, created_after)
    return PackagePage(items=[PackageOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/balance", response_model=BalanceOut)
async def get_balance(
    rt: RuntimeDep, principal: CurrentPrincipal, customer_id: uuid.UUID | None = None
) -> BalanceOut:
    """The customer's credit account: usable, paused and all credits ever bought."""
    scope = customer_scope(principal, customer_id)
    if scope is None:
        raise InvalidInput.for_field("customer_id", "required")
    async with rt.uow() as uow:
        account = await AccountRepository(uow.session, principal.tenant_id).get(scope)
    if account is None:
        return BalanceOut(customer_id=scope, available=0, paused=0, purchased_total=0, version=0)
    return BalanceOut(
        customer_id=scope,
        available=account["available"],
        paused=account["paused"],
        purchased_total=account["purchased_total"],
        version=account["version"],
    )


@router.get("/{package_id}", response_model=PackageOut)
async def get_package(
    package_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> PackageOut:
    async with rt.uow() as uow:
        row = await PackageRepository(uow.session, principal.tenant_id).get(package_id)
    if row is None:
        raise NotFound("No such package.")
    visible(principal, row["customer_id"], "package")
    response.headers["ETag"] = etag(row["version"])
    return PackageOut.of(row)


async def _act(
    rt: Any,
    response: Response,
    op: Callable[[UnitOfWork], Awaitable[RowMapping]],
) -> PackageOut:
    with rules("No such package."):
        async with rt.uow() as uow:
            row = await op(uow)
            await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return PackageOut.of(row)


@router.patch(
    "/{package_id}",
    response_model=PackageOut,
    responses={412: {"description": "If-Match names an older version (current ETag sent)"}},
)
async def rename_package(
    package_id: uuid.UUID,
    body: PackagePatch,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> PackageOut:
    return await _act(
        rt,
        response,
        lambda uow: ledger.rename(
            uow,
            principal.tenant_id,
            package_id,
            body.name,
            actor=principal.sub,
            reason=body.reason,
            if_match=if_match,
        ),
    )


@router.post(
    "/{package_id}/top-up",
    response_model=PackageOut,
    responses={
        409: {"description": "Key reused for another top-up, or the package is closed"},
    },
)
async def top_up_package(
    package_id: uuid.UUID,
    body: TopUpIn,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    idempotency_key: IdempotencyKey = None,
) -> PackageOut:
    """Adds credits: a free adjustment (``credits``), a sale (``credits`` with
    ``price_minor``) or a product's credits at its price (``product_id``). Every top-up
    publishes ``credits.package.topped_up`` with its price (0 when free) for billing.
    The same ``Idempotency-Key`` answers the package again (``Idempotent-Replayed``)
    and adds nothing."""
    request = ledger.TopUp(
        credits=body.credits,
        product_id=body.product_id,
        price_minor=body.price_minor,
        currency=body.currency,
    )
    with rules("No such package."):
        async with rt.uow() as uow:
            row, created = await ledger.top_up(
                uow,
                principal.tenant_id,
                package_id,
                request,
                actor=principal.sub,
                reason=body.reason,
                idempotency_key=idempotency_key,
            )
            if created:
                await uow.commit()
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = etag(row["version"])
    return PackageOut.of(row)


@router.post("/{package_id}/deduct", response_model=PackageOut)
async def deduct_from_package(
    package_id: uuid.UUID,
    body: CreditsChange,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
) -> PackageOut:
    return await _act(
        rt,
        response,
        lambda uow: ledger.deduct(
            uow,
            principal.tenant_id,
            package_id,
            body.credits,
            actor=principal.sub,
            reason=body.reason,
        ),
    )


@router.post("/{package_id}/pause", response_model=PackageOut)
async def pause_package(
    package_id: uuid.UUID,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> PackageOut:
    reason = body.reason if body else None
    return await _act(
        rt,
        response,
        lambda uow: ledger.pause(
            uow, principal.tenant_id, package_id, actor=principal.sub, reason=reason
        ),
    )


@router.post("/{package_id}/resume", response_model=PackageOut)
async def resume_package(
    package_id: uuid.UUID,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> PackageOut:
    """The expiry moves later by the time the package was paused."""
    reason = body.reason if body else None
    return await _act(
        rt,
        response,
        lambda uow: ledger.resume(
            uow, principal.tenant_id, package_id, actor=principal.sub, reason=reason
        ),
    )


@router.post("/{package_id}/extend", response_model=PackageOut)
async def extend_package(
    package_id: uuid.UUID,
    body: ExtendIn,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
) -> PackageOut:
    """A later expiry (``expires_at``, or ``days`` added); an expired package comes back
    with its expired credits."""
    return await _act(
        rt,
        response,
        lambda uow: ledger.extend(
            uow,
            principal.tenant_id,
            package_id,
            expires_at=body.expires_at,
            days=body.days,
            actor=principal.sub,
            reason=body.reason,
        ),
    )


@history_router.get("", response_model=HistoryPage)
async def list_history(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    package_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> HistoryPage:
    """Every change to credits, oldest first: who, when, why, delta and balances after."""
    scope = customer_scope(principal, customer_id)
    async with rt.uow() as uow:
        rows = await HistoryRepository(uow.session, principal.tenant_id).list(
            limit=limit + 1,
            after_seq=seq_cursor(cursor),
            customer_id=scope,
            package_id=package_id,
            booking_id=booking_id,
        )
    rows, next_cursor = split_page(rows, limit, seq_after)
    return HistoryPage(items=[HistoryEntryOut.of(r) for r in rows], next_cursor=next_cursor)
