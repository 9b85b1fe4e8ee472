"""Credits' side of the booking saga: debit a booking's credits once, answer the
outcome, and refund or forfeit them when the booking ends.

The ``booking_debits`` row (one per booking) makes each step happen once whatever the
redeliveries, even of a request sent again under a new message id.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingCustomerLinked,
    BookingRejected,
    BookingRequested,
)
from frontdesk.credits.adapters.debits import BookingDebitRepository
from frontdesk.credits.application.accounts import Ledger, utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.accounts import Allocation
from frontdesk.credits.domain.debits import BookingDebit, DebitStatus
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass
class DebitOutcome:
    status: str  # debited, rejected, duplicate
    reason: str | None = None
    debits: list[Allocation] = dataclasses.field(default_factory=list)


def _publish(uow: UnitOfWork, tenant_id: uuid.UUID, debit: BookingDebit) -> None:
    for event, version in debit.collect_events():
        uow.publish(
            event, tenant_id=tenant_id, aggregate_id=debit.booking_id, aggregate_version=version
        )


async def _save(
    uow: UnitOfWork,
    debits: BookingDebitRepository,
    debit: BookingDebit,
    ledger: Ledger | None,
    reason: str,
) -> None:
    """Save the booking's debit and publish its events; recount the account when
    credits moved (``BalanceChanged`` after the saga's event); commit."""
    await debits.save(debit)
    _publish(uow, debits.tenant_id, debit)
    if ledger is not None:
        await ledger.close(reason)
    await uow.commit()


async def debit_for_booking(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    credits: int,
    *,
    now: datetime | None = None,
) -> DebitOutcome:
    """Step 2 of the booking saga: take ``credits`` from the customer's usable
    packages, earliest expiry first, or reject; publish the outcome; commit.

    A booking already rejected or cancelled before its request arrived (a tombstone)
    is not debited: it answers ``DebitRejected(reason="booking_closed")``.
    """
    now = now or utcnow()
    debits = BookingDebitRepository(uow.session, tenant_id)
    debit = BookingDebit.requested(booking_id, customer_id, credits)
    if not await debits.claim(debit):
        existing = await debits.lock(booking_id)
        answer = existing.answer_again(customer_id, credits)
        _publish(uow, tenant_id, existing)
        await uow.commit()
        if answer == "duplicate":
            return DebitOutcome("duplicate", existing.status.value)
        return DebitOutcome("rejected", "booking_closed")
    ledger = None
    refusal = debit.refusal()
    if refusal is not None:
        debit.reject(refusal)
    else:
        assert customer_id is not None
        ledger = await Ledger.open(uow, tenant_id, customer_id, SYSTEM, now, allow_closed=True)
        usable = {p.id: p for p in await ledger.packages.lock_usable(customer_id, now)}
        debit.pay(ledger.account, usable.values(), now)
        for allocation in debit.debits:
            await ledger.save(usable[allocation.package_id])
    await _save(uow, debits, debit, ledger if debit.debits else None, "debit")
    if debit.status == DebitStatus.rejected:
        return DebitOutcome("rejected", debit.reason)
    return DebitOutcome("debited", debits=list(debit.debits))


async def settle_booking(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    *,
    refund: bool,
    cause: str,
    now: datetime | None = None,
) -> str:
    """A booking ended (cancelled or rejected): refund its debit once, or forfeit it;
    commit. Without a debit on record, leaves a tombstone so a late request is never
    debited. Answers the booking debit's resulting status."""
    now = now or utcnow()
    debits = BookingDebitRepository(uow.session, tenant_id)
    if await debits.claim(BookingDebit.tombstone(booking_id, customer_id, cause, now)):
        await uow.commit()
        return DebitStatus.closed.value
    debit = await debits.lock(booking_id)
    if debit.status != DebitStatus.debited:
        return debit.status.value  # nothing taken, or settled already
    returned = debit.settle(refund=refund, cause=cause, now=now)
    ledger = None
    if refund:
        assert debit.customer_id is not None
        ledger = await Ledger.open(
            uow, tenant_id, debit.customer_id, SYSTEM, now, allow_closed=True
        )
        locked = await ledger.packages.lock_many([a.package_id for a in returned])
        for allocation in returned:
            package = locked[allocation.package_id]
            package.refund(allocation.credits, booking_id=booking_id, cause=cause)
            await ledger.save(package)
    await _save(uow, debits, debit, ledger, "refund")
    return debit.status.value


# --- what scheduling's events ask of credits --------------------------------------------


async def booking_requested(uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingRequested) -> None:
    if event.payment.method != "credits":
        return  # paid another way: nothing for credits to do
    if event.customer_id is None and event.guest is not None and event.payment.credits > 0:
        # A guest may be a customer with credits: customers resolves the contact, and the
        # debit follows scheduling's BookingCustomerLinked (the saga timeout bounds the wait).
        return
    await debit_for_booking(
        uow, tenant_id, event.booking_id, event.customer_id, event.payment.credits
    )


async def booking_customer_linked(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingCustomerLinked
) -> None:
    """The guest booking's customer is known: debit now (once, like any request). A booking
    rejected meanwhile left a closed tombstone, or its rejection refunds this debit."""
    if event.payment.method != "credits" or event.payment.credits <= 0:
        return
    await debit_for_booking(
        uow, tenant_id, event.booking_id, event.customer_id, event.payment.credits
    )


async def booking_ended(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingCancelled | BookingRejected
) -> None:
    """A cancelled booking is refunded or forfeited as the tenant's policy decided
    (``refund``); a rejected one that was debited (saga timeout) is refunded."""
    if event.payment.method != "credits":
        return
    cancelled = isinstance(event, BookingCancelled)
    await settle_booking(
        uow,
        tenant_id,
        event.booking_id,
        event.customer_id,
        refund=event.refund if isinstance(event, BookingCancelled) else True,
        cause="booking cancelled" if cancelled else "booking rejected",
    )
