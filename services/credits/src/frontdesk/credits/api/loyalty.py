"""/v1/loyalty: the tenant's rule (staff with ``manage_credits``), each customer's
points and history, and redemptions (staff with ``manage_credits``, or a customer for
itself)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.credits.api.common import CreditsManager, problem, seq_after, seq_page
from frontdesk.credits.api.schemas import (
    LoyaltyAccountOut,
    LoyaltyEntryOut,
    LoyaltyHistoryPage,
    LoyaltyRuleIn,
    LoyaltyRuleOut,
    RedemptionIn,
    RedemptionOut,
    VoucherOut,
)
from frontdesk.credits.application import loyalty
from frontdesk.credits.domain.loyalty import Redemption
from frontdesk.kit.auth import CurrentPrincipal, Permission
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import Forbidden
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/loyalty", tags=["loyalty"])


@router.get("/rule", response_model=LoyaltyRuleOut)
async def get_rule(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> LoyaltyRuleOut:
    """404 when the studio has none (no loyalty)."""
    return LoyaltyRuleOut.of(await loyalty.rule(uow, principal))


@router.put("/rule", response_model=LoyaltyRuleOut)
async def put_rule(
    body: LoyaltyRuleIn, uow: UnitOfWorkDep, principal: CreditsManager
) -> LoyaltyRuleOut:
    """Sets the rule from now on; points already earned stay."""
    return LoyaltyRuleOut.of(await loyalty.set_rule(uow, principal, body.model_dump()))


@router.delete("/rule", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(uow: UnitOfWorkDep, principal: CreditsManager) -> Response:
    """No rule, no loyalty: nothing more is earned or redeemed; balances stay."""
    await loyalty.remove_rule(uow, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/accounts/{customer_id}", response_model=LoyaltyAccountOut)
async def get_account(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> LoyaltyAccountOut:
    found = await loyalty.standing(uow, principal, customer_id)
    return LoyaltyAccountOut(
        customer_id=found.customer_id,
        balance=found.balance,
        version=found.version,
        **found.totals,
        vouchers=[VoucherOut.of(v) for v in found.vouchers],
    )


@router.get("/accounts/{customer_id}/history", response_model=LoyaltyHistoryPage)
async def get_history(
    customer_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> LoyaltyHistoryPage:
    """Every earning, reversal (with any shortfall) and redemption, oldest first."""
    rows = await loyalty.history(
        uow, principal, customer_id, after_seq=seq_after(cursor), limit=limit
    )
    items, next_cursor = seq_page(rows, limit)
    return LoyaltyHistoryPage(items=[LoyaltyEntryOut.of(r) for r in items], next_cursor=next_cursor)


@router.post(
    "/redemptions",
    status_code=status.HTTP_201_CREATED,
    response_model=RedemptionOut,
    responses={
        200: {"model": RedemptionOut, "description": "Replay of an earlier redemption"},
        409: problem("More points than the balance (names points), no rule, or key reused"),
    },
)
async def redeem(
    body: RedemptionIn,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> RedemptionOut:
    """Points for credits (a package made as a purchase is) or a discount voucher."""
    if not principal.is_customer and not principal.can(Permission.manage_credits):
        raise Forbidden("Redeeming points needs the 'manage_credits' permission.")
    done = await loyalty.redeem(
        uow,
        principal,
        Redemption(
            customer_id=body.customer_id,
            redeem_for=body.redeem_for,
            credits=body.credits,
            points=body.points,
        ),
        idempotency_key=idempotency_key,
    )
    if not done.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return RedemptionOut.model_validate(done, from_attributes=True)
