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
    BookingConfirmed,
    BookingCustomerLinked,
    BookingFacts,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
)
from frontdesk.credits.adapters.debits import BookingDebitRepository, Claim
from frontdesk.credits.adapters.packages import PackageRepository
from frontdesk.credits.adapters.programs import ProgramRepository
from frontdesk.credits.application.accounts import Ledger, utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.accounts import Allocation
from frontdesk.credits.domain.debits import BookingDebit, DebitStatus
from frontdesk.credits.domain.packages import Package
from frontdesk.credits.domain.programs import SessionFacts, choose
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass
class DebitOutcome:
    status: str  # debited, rejected, duplicate
    reason: str | None = None
    debits: list[Allocation] = dataclasses.field(default_factory=list)
    program_id: uuid.UUID | None = None


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
    payer_id: uuid.UUID | None = None,
    session: SessionFacts | None = None,
    now: datetime | None = None,
) -> DebitOutcome:
    """Step 2 of the booking saga: a program of the customer that covers the ``session``
    pays first (its sessions, no credits); otherwise take ``credits`` from the usable
    packages of the payer (``payer_id``, a household's payer, else the customer),
    earliest expiry first, or reject; publish the outcome; commit.

    A booking already rejected or cancelled before its request arrived (a tombstone)
    is not debited: it answers ``DebitRejected(reason="booking_closed")``.
    """
    now = now or utcnow()
    debits = BookingDebitRepository(uow.session, tenant_id)
    debit = BookingDebit.requested(booking_id, customer_id, credits, payer_id)
    refusal = debit.refusal()
    programs_may_pay = credits > 0 and session is not None
    if refusal is None:
        claim = await debits.claim_paying(debit, now, programs_may_pay=programs_may_pay)
    else:
        claim = Claim(claimed=await debits.claim(debit))
    if not claim.claimed:
        existing = await debits.lock(booking_id)
        answer = existing.answer_again(customer_id, credits)
        _publish(uow, tenant_id, existing)
        await uow.commit()
        if answer == "duplicate":
            return DebitOutcome("duplicate", existing.status.value)
        return DebitOutcome("rejected", "booking_closed")
    if refusal is not None:
        debit.reject(refusal)
    elif (
        programs_may_pay
        and claim.account is None
        and session is not None
        and await _pay_with_program(uow, tenant_id, debit, session, now)
    ):
        await _save(uow, debits, debit, None, "debit")
        return DebitOutcome("debited", program_id=debit.program_id)
    else:
        ledger, usable = await _open_ledger(uow, tenant_id, debit, claim, now)
        debit.pay(ledger.account, usable, now)
        if debit.debits:
            _publish(uow, tenant_id, debit)  # the saga's event before BalanceChanged
            await ledger.close_booking_debit(debits, debit, usable)
            await uow.commit()
            return DebitOutcome("debited", debits=list(debit.debits))
    await _save(uow, debits, debit, None, "debit")
    if debit.status == DebitStatus.rejected:
        return DebitOutcome("rejected", debit.reason)
    return DebitOutcome("debited", debits=list(debit.debits))


async def _open_ledger(
    uow: UnitOfWork, tenant_id: uuid.UUID, debit: BookingDebit, claim: Claim, now: datetime
) -> tuple[Ledger, list[Package]]:
    """The payer's ledger (their account locked) and usable packages: as the claim read
    them, else read and locked under the account's lock (no account yet, or it changed
    while the claim waited for its lock)."""
    holder = debit.holder_id
    assert holder is not None
    if claim.account is None:
        ledger = await Ledger.open(uow, tenant_id, holder, SYSTEM, now, allow_closed=True)
    else:
        ledger = Ledger(uow, claim.account, SYSTEM, now)
    if claim.usable is not None:
        return ledger, claim.usable
    return ledger, await ledger.packages.lock_usable(holder, now)


async def _pay_with_program(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    debit: BookingDebit,
    session: SessionFacts,
    now: datetime,
) -> bool:
    """Pay with the customer's own program that covers the session, if any (locked after
    the booking's debit row, before any credit account)."""
    assert debit.customer_id is not None
    programs = ProgramRepository(uow.session, tenant_id)
    program = choose(await programs.lock_active_of(debit.customer_id), session, now)
    if program is None:
        return False
    program.use(debit.booking_id, session.sessions)
    await programs.save(program)
    uow.publish_recorded(program)
    await programs.add_use(program, debit.booking_id, session.sessions, session.starts_at)
    debit.pay_with_program(program.id, session.sessions)
    return True


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
    if debit.program_id is not None:
        await _settle_program(uow, tenant_id, debit, refund=refund)
    elif refund and returned:
        # The credits go back to the packages they came from, and so to their owner's
        # account (the payer's, or whoever a merge gave the packages to since).
        owner = await ledger_owner(uow, tenant_id, returned[0].package_id) or debit.holder_id
        assert owner is not None
        ledger = await Ledger.open(uow, tenant_id, owner, SYSTEM, now, allow_closed=True)
        locked = await ledger.packages.lock_many([a.package_id for a in returned])
        for allocation in returned:
            package = locked[allocation.package_id]
            package.refund(allocation.credits, booking_id=booking_id, cause=cause)
            await ledger.save(package)
    await _save(uow, debits, debit, ledger, "refund")
    return debit.status.value


async def ledger_owner(
    uow: UnitOfWork, tenant_id: uuid.UUID, package_id: uuid.UUID
) -> uuid.UUID | None:
    found = await PackageRepository(uow.session, tenant_id).get(package_id)
    return found.customer_id if found else None


async def _settle_program(
    uow: UnitOfWork, tenant_id: uuid.UUID, debit: BookingDebit, *, refund: bool
) -> None:
    """A booking a program paid ended: within the policy its sessions go back to the
    program; a late cancellation keeps them used."""
    assert debit.program_id is not None
    programs = ProgramRepository(uow.session, tenant_id)
    if not refund:
        await programs.set_use(debit.booking_id, status="forfeited")
        return
    program = await programs.require(debit.program_id, for_update=True)
    program.give_back(debit.booking_id, debit.program_sessions)
    await programs.save(program)
    uow.publish_recorded(program)
    await programs.set_use(debit.booking_id, status="returned")


# --- what scheduling's events ask of credits --------------------------------------------


def session_of(event: BookingFacts) -> SessionFacts:
    """What a program matches a booking on: its service, kind, coach and start."""
    return SessionFacts(
        service=event.service,
        session_kind=event.session_type or event.session_kind,
        staff_id=event.staff_id,
        starts_at=event.starts_at,
        sessions=max(event.seats, 1),
    )


async def _debit(uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingFacts) -> None:
    assert event.payment.method == "credits"
    await debit_for_booking(
        uow,
        tenant_id,
        event.booking_id,
        event.customer_id,
        event.payment.credits,
        payer_id=event.payer_customer_id,
        session=session_of(event),
    )


async def booking_requested(uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingRequested) -> None:
    if event.payment.method != "credits":
        return  # paid another way: nothing for credits to do
    if event.customer_id is None and event.guest is not None and event.payment.credits > 0:
        # A guest may be a customer with credits: customers resolves the contact, and the
        # debit follows scheduling's BookingCustomerLinked (the saga timeout bounds the wait).
        return
    await _debit(uow, tenant_id, event)


async def booking_customer_linked(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingCustomerLinked
) -> None:
    """The guest booking's customer is known: debit now (once, like any request). A booking
    rejected meanwhile left a closed tombstone, or its rejection refunds this debit."""
    if event.payment.method != "credits" or event.payment.credits <= 0:
        return
    await _debit(uow, tenant_id, event)


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


async def booking_confirmed(uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingConfirmed) -> None:
    """A booking a program paid is confirmed: it counts as the program's next session
    while it is still to come."""
    programs = ProgramRepository(uow.session, tenant_id)
    await programs.confirm_use(event.booking_id, event.starts_at)
    await uow.commit()


async def booking_rescheduled(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingRescheduled
) -> None:
    programs = ProgramRepository(uow.session, tenant_id)
    await programs.set_use(event.booking_id, starts_at=event.starts_at)
    await uow.commit()
