"""Wiring of the billing service: ``python -m frontdesk.billing api|worker|relay|migrate``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from frontdesk.billing import consumers
from frontdesk.billing.adapters.tables import messaging, metadata
from frontdesk.billing.api import (
    credit_notes,
    invoices,
    kpis,
    ledger,
    payments,
    profile,
    vouchers,
)
from frontdesk.billing.settings import BillingSettings
from frontdesk.kit.service import ServiceSpec


def routers() -> list[APIRouter]:
    return [
        invoices.router,
        credit_notes.router,
        payments.router,
        ledger.router,
        profile.router,
        kpis.router,
        vouchers.router,
    ]


SPEC = ServiceSpec(
    name="billing",
    port=8005,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=BillingSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    description="Invoices with gapless numbers, payments, credit notes and refunds, one "
    "double-entry ledger (every balance a sum of postings), PDFs and finance KPIs.",
)
