"""Wiring of the credits service: ``python -m frontdesk.credits api|worker|relay|migrate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from frontdesk.credits import consumers
from frontdesk.credits.adapters.tables import messaging, metadata
from frontdesk.credits.api import loyalty, memberships, packages, products, programs
from frontdesk.credits.application.memberships import expire_due_memberships
from frontdesk.credits.application.packages import expire_due_packages
from frontdesk.credits.settings import CreditsSettings
from frontdesk.kit.service import Runtime, ServiceSpec


def routers() -> list[APIRouter]:
    return [
        products.router,
        packages.router,
        packages.history_router,
        memberships.plans_router,
        memberships.router,
        programs.products_router,
        programs.router,
        loyalty.router,
    ]


async def sweep_expired(runtime: Runtime[CreditsSettings]) -> dict[str, int]:
    """Expire packages and memberships past their expiry (the worker runs this periodically;
    tests call it directly)."""
    return {
        "packages": await expire_due_packages(runtime.uow),
        "memberships": await expire_due_memberships(runtime.uow),
    }


def periodic() -> Sequence[tuple[float, Callable[[Runtime[CreditsSettings]], Any]]]:
    every = SPEC.settings().expiry_sweep_seconds
    return [(every, sweep_expired)]


SPEC = ServiceSpec(
    name="credits",
    port=8002,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=CreditsSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    periodic=periodic,
    description="Credit products and packages, the credit ledger, membership plans and "
    "assignments; credits' side of the booking saga.",
)
