"""Wiring of the customers service: ``python -m frontdesk.customers api|worker|relay|migrate``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from frontdesk.customers import consumers
from frontdesk.customers.adapters.tables import messaging, metadata
from frontdesk.customers.api import customers, listing, notes
from frontdesk.customers.settings import CustomersSettings
from frontdesk.kit.service import ServiceSpec


def routers() -> list[APIRouter]:
    # The list's fixed paths (/stats, /export.csv, /bulk) before /{customer_id}.
    return [listing.router, customers.router, notes.router]


SPEC = ServiceSpec(
    name="customers",
    port=8001,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=CustomersSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    description="Customer records, notes, tags, the customer summary, search, export, erasure.",
)
