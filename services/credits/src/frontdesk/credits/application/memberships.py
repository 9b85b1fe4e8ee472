"""Memberships: assign, change, read, expire; every step kept in the history.

Membership events carry the membership as aggregate, with its version after the step
as ``aggregate_version`` (monotonic: every change bumps it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from frontdesk.credits.adapters.accounts import AccountRepository
from frontdesk.credits.adapters.catalogue import PlanRepository
from frontdesk.credits.adapters.common import CreatedKey
from frontdesk.credits.adapters.memberships import MembershipRepository
from frontdesk.credits.application.accounts import utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.catalogue import offered
from frontdesk.credits.domain.memberships import (
    PLAN_CHANGES,
    Change,
    Membership,
    MembershipStatus,
)
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.uow import UnitOfWork


async def saved_with_history(
    uow: UnitOfWork, repo: MembershipRepository, membership: Membership
) -> None:
    await repo.add_steps(membership)
    uow.publish_recorded(membership)


async def assign(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    plan_id: uuid.UUID,
    *,
    starts_at: datetime | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Membership:
    """Starts now (or at ``starts_at``) and expires after the plan's duration; one
    current membership per customer."""
    now = now or utcnow()
    tenant_id = principal.tenant_id
    plan = offered(await PlanRepository(uow.session, tenant_id).get(plan_id))
    account = await AccountRepository(uow.session, tenant_id).get(customer_id)
    if account is not None:
        account.require_open()
    repo = MembershipRepository(uow.session, tenant_id)
    if await repo.current_of(customer_id):
        raise ConflictError(
            "the customer already has a current membership: renew, upgrade or downgrade it",
            field="customer_id",
        )
    membership = Membership.assign(
        plan,
        tenant_id=tenant_id,
        customer_id=customer_id,
        actor=principal.sub,
        now=now,
        starts_at=starts_at,
        reason=reason,
    )
    await repo.add(membership)
    await saved_with_history(uow, repo, membership)
    await uow.commit()
    return membership


async def _change(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    membership_id: uuid.UUID,
    what: Change,
    *,
    actor: str,
    now: datetime,
    plan_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> Membership:
    """A step of ``change`` (the caller commits)."""
    repo = MembershipRepository(uow.session, tenant_id)
    membership = await repo.require(membership_id, for_update=True)
    membership.require_allowed(what)
    plan = None
    if what in PLAN_CHANGES:
        if plan_id is None:
            raise RuleBroken("plan_id", "required")
        plan = offered(await PlanRepository(uow.session, tenant_id).get(plan_id))
    membership.apply(what, actor=actor, now=now, plan=plan, reason=reason)
    await repo.save(membership)
    await saved_with_history(uow, repo, membership)
    return membership


async def change(
    uow: UnitOfWork,
    principal: Principal,
    membership_id: uuid.UUID,
    what: Change,
    *,
    plan_id: uuid.UUID | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Membership:
    """Renew, upgrade, downgrade (to ``plan_id``), freeze, unfreeze or cancel."""
    membership = await _change(
        uow,
        principal.tenant_id,
        membership_id,
        what,
        actor=principal.sub,
        now=now or utcnow(),
        plan_id=plan_id,
        reason=reason,
    )
    await uow.commit()
    return membership


# --- steps of the customers' lifecycle (the caller commits) -------------------------


async def cancel_current(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, reason: str, now: datetime
) -> int:
    """The customer was deleted: their current memberships end (``MembershipChanged``)."""
    current = await MembershipRepository(uow.session, tenant_id).current_of(customer_id, lock=True)
    for membership in current:
        await _change(
            uow, tenant_id, membership.id, Change.cancelled, actor=SYSTEM, now=now, reason=reason
        )
    return len(current)


async def scrub(uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """GDPR erasure: the history keeps dates, plans and ids, never free text."""
    await MembershipRepository(uow.session, tenant_id).scrub_reasons(customer_id)


# --- queries ---------------------------------------------------------------------------


async def get(uow: UnitOfWork, principal: Principal, membership_id: uuid.UUID) -> Membership:
    repo = MembershipRepository(uow.session, principal.tenant_id)
    membership = await repo.require(membership_id)
    principal.ensure_sees(membership.customer_id, "membership")
    return membership


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    status: MembershipStatus | None = None,
    after: CreatedKey | None = None,
    limit: int,
) -> list[Membership]:
    """Memberships in creation order (one past ``limit``, to tell whether more follow); a
    customer sees only its own."""
    return await MembershipRepository(uow.session, principal.tenant_id).page(
        limit + 1, after, customer_id=principal.customer_scope(customer_id), status=status
    )


async def history(
    uow: UnitOfWork,
    principal: Principal,
    *,
    membership_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    after_seq: int | None = None,
    limit: int,
) -> Sequence[Mapping[Any, Any]]:
    """The steps of one membership, or of all of one customer's, oldest first (one past
    ``limit``, to tell whether more follow)."""
    if membership_id is not None:
        await get(uow, principal, membership_id)
    else:
        customer_id = principal.customer_scope(customer_id)
        if customer_id is None:
            raise RuleBroken("customer_id", "required")
    return await MembershipRepository(uow.session, principal.tenant_id).history(
        limit + 1, after_seq, membership_id=membership_id, customer_id=customer_id
    )


# --- the expiry sweep ----------------------------------------------------------------


async def expire_due_memberships(
    uow_factory: Callable[[], UnitOfWork], *, now: datetime | None = None, batch: int = 200
) -> int:
    """Expire every active membership past its expiry, one per transaction."""
    now = now or utcnow()
    expired = 0
    while True:
        async with uow_factory() as uow:
            due = await MembershipRepository.due(uow.session, now, batch)
        for tenant_id, membership_id in due:
            async with uow_factory() as uow:
                repo = MembershipRepository(uow.session, tenant_id)
                membership = await repo.get(membership_id, for_update=True)
                if membership is None or not membership.expire(now):
                    continue
                await repo.save(membership)
                await saved_with_history(uow, repo, membership)
                await uow.commit()
                expired += 1
        if len(due) < batch:
            return expired
