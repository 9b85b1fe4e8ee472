"""Memberships: transitions, expiry arithmetic, freezes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from frontdesk.credits.domain import RuleBroken


class MembershipStatus(StrEnum):
    active = "active"
    frozen = "frozen"
    cancelled = "cancelled"
    expired = "expired"


CURRENT = {MembershipStatus.active, MembershipStatus.frozen}


class Change(StrEnum):
    renewed = "renewed"
    upgraded = "upgraded"
    downgraded = "downgraded"
    frozen = "frozen"
    unfrozen = "unfrozen"
    cancelled = "cancelled"


# Which statuses each change starts from.
ALLOWED_FROM: dict[Change, set[MembershipStatus]] = {
    Change.renewed: {MembershipStatus.active, MembershipStatus.expired},
    Change.upgraded: {MembershipStatus.active},
    Change.downgraded: {MembershipStatus.active},
    Change.frozen: {MembershipStatus.active},
    Change.unfrozen: {MembershipStatus.frozen},
    Change.cancelled: {MembershipStatus.active, MembershipStatus.frozen},
}


def require_allowed(membership: Mapping[Any, Any], change: Change) -> None:
    status = MembershipStatus(membership["status"])
    if status not in ALLOWED_FROM[change]:
        allowed = ", ".join(sorted(ALLOWED_FROM[change]))
        raise RuleBroken(
            "status",
            f"cannot mark a membership {change.value} while it is {status.value} (needs {allowed})",
            conflict=True,
        )


def expiry(starts_at: datetime, duration_days: int) -> datetime:
    return starts_at + timedelta(days=duration_days)


def renewed_expiry(membership: Mapping[Any, Any], now: datetime) -> datetime:
    """One more period, from the current expiry (or from now when it already lapsed)."""
    current: datetime = membership["expires_at"]
    return expiry(max(current, now), membership["duration_days"])


def unfrozen_expiry(membership: Mapping[Any, Any], now: datetime) -> datetime:
    """Unfreezing moves the expiry by the time the membership was frozen."""
    frozen_for = max(now - membership["frozen_at"], timedelta(0))
    return membership["expires_at"] + frozen_for  # type: ignore[no-any-return]


def require_plan_change(membership: Mapping[Any, Any], plan: Mapping[Any, Any]) -> None:
    if plan["id"] == membership["plan_id"]:
        raise RuleBroken("plan_id", "the membership is already on this plan")
    if not plan["active"]:
        raise RuleBroken("plan_id", "the plan is no longer offered")
