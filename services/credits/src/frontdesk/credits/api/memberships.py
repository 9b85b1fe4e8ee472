"""/v1/membership-plans and /v1/memberships (assign, renew, upgrade, downgrade, freeze,
unfreeze, cancel; every step in the membership's history)."""

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
from frontdesk.credits.application.catalogue import PLANS
from frontdesk.credits.domain.memberships import Change, MembershipStatus
from frontdesk.kit.auth import CurrentPrincipal, Principal
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.uow import UnitOfWork

plans_router = APIRouter(prefix="/v1/membership-plans", tags=["membership plans"])
router = APIRouter(prefix="/v1/memberships", tags=["memberships"])

NOT_NULL = ("name", "discount_percent", "included_services", "duration_days", "active")


# --- plans ---------------------------------------------------------------------------


@plans_router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
async def create_plan(
    body: PlanCreate, response: Response, uow: UnitOfWorkDep, principal: CreditsManager
) -> PlanOut:
    plan = await PLANS.create(uow, principal, body.model_dump())
    response.headers["ETag"] = etag(plan.version)
    response.headers["Location"] = f"{plans_router.prefix}/{plan.id}"
    return PlanOut.of(plan)


@plans_router.get("", response_model=PlanPage)
async def list_plans(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    active: bool | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> PlanPage:
    """Customers see only the active plans."""
    found = await PLANS.page(
        uow, principal, active=active, after=created_after(cursor), limit=limit
    )
    items, next_cursor = created_page(found, limit)
    return PlanPage(items=[PlanOut.of(p) for p in items], next_cursor=next_cursor)


@plans_router.get("/{plan_id}", response_model=PlanOut)
async def get_plan(
    plan_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> PlanOut:
    plan = await PLANS.get(uow, principal, plan_id)
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.of(plan)


@plans_router.patch("/{plan_id}", response_model=PlanOut)
async def patch_plan(
    plan_id: uuid.UUID,
    body: PlanPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    if_match: IfMatch = None,
) -> PlanOut:
    """Changes apply to later assignments; current memberships keep their terms."""
    plan = await PLANS.edit(
        uow,
        principal,
        plan_id,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.of(plan)


@plans_router.delete(
    "/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Retire a membership plan (it is not deleted)",
)
async def retire_plan(
    plan_id: uuid.UUID, uow: UnitOfWorkDep, principal: CreditsManager
) -> Response:
    """Retires the plan: it can no longer be assigned and customers no longer see it, but
    it is not deleted. Staff still read it (``active: false``), and current memberships
    on it go on with their terms. ``PATCH`` with ``{"active": true}`` offers it again."""
    await PLANS.retire(uow, principal, plan_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- memberships ---------------------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MembershipOut,
    responses={409: problem("The customer already has a current membership, or was deleted")},
)
async def assign_membership(
    body: MembershipAssign, response: Response, uow: UnitOfWorkDep, principal: CreditsManager
) -> MembershipOut:
    """Starts now (or at ``starts_at``) and expires after the plan's duration."""
    membership = await memberships.assign(
        uow,
        principal,
        body.customer_id,
        body.plan_id,
        starts_at=body.starts_at,
        reason=body.reason,
    )
    response.headers["Location"] = f"{router.prefix}/{membership.id}"
    return MembershipOut.of(membership)


@router.get("", response_model=MembershipPage)
async def list_memberships(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[MembershipStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipPage:
    found = await memberships.page(
        uow,
        principal,
        customer_id=customer_id,
        status=status_,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = created_page(found, limit)
    return MembershipPage(items=[MembershipOut.of(m) for m in items], next_cursor=next_cursor)


@router.get("/history", response_model=MembershipHistoryPage)
async def customer_membership_history(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipHistoryPage:
    """Every membership step of one customer (all their memberships), oldest first."""
    rows = await memberships.history(
        uow, principal, customer_id=customer_id, after_seq=seq_after(cursor), limit=limit
    )
    items, next_cursor = seq_page(rows, limit)
    return MembershipHistoryPage(
        items=[MembershipHistoryOut.of(r) for r in items], next_cursor=next_cursor
    )


@router.get("/{membership_id}", response_model=MembershipOut)
async def get_membership(
    membership_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> MembershipOut:
    return MembershipOut.of(await memberships.get(uow, principal, membership_id))


@router.get("/{membership_id}/history", response_model=MembershipHistoryPage)
async def membership_history(
    membership_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> MembershipHistoryPage:
    rows = await memberships.history(
        uow, principal, membership_id=membership_id, after_seq=seq_after(cursor), limit=limit
    )
    items, next_cursor = seq_page(rows, limit)
    return MembershipHistoryPage(
        items=[MembershipHistoryOut.of(r) for r in items], next_cursor=next_cursor
    )


async def _change(
    uow: UnitOfWork,
    principal: Principal,
    membership_id: uuid.UUID,
    what: Change,
    body: ReasonIn | PlanChangeIn | None,
) -> MembershipOut:
    membership = await memberships.change(
        uow,
        principal,
        membership_id,
        what,
        plan_id=body.plan_id if isinstance(body, PlanChangeIn) else None,
        reason=body.reason if body else None,
    )
    return MembershipOut.of(membership)


@router.post("/{membership_id}/renew", response_model=MembershipOut)
async def renew(
    membership_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    """One more plan period, from the current expiry (or from now if it lapsed)."""
    return await _change(uow, principal, membership_id, Change.renewed, body)


@router.post("/{membership_id}/upgrade", response_model=MembershipOut)
async def upgrade(
    membership_id: uuid.UUID, body: PlanChangeIn, uow: UnitOfWorkDep, principal: CreditsManager
) -> MembershipOut:
    """Moves to another plan from now, for that plan's duration."""
    return await _change(uow, principal, membership_id, Change.upgraded, body)


@router.post("/{membership_id}/downgrade", response_model=MembershipOut)
async def downgrade(
    membership_id: uuid.UUID, body: PlanChangeIn, uow: UnitOfWorkDep, principal: CreditsManager
) -> MembershipOut:
    """Moves to another plan from now, for that plan's duration."""
    return await _change(uow, principal, membership_id, Change.downgraded, body)


@router.post("/{membership_id}/freeze", response_model=MembershipOut)
async def freeze(
    membership_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    return await _change(uow, principal, membership_id, Change.frozen, body)


@router.post("/{membership_id}/unfreeze", response_model=MembershipOut)
async def unfreeze(
    membership_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    """The expiry moves later by the time the membership was frozen."""
    return await _change(uow, principal, membership_id, Change.unfrozen, body)


@router.post("/{membership_id}/cancel", response_model=MembershipOut)
async def cancel(
    membership_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CreditsManager,
    body: ReasonIn | None = None,
) -> MembershipOut:
    return await _change(uow, principal, membership_id, Change.cancelled, body)
