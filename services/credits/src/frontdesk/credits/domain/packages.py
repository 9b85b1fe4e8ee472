"""Credit packages: which ones are usable, how a debit spreads, pause arithmetic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from frontdesk.credits.domain import RuleBroken

MAX_CREDITS = 100_000  # in one purchase, grant, top-up or debit
MAX_PACKAGE_CREDITS = 2**31 - 1  # what one package may ever hold (a 32-bit column)
FAR_FUTURE = datetime.max.replace(tzinfo=None)


class PackageStatus(StrEnum):
    active = "active"
    paused = "paused"
    expired = "expired"
    voided = "voided"  # the customer was deleted


CLOSED = {PackageStatus.expired, PackageStatus.voided}


@dataclass(frozen=True)
class Allocation:
    package_id: uuid.UUID
    credits: int


def is_usable(package: Mapping[Any, Any], now: datetime) -> bool:
    """Active, not empty, not past its expiry (even before the sweep has run)."""
    expires_at = package["expires_at"]
    return (
        package["status"] == PackageStatus.active
        and package["balance"] > 0
        and (expires_at is None or expires_at > now)
    )


def debit_order(package: Mapping[Any, Any]) -> tuple[bool, datetime, datetime, str]:
    """Earliest expiry first; packages without expiry last; then oldest first."""
    expires_at = package["expires_at"]
    return (
        expires_at is None,
        expires_at.replace(tzinfo=None) if expires_at is not None else FAR_FUTURE,
        package["created_at"].replace(tzinfo=None),
        str(package["id"]),
    )


def plan_debit(
    packages: Iterable[Mapping[Any, Any]], credits: int, now: datetime
) -> list[Allocation] | None:
    """Spread ``credits`` over the usable packages, earliest expiry first.

    None when the usable balance is short (nothing is taken then).
    """
    if credits < 0:
        raise RuleBroken("credits", "must not be negative")
    usable = sorted((p for p in packages if is_usable(p, now)), key=debit_order)
    if sum(p["balance"] for p in usable) < credits:
        return None
    plan: list[Allocation] = []
    left = credits
    for package in usable:
        if left == 0:
            break
        take = min(left, package["balance"])
        plan.append(Allocation(package["id"], take))
        left -= take
    return plan


def expiry_for(validity_days: int | None, start: datetime) -> datetime | None:
    return start + timedelta(days=validity_days) if validity_days else None


def require_open(package: Mapping[Any, Any], action: str) -> None:
    if package["status"] in CLOSED:
        raise RuleBroken(
            "status", f"cannot {action} a package that is {package['status']}", conflict=True
        )


def pause(package: Mapping[Any, Any]) -> None:
    require_open(package, "pause")
    if package["status"] == PackageStatus.paused:
        raise RuleBroken("status", "the package is already paused", conflict=True)


def resumed_expiry(package: Mapping[Any, Any], now: datetime) -> datetime | None:
    """Resuming moves the expiry by the time the package was paused."""
    if package["status"] != PackageStatus.paused:
        raise RuleBroken("status", "the package is not paused", conflict=True)
    expires_at: datetime | None = package["expires_at"]
    if expires_at is None:
        return None
    paused_at: datetime = package["paused_at"]
    return expires_at + max(now - paused_at, timedelta(0))


def extended_expiry(
    package: Mapping[Any, Any], *, expires_at: datetime | None, days: int | None, now: datetime
) -> datetime:
    """A later expiry: an explicit date or ``days`` added to the current one."""
    if package["status"] == PackageStatus.voided:
        raise RuleBroken("status", "the package is voided", conflict=True)
    if (expires_at is None) == (days is None):
        raise RuleBroken("expires_at", "give exactly one of expires_at or days")
    current: datetime | None = package["expires_at"]
    if days is not None:
        if current is None:
            raise RuleBroken("days", "the package never expires; give expires_at instead")
        new = max(current, now) + timedelta(days=days)
    else:
        assert expires_at is not None
        if expires_at.tzinfo is None:
            raise RuleBroken("expires_at", "must carry a time zone")
        new = expires_at
        if current is not None and new <= current:
            raise RuleBroken("expires_at", "must be later than the current expiry")
    if new <= now:
        raise RuleBroken("expires_at", "must be in the future")
    return new


def require_positive(field: str, credits: int) -> None:
    if credits <= 0:
        raise RuleBroken(field, "must be greater than 0")
    if credits > MAX_CREDITS:
        raise RuleBroken(field, f"at most {MAX_CREDITS}")


def refund_targets(
    debits: Sequence[Mapping[Any, Any]],
) -> list[Allocation]:
    return [Allocation(uuid.UUID(str(d["package_id"])), int(d["credits"])) for d in debits]
