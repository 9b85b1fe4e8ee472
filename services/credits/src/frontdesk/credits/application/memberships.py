"""Use cases on memberships: assign, change, expire; every step kept in the history.

Membership events carry the membership as aggregate, with its row version as
``aggregate_version`` (monotonic: every change bumps it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError

from frontdesk.contracts.credits import (
    MembershipAssigned,
    MembershipChanged,
    MembershipExpired,
    MembershipSnapshot,
)
from frontdesk.credits.adapters.repository import (
    AccountRepository,
    CatalogueRepository,
    MembershipRepository,
    due_memberships,
)
from frontdesk.credits.application.ledger import SYSTEM, utcnow
from frontdesk.credits.domain import Missing, RuleBroken
from frontdesk.credits.domain import memberships as rules
from frontdesk.credits.domain.memberships import Change
from frontdesk.kit.uow import UnitOfWork

PLAN_FIELDS = (
    "plan_name",
    "discount_percent",
    "included_services",
    "priority_label",
    "duration_days",
)


def _snapshot(row: RowMapping) -> dict[str, Any]:
    return {
        "membership_id": row["id"],
        "customer_id": row["customer_id"],
        "plan_id": row["plan_id"],
        "plan_name": row["plan_name"],
        "discount_percent": row["discount_percent"],
        "included_services": list(row["included_services"]),
        "priority_label": row["priority_label"],
        "starts_at": row["starts_at"],
        "expires_at": row["expires_at"],
        "status": row["status"],
    }


def _plan_values(plan: RowMapping) -> dict[str, Any]:
    return {
        "plan_id": plan["id"],
        "plan_name": plan["name"],
        "discount_percent": plan["discount_percent"],
        "included_services": list(plan["included_services"]),
        "priority_label": plan["priority_label"],
        "duration_days": plan["duration_days"],
    }


async def _history(
    repo: MembershipRepository,
    row: RowMapping,
    action: str,
    actor: str,
    reason: str | None,
    previous_plan_id: uuid.UUID | None = None,
) -> None:
    await repo.add_history(
        {
            "membership_id": row["id"],
            "customer_id": row["customer_id"],
            "action": action,
            "plan_id": row["plan_id"],
            "plan_name": row["plan_name"],
            "previous_plan_id": previous_plan_id,
            "starts_at": row["starts_at"],
            "expires_at": row["expires_at"],
            "status": row["status"],
            "actor": actor,
            "reason": reason,
        }
    )


def _publish(
    uow: UnitOfWork, tenant_id: uuid.UUID, row: RowMapping, event: MembershipSnapshot
) -> None:
    uow.publish(
        event, tenant_id=tenant_id, aggregate_id=row["id"], aggregate_version=row["version"]
    )


async def _active_plan(uow: UnitOfWork, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> RowMapping:
    plan = await CatalogueRepository.plans(uow.session, tenant_id).get(plan_id)
    if plan is None or not plan["active"]:
        raise RuleBroken("plan_id", "no such active membership plan")
    return plan


async def assign(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    plan_id: uuid.UUID,
    *,
    actor: str,
    starts_at: datetime | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    now = now or utcnow()
    plan = await _active_plan(uow, tenant_id, plan_id)
    account = await AccountRepository(uow.session, tenant_id).get(customer_id)
    if account is not None and account["closed_at"] is not None:
        raise RuleBroken("customer_id", "the customer was deleted", conflict=True)
    repo = MembershipRepository(uow.session, tenant_id)
    if await repo.current_of(customer_id) is not None:
        raise RuleBroken(
            "customer_id",
            "the customer already has a current membership: renew, upgrade or downgrade it",
            conflict=True,
        )
    start = starts_at or now
    if start.tzinfo is None:
        raise RuleBroken("starts_at", "must carry a time zone")
    expires_at = rules.expiry(start, plan["duration_days"])
    if expires_at <= now:
        raise RuleBroken("starts_at", "the membership would already have expired")
    try:
        row = await repo.add(
            {
                "id": uuid.uuid4(),
                "customer_id": customer_id,
                **_plan_values(plan),
                "starts_at": start,
                "expires_at": expires_at,
                "status": "active",
                "assigned_by": actor,
            }
        )
    except IntegrityError:
        raise RuleBroken(
            "customer_id", "the customer already has a current membership", conflict=True
        ) from None
    await _history(repo, row, "assigned", actor, reason)
    _publish(uow, tenant_id, row, MembershipAssigned(**_snapshot(row), assigned_by=actor))
    return row


async def change(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    membership_id: uuid.UUID,
    what: Change,
    *,
    actor: str,
    plan_id: uuid.UUID | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    """Renew, upgrade, downgrade, freeze, unfreeze or cancel."""
    now = now or utcnow()
    repo = MembershipRepository(uow.session, tenant_id)
    current = await repo.get(membership_id, for_update=True)
    if current is None:
        raise Missing("membership")
    rules.require_allowed(current, what)
    previous_plan_id = None
    values: dict[str, Any]
    if what is Change.renewed:
        values = {"status": "active", "expires_at": rules.renewed_expiry(current, now)}
    elif what in (Change.upgraded, Change.downgraded):
        if plan_id is None:
            raise RuleBroken("plan_id", "required")
        plan = await _active_plan(uow, tenant_id, plan_id)
        rules.require_plan_change(current, plan)
        previous_plan_id = current["plan_id"]
        values = {
            **_plan_values(plan),
            "starts_at": now,
            "expires_at": rules.expiry(now, plan["duration_days"]),
        }
    elif what is Change.frozen:
        values = {"status": "frozen", "frozen_at": now}
    elif what is Change.unfrozen:
        values = {
            "status": "active",
            "frozen_at": None,
            "expires_at": rules.unfrozen_expiry(current, now),
        }
    else:
        values = {"status": "cancelled", "frozen_at": None}
    try:
        row = await repo.update(membership_id, values)
    except IntegrityError:
        raise RuleBroken(
            "status", "the customer already has another current membership", conflict=True
        ) from None
    await _history(repo, row, what.value, actor, reason, previous_plan_id)
    _publish(
        uow,
        tenant_id,
        row,
        MembershipChanged(**_snapshot(row), change=what.value, changed_by=actor),
    )
    return row


async def cancel_all_for(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    reason: str,
    now: datetime | None = None,
) -> int:
    repo = MembershipRepository(uow.session, tenant_id)
    current = await repo.lock_current_of(customer_id)
    for membership in current:
        await change(
            uow, tenant_id, membership["id"], Change.cancelled, actor=SYSTEM, reason=reason, now=now
        )
    return len(current)


async def expire_due_memberships(
    uow_factory: Callable[[], UnitOfWork], *, now: datetime | None = None, batch: int = 200
) -> int:
    """Expire every active membership past its expiry, one per transaction."""
    now = now or utcnow()
    expired = 0
    while True:
        async with uow_factory() as uow:
            due = await due_memberships(uow.session, now, batch)
        for tenant_id, membership_id in due:
            async with uow_factory() as uow:
                repo = MembershipRepository(uow.session, tenant_id)
                current = await repo.get(membership_id, for_update=True)
                if current is None or current["status"] != "active" or current["expires_at"] > now:
                    continue
                row = await repo.update(membership_id, {"status": "expired"})
                await _history(repo, row, "expired", SYSTEM, None)
                _publish(uow, tenant_id, row, MembershipExpired(**_snapshot(row)))
                await uow.commit()
                expired += 1
        if len(due) < batch:
            return expired


async def scrub_customer(uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """GDPR erasure: the history keeps dates, plans and ids, never free text."""
    await MembershipRepository(uow.session, tenant_id).scrub_reasons(customer_id)
