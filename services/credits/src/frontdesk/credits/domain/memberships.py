"""A membership: a customer on a plan for a period. Every step (assign, renew, upgrade,
downgrade, freeze, unfreeze, cancel, expire) is kept in its history and published with
the membership's version after it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from frontdesk.contracts.credits import (
    MembershipAssigned,
    MembershipChanged,
    MembershipExpired,
)
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.catalogue import MembershipPlan
from frontdesk.credits.domain.packages import days_after
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import LATEST


class MembershipStatus(StrEnum):
    active = "active"
    frozen = "frozen"
    cancelled = "cancelled"
    expired = "expired"


CURRENT = frozenset({MembershipStatus.active, MembershipStatus.frozen})


class Change(StrEnum):
    renewed = "renewed"
    upgraded = "upgraded"
    downgraded = "downgraded"
    frozen = "frozen"
    unfrozen = "unfrozen"
    cancelled = "cancelled"


PLAN_CHANGES = frozenset({Change.upgraded, Change.downgraded})

# Which statuses each change starts from.
ALLOWED_FROM: dict[Change, frozenset[MembershipStatus]] = {
    Change.renewed: frozenset({MembershipStatus.active, MembershipStatus.expired}),
    Change.upgraded: frozenset({MembershipStatus.active}),
    Change.downgraded: frozenset({MembershipStatus.active}),
    Change.frozen: frozenset({MembershipStatus.active}),
    Change.unfrozen: frozenset({MembershipStatus.frozen}),
    Change.cancelled: CURRENT,
}


@dataclasses.dataclass(frozen=True)
class Step:
    """One line of the membership's history: the action and the membership after it."""

    action: str
    actor: str
    reason: str | None
    previous_plan_id: uuid.UUID | None
    plan_id: uuid.UUID
    plan_name: str
    starts_at: datetime
    expires_at: datetime
    status: MembershipStatus


def _terms(plan: MembershipPlan) -> dict[str, Any]:
    """What a membership copies from its plan (later plan edits do not reach it)."""
    return {
        "plan_id": plan.id,
        "plan_name": plan.name,
        "discount_percent": plan.discount_percent,
        "included_services": list(plan.included_services),
        "priority_label": plan.priority_label,
        "duration_days": plan.duration_days,
    }


@dataclasses.dataclass(kw_only=True, eq=False)
class Membership(Aggregate):
    customer_id: uuid.UUID
    plan_id: uuid.UUID
    plan_name: str
    discount_percent: int
    included_services: list[str] = dataclasses.field(default_factory=list)
    priority_label: str | None = None
    duration_days: int
    starts_at: datetime
    expires_at: datetime
    status: MembershipStatus = MembershipStatus.active
    frozen_at: datetime | None = None
    assigned_by: str
    created_at: datetime | None = None  # None until saved: the database stamps it
    updated_at: datetime | None = None
    _steps: list[Step] = dataclasses.field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.status = MembershipStatus(self.status)

    @classmethod
    def assign(
        cls,
        plan: MembershipPlan,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        actor: str,
        now: datetime,
        starts_at: datetime | None = None,
        reason: str | None = None,
    ) -> Membership:
        """Starts now (or at ``starts_at``) and expires after the plan's duration."""
        start = starts_at or now
        if start.tzinfo is None:
            raise RuleBroken("starts_at", "must carry a time zone")
        expires_at = days_after(start, plan.duration_days)
        if expires_at is None:
            raise RuleBroken("starts_at", f"the membership would end after {LATEST:%Y}")
        if expires_at <= now:
            raise RuleBroken("starts_at", "the membership would already have expired")
        membership = cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            **_terms(plan),
            starts_at=start,
            expires_at=expires_at,
            assigned_by=actor,
        )
        membership._step("assigned", actor, reason)
        membership.record(MembershipAssigned(**membership.snapshot(), assigned_by=actor))
        return membership

    def snapshot(self) -> dict[str, Any]:
        """The membership as its events carry it."""
        return {
            "membership_id": self.id,
            "customer_id": self.customer_id,
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "discount_percent": self.discount_percent,
            "included_services": list(self.included_services),
            "priority_label": self.priority_label,
            "starts_at": self.starts_at,
            "expires_at": self.expires_at,
            "status": self.status.value,
        }

    def collect_steps(self) -> list[Step]:
        steps, self._steps = self._steps, []
        return steps

    def _step(
        self,
        action: str,
        actor: str,
        reason: str | None,
        previous: uuid.UUID | None = None,
    ) -> None:
        self._steps.append(
            Step(
                action=action,
                actor=actor,
                reason=reason,
                previous_plan_id=previous,
                plan_id=self.plan_id,
                plan_name=self.plan_name,
                starts_at=self.starts_at,
                expires_at=self.expires_at,
                status=self.status,
            )
        )

    def require_allowed(self, change: Change) -> None:
        if self.status not in ALLOWED_FROM[change]:
            allowed = ", ".join(sorted(ALLOWED_FROM[change]))
            raise ConflictError(
                f"cannot mark a membership {change.value} while it is {self.status.value} "
                f"(needs {allowed})",
                field="status",
            )

    def renewed_expiry(self, now: datetime) -> datetime:
        """One more period, from the current expiry (or from now when it already lapsed)."""
        expires_at = days_after(max(self.expires_at, now), self.duration_days)
        if expires_at is None:
            raise ConflictError(f"a renewal would run past {LATEST:%Y}", field="expires_at")
        return expires_at

    def unfrozen_expiry(self, now: datetime) -> datetime:
        """Unfreezing moves the expiry by the time the membership was frozen."""
        frozen_at = self.frozen_at or now
        return self.expires_at + max(now - frozen_at, timedelta(0))

    def apply(
        self,
        change: Change,
        *,
        actor: str,
        now: datetime,
        plan: MembershipPlan | None = None,
        reason: str | None = None,
    ) -> None:
        """Renew, upgrade, downgrade (to ``plan``, from now for its duration), freeze,
        unfreeze or cancel."""
        self.require_allowed(change)
        previous = None
        if change is Change.renewed:
            self.change(status=MembershipStatus.active, expires_at=self.renewed_expiry(now))
        elif change in PLAN_CHANGES:
            if plan is None:
                raise RuleBroken("plan_id", "required")
            if plan.id == self.plan_id:
                raise RuleBroken("plan_id", "the membership is already on this plan")
            if not plan.active:
                raise RuleBroken("plan_id", "the plan is no longer offered")
            previous = self.plan_id
            self.change(
                **_terms(plan),
                starts_at=now,
                expires_at=now + timedelta(days=plan.duration_days),
            )
        elif change is Change.frozen:
            self.change(status=MembershipStatus.frozen, frozen_at=now)
        elif change is Change.unfrozen:
            self.change(
                status=MembershipStatus.active,
                frozen_at=None,
                expires_at=self.unfrozen_expiry(now),
            )
        else:
            self.change(status=MembershipStatus.cancelled, frozen_at=None)
        self._step(change.value, actor, reason, previous)
        self.record(MembershipChanged(**self.snapshot(), change=change.value, changed_by=actor))

    def expire(self, now: datetime) -> bool:
        """Expired if active and past its expiry (frozen memberships do not expire)."""
        if self.status != MembershipStatus.active or self.expires_at > now:
            return False
        self.change(status=MembershipStatus.expired)
        self._step("expired", SYSTEM, None)
        self.record(MembershipExpired(**self.snapshot()))
        return True

    # --- merges ----------------------------------------------------------------------

    def set_aside(self, *, actor: str, now: datetime, reason: str) -> dict[str, Any]:
        """A merge brings this current membership to a customer who has one already: it
        ends (cancelled) while merged. Answers how it was, for the unmerge."""
        before = {
            "status": self.status.value,
            "frozen_at": self.frozen_at.isoformat() if self.frozen_at else None,
        }
        self.apply(Change.cancelled, actor=actor, now=now, reason=reason)
        return before

    def reinstate(self, before: dict[str, Any], *, actor: str) -> None:
        """The merge that set it aside was undone: it is as it was, and announced as
        assigned again (unpriced: nothing new to invoice)."""
        frozen_at = before.get("frozen_at")
        self.change(
            status=MembershipStatus(before["status"]),
            frozen_at=datetime.fromisoformat(frozen_at) if frozen_at else None,
        )
        self._step("reinstated", actor, "merge undone")
        self.record(MembershipAssigned(**self.snapshot(), assigned_by=actor))
