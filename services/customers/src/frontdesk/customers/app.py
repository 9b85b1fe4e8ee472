"""Wiring of the customers service: ``python -m frontdesk.customers api|worker|relay|migrate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from frontdesk.customers import consumers
from frontdesk.customers.adapters.tables import messaging, metadata
from frontdesk.customers.api import (
    assets,
    custom_fields,
    customers,
    households,
    imports,
    listing,
    merges,
    notes,
)
from frontdesk.customers.application import imports as import_runs
from frontdesk.customers.application.listing import fold_stats
from frontdesk.customers.settings import CustomersSettings
from frontdesk.kit.service import Runtime, ServiceSpec


def routers() -> list[APIRouter]:
    # The list's fixed paths (/stats, /export.csv, /bulk) before /{customer_id}.
    return [
        listing.router,
        customers.router,
        notes.router,
        merges.router,
        households.router,
        assets.router,
        custom_fields.router,
        imports.router,
    ]


async def fold_statistics(runtime: Runtime[CustomersSettings]) -> int:
    """The statistics' pending changes folded into the tenants' counters (the worker runs
    this periodically; the stats read adds what is not folded yet, so it is always right)."""
    return await fold_stats(runtime.uow)


async def run_imports(runtime: Runtime[CustomersSettings]) -> int:
    """CSV imports' dry runs and imports (C17), a chunk per transaction until none is left
    (several workers share them: each chunk locks its import)."""
    settings = runtime.settings
    return await import_runs.work(
        runtime.uow, chunk_rows=settings.import_chunk_rows, fallback_region=settings.default_region
    )


def periodic() -> Sequence[tuple[float, Callable[[Runtime[CustomersSettings]], Any]]]:
    settings = SPEC.settings()
    return [
        (settings.stats_fold_seconds, fold_statistics),
        (settings.import_poll_seconds, run_imports),
    ]


SPEC = ServiceSpec(
    name="customers",
    port=8001,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=CustomersSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    periodic=periodic,
    description="Customer records, notes, tags, the customer summary, search, export, erasure.",
)
