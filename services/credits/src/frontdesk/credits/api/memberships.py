"""/v1/membership-plans and /v1/memberships (assign, renew, upgrade, downgrade, freeze,
unfreeze, cancel; every step in the membership's history)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from frontdesk.credits.adapters.repository import MembershipRepository, Page
from frontdesk.credits.adapters.tables import membership_plans
from frontdesk.credits.api.catalogue import Catalogue
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
    MembershipAssign,
    MembershipHistoryOut,
    MembershipHistoryPage,
    MembershipOut,
    MembershipPage,
    PlanChangeIn,
    PlanCreate,
    PlanOut,
    PlanPage,
    PlanPatch,
    ReasonIn,
)
from frontdesk.credits.application import memberships
from frontdesk.credits.domain.memberships import Change, MembershipStatus
from frontdesk.kit.auth import CurrentPrincipal, Principal
from frontdesk.kit.etags import IfMatch
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import InvalidInput, NotFound
from frontdesk.kit.service import RuntimeDep

plans_router = APIRouter(prefix="/v1/membership-plans", tags=["membership plans"])
router = APIRouter(prefix="/v1/memberships", tags=["memberships"])

PLANS = Catalogue(
    membership_plans,
    path=plans_router.prefix,
    missing="No such membership plan.",
    not_null=("name", "discount_percent", "included_services", "duration_days", "active"),
)


# --- plans ---------------------------------------------------------------------------


@plans_router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
async def create_plan(
    body: PlanCreate, response: Response, rt: RuntimeDep, principal: CreditsManager
) -> PlanOut:
    return PlanOut.of(await PLANS.add(rt, principal, body, response))


@plans_router.get("", response_model=PlanPage)
async def list_plans(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> PlanPage:
    rows, next_cursor = await PLANS.page(rt, principal, active, cursor, limit)
    return PlanPage(items=[PlanOut.of(r) for r in rows], next_cursor=next_cursor)


@plans_router.get("/{plan_id}", response_model=PlanOut)
async def get_plan(
    plan_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> PlanOut:
    return PlanOut.of(await PLANS.get(rt, principal, plan_id, response))


@plans_router.patch("/{plan_id}", response_model=PlanOut)
async def patch_plan(
    plan_id: uuid.UUID,
    body: PlanPatch,
    response: Response,
    rt: RuntimeDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> PlanOut:
    """Changes apply to later assignments; current memberships keep their terms."""
    row = await PLANS.patch(rt, principal, plan_id, body, if_match, response)
    return PlanOut.of(row)


@plans_router.delete("/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_plan(plan_id: uuid.UUID, rt: RuntimeDep, principal: CreditsManager) -> Response:
    """Retires the plan (no longer assignable); current memberships on it go on."""
    return await PLANS.retire(rt, principal, plan_id)


# --- memberships ---------------------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MembershipOut,
    responses={409: {"description": "The customer already has a current membership"}},
)
async def assign_membership(
    body: MembershipAssign, response: Response, rt: RuntimeDep, principal: CreditsManager
) -> MembershipOut:
    """Starts now (or at ``starts_at``) and expires after the plan's duration."""
    with rules():
        async with rt.uow() as uow:
            row = await memberships.assign(
                uow,
                principal.tenant_id,
                body.customer_id,
                body.plan_id,
                actor=principal.sub,
                starts_at=body.starts_at,
                reason=body.reason,
            )
            await uow.commit()
    response.headers["Location"] = f"/v1/memberships/{row['id']}"
    return MembershipOut.of(row)


@router.get("", response_model=MembershipPage)
async def list_memberships(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[MembershipStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipPage:
    scope = customer_scope(principal, customer_id)
    async with rt.uow() as uow:
        rows = await MembershipRepository(uow.session, principal.tenant_id).list(
            Page(limit + 1, created_cursor(cursor)),
            customer_id=scope,
            status=status_.value if status_ else None,
        )
    rows, next_cursor = split_page(rows, limit, created_after)
    return MembershipPage(items=[MembershipOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/history", response_model=MembershipHistoryPage)
async def customer_membership_history(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipHistoryPage:
    """Every membership step of one customer (all their memberships), oldest first."""
    scope = customer_scope(principal, customer_id)
    if scope is None:
        raise InvalidInput.for_field("customer_id", "required")
    return await _history(rt, principal, limit, cursor, customer_id=scope)


@router.get("/{membership_id}", response_model=MembershipOut)
async def get_membership(
    membership_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal
) -> MembershipOut:
    async with rt.uow() as uow:
        row = await MembershipRepository(uow.session, principal.tenant_id).get(membership_id)
    if row is None:
        raise NotFound("No such membership.")
    visible(principal, row["customer_id"], "membership")
    return MembershipOut.of(row)


@router.get("/{membership_id}/history", response_model=MembershipHistoryPage)
async def membership_history(
    membership_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipHistoryPage:
    async with rt.uow() as uow:
        row = await MembershipRepository(uow.session, principal.tenant_id).get(membership_id)
    if row is None:
        raise NotFound("No such membership.")
    visible(principal, row["customer_id"], "membership")
    return await _history(rt, principal, limit, cursor, membership_id=membership_id)


async def _history(
    rt: RuntimeDep, principal: Principal, limit: int, cursor: str | None, **filters: uuid.UUID
) -> MembershipHistoryPage:
    async with rt.uow() as uow:
        rows = await MembershipRepository(uow.session, principal.tenant_id).history(
            limit=limit + 1, after_seq=seq_cursor(cursor), **filters
        )
    rows, next_cursor = split_page(rows, limit, seq_after)
    return MembershipHistoryPage(
        items=[MembershipHistoryOut.of(r) for r in rows], next_cursor=next_cursor
    )


async def _change(
    rt: RuntimeDep,
    principal: Principal,
    membership_id: uuid.UUID,
    what: Change,
    reason: str | None,
    plan_id: uuid.UUID | None = None,
) -> MembershipOut:
    with rules("No such membership."):
        async with rt.uow() as uow:
            row = await memberships.change(
                uow,
                principal.tenant_id,
                membership_id,
                what,
                actor=principal.sub,
                plan_id=plan_id,
                reason=reason,
            )
            await uow.commit()
    return MembershipOut.of(row)


@router.post("/{membership_id}/renew", response_model=MembershipOut)
async def renew(
    membership_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    """One more plan period, from the current expiry (or from now if it lapsed)."""
    return await _change(
        rt, principal, membership_id, Change.renewed, body.reason if body else None
    )


@router.post("/{membership_id}/upgrade", response_model=MembershipOut)
async def upgrade(
    membership_id: uuid.UUID, body: PlanChangeIn, rt: RuntimeDep, principal: CreditsManager
) -> MembershipOut:
    """Moves to another plan from now, for that plan's duration."""
    return await _change(rt, principal, membership_id, Change.upgraded, body.reason, body.plan_id)


@router.post("/{membership_id}/downgrade", response_model=MembershipOut)
async def downgrade(
    membership_id: uuid.UUID, body: PlanChangeIn, rt: RuntimeDep, principal: CreditsManager
) -> MembershipOut:
    return await _change(rt, principal, membership_id, Change.downgraded, body.reason, body.plan_id)


@router.post("/{membership_id}/freeze", response_model=MembershipOut)
async def freeze(
    membership_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    return await _change(rt, principal, membership_id, Change.frozen, body.reason if body else None)


@router.post("/{membership_id}/unfreeze", response_model=MembershipOut)
async def unfreeze(
    membership_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    """The expiry moves later by the time the membership was frozen."""
    return await _change(
        rt, principal, membership_id, Change.unfrozen, body.reason if body else None
    )


@router.post("/{membership_id}/cancel", response_model=MembershipOut)
async def cancel(
    membership_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    return await _change(
        rt, principal, membership_id, Change.cancelled, body.reason if body else None
    )
