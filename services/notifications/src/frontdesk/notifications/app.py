"""Wiring of the notifications service: ``python -m frontdesk.notifications
api|worker|relay|migrate``. The worker consumes customers' and scheduling's events and
sends due messages (its periodic job, ``send_due``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from frontdesk.kit.service import Runtime, ServiceSpec
from frontdesk.notifications import consumers
from frontdesk.notifications.adapters.tables import messaging, metadata
from frontdesk.notifications.api import messages, preferences, senders, templates, twilio
from frontdesk.notifications.application import dispatch
from frontdesk.notifications.settings import NotificationsSettings


def routers() -> list[APIRouter]:
    return [
        messages.router,
        messages.bulk_router,
        templates.router,
        senders.router,
        preferences.router,
        twilio.router,
    ]


async def send_due(runtime: Runtime[NotificationsSettings]) -> dispatch.Report:
    """Send what is due (and what comes due meanwhile) until nothing is; the worker runs
    it every ``dispatch_every_seconds``, tests call it directly."""
    return await dispatch.run(runtime.uow, runtime.settings)


def periodic() -> Sequence[tuple[float, Callable[[Runtime[NotificationsSettings]], Any]]]:
    return [(SPEC.settings().dispatch_every_seconds, send_due)]


SPEC = ServiceSpec(
    name="notifications",
    port=8004,
    metadata=metadata,
    tables=messaging,
    migrations_dir=Path(__file__).resolve().parents[3] / "migrations",
    settings_class=NotificationsSettings,
    routers=routers,
    handlers=lambda: consumers.handlers,
    periodic=periodic,
    # Twilio calls these without a token; each request is checked by its signature.
    public_paths=(r"/v1/twilio/.*",),
    description="SMS (Twilio) and email (SMTP): automatic booking messages and reminders, "
    "direct and bulk messages, templates, consent, delivery tracking and the message log.",
)
