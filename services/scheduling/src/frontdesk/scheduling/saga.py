"""The booking saga's steps, shared by the API, the consumers and the timeout sweeper.

Every step runs inside the caller's unit of work: the state change, the seat
counter and the published event commit together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.contracts.base import Contact
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingFacts,
    BookingPayment,
    BookingRejected,
    BookingRequested,
)
from frontdesk.kit.service import Runtime
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import BookingStatus

log = logging.getLogger(__name__)


async def facts(repo: Repository, booking: RowMapping, session: RowMapping) -> dict[str, Any]:
    """The fields every booking event carries."""
    location = await repo.location(session["location_id"])
    return {
        "booking_id": booking["id"],
        "customer_id": booking["customer_id"],
        "session_id": session["id"],
        "session_kind": "class",
        "session_type": session["kind"],
        "title": session["title"],
        "starts_at": session["starts_at"],
        "ends_at": session["ends_at"],
        "location_id": session["location_id"],
        "timezone": location["timezone"] if location else "UTC",
        "seats": booking["seats"],
        "payment": BookingPayment(
            method=booking["payment_method"],
            credits=booking["credits"],
            price_minor=booking["price_minor"],
            currency=booking["currency"],
        ),
    }


async def publish(
    uow: UnitOfWork,
    repo: Repository,
    event_class: type[BookingFacts],
    booking: RowMapping,
    session: RowMapping,
    **extra: Any,
) -> None:
    event = event_class(**await facts(repo, booking, session), **extra)
    uow.publish(
        event,
        tenant_id=repo.tenant_id,
        aggregate_id=booking["id"],
        aggregate_version=booking["version"],
    )


def guest_contact(booking: RowMapping) -> Contact | None:
    if booking["customer_id"] is not None or booking["guest_email"] is None:
        return None
    return Contact(
        first_name=booking["guest_first_name"] or "",
        last_name=booking["guest_last_name"] or "",
        email=booking["guest_email"],
        phone=booking["guest_phone"],
    )


def settles_without_credits(booking: RowMapping) -> bool:
    """Pay-per-session, free and reminder-only bookings need no debit, only a customer."""
    return bool(booking["payment_method"] != "credits" or booking["credits"] == 0)


async def start(
    uow: UnitOfWork, repo: Repository, booking: RowMapping, session: RowMapping
) -> RowMapping:
    """Step 1: announce the request; settle at once when nothing else is awaited."""
    await publish(uow, repo, BookingRequested, booking, session, guest=guest_contact(booking))
    if booking["customer_id"] is not None and settles_without_credits(booking):
        return await confirm(uow, repo, booking, session)
    return booking


async def confirm(
    uow: UnitOfWork, repo: Repository, booking: RowMapping, session: RowMapping
) -> RowMapping:
    row = await repo.update_booking(
        booking["id"], {"status": BookingStatus.confirmed.value, "decided_at": tz.now()}
    )
    await publish(uow, repo, BookingConfirmed, row, session)
    return row


async def reject(
    uow: UnitOfWork, repo: Repository, booking: RowMapping, session: RowMapping, reason: str
) -> RowMapping:
    """Compensation: the booking is rejected and its seats are given back."""
    await repo.free_seats(session["id"], booking["seats"])
    row = await repo.update_booking(
        booking["id"],
        {"status": BookingStatus.rejected.value, "reason": reason, "decided_at": tz.now()},
    )
    await publish(uow, repo, BookingRejected, row, session, reason=reason)
    return row


async def cancel(
    uow: UnitOfWork,
    repo: Repository,
    booking: RowMapping,
    session: RowMapping,
    *,
    refund: bool,
    late: bool,
    cancelled_by: str,
    reason: str | None,
    recorded_reason: str | None = None,
) -> RowMapping:
    """A confirmed booking is cancelled: its seats are given back and credits learns
    whether to refund. ``recorded_reason`` is kept on the booking instead of ``reason``."""
    await repo.free_seats(session["id"], booking["seats"])
    row = await repo.update_booking(
        booking["id"],
        {
            "status": BookingStatus.cancelled.value,
            "refund": refund,
            "late": late,
            "reason": recorded_reason or reason,
            "decided_at": tz.now(),
        },
    )
    await publish(
        uow,
        repo,
        BookingCancelled,
        row,
        session,
        refund=refund,
        late=late,
        cancelled_by=cancelled_by,
        reason=reason,
    )
    return row


async def on_debit(
    uow: UnitOfWork,
    repo: Repository,
    booking_id: uuid.UUID,
    succeeded: bool,
    reason: str | None = None,
) -> None:
    """credits answered. A late answer for a booking already decided changes nothing here:
    credits refunds a debit of a rejected booking from our BookingRejected."""
    locked = await repo.lock_booking(booking_id)
    if locked is None:
        log.warning("debit answer for unknown booking %s", booking_id)
        return
    booking, session = locked
    if booking["status"] != BookingStatus.pending:
        return
    if succeeded:
        await confirm(uow, repo, booking, session)
    else:
        await reject(uow, repo, booking, session, reason or "debit_rejected")


async def on_guest_resolved(
    uow: UnitOfWork, repo: Repository, booking_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    """customers found or created the guest's record: link it, then settle if we can."""
    locked = await repo.lock_booking(booking_id)
    if locked is None:
        log.warning("guest resolved for unknown booking %s", booking_id)
        return
    booking, session = locked
    if booking["customer_id"] is not None:
        return  # already linked (a duplicate or a customer booking)
    if booking["status"] == BookingStatus.pending and await repo.active_booking_of(
        session["id"], customer_id, exclude=booking["id"]
    ):
        booking = await reject(uow, repo, booking, session, "already_booked")
    elif booking["status"] == BookingStatus.pending and await repo.customer_status(customer_id) in (
        "blocked",
        "deleted",
    ):
        booking = await reject(uow, repo, booking, session, "customer_blocked")
    booking = await repo.update_booking(booking["id"], {"customer_id": customer_id})
    await publish(uow, repo, BookingCustomerLinked, booking, session)
    if booking["status"] == BookingStatus.pending and settles_without_credits(booking):
        await confirm(uow, repo, booking, session)


async def expire_pending(runtime: Runtime, *, timeout: float | None = None) -> int:
    """The saga timeout: pending bookings older than the timeout are rejected."""
    seconds = (
        timeout
        if timeout is not None
        else float(getattr(runtime.settings, "saga_timeout_seconds", 30.0))
    )
    cutoff = tz.now() - timedelta(seconds=seconds)
    async with runtime.uow() as uow:
        candidates = await Repository(uow.session, uuid.UUID(int=0)).expired_pending(cutoff)
    expired = 0
    for candidate in candidates:
        async with runtime.uow() as uow:
            repo = Repository(uow.session, candidate["tenant_id"])
            locked = await repo.lock_booking(candidate["id"])
            if locked is None or locked[0]["status"] != BookingStatus.pending:
                continue
            await reject(uow, repo, locked[0], locked[1], "timeout")
            await uow.commit()
            expired += 1
    if expired:
        log.info("saga timeout rejected %d pending booking(s)", expired)
    return expired
