"""Handlers of other services' events, keyed by contract class."""

from __future__ import annotations

from typing import Any

from frontdesk.contracts import Envelope
from frontdesk.contracts.credits import DebitRejected, DebitSucceeded
from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerStatusChanged,
    GuestResolved,
)
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling import saga
from frontdesk.scheduling.adapters.repository import Repository


def _repo(uow: UnitOfWork, envelope: Envelope) -> Repository:
    return Repository(uow.session, envelope.tenant_id)


async def debit_succeeded(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, DebitSucceeded)
    await saga.on_debit(uow, _repo(uow, envelope), event.booking_id, succeeded=True)


async def debit_rejected(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, DebitRejected)
    await saga.on_debit(
        uow, _repo(uow, envelope), event.booking_id, succeeded=False, reason=str(event.reason)
    )


async def guest_resolved(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, GuestResolved)
    await saga.on_guest_resolved(uow, _repo(uow, envelope), event.booking_id, event.customer_id)


async def status_changed(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    """Keep who is blocked: blocked customers cannot book."""
    assert isinstance(event, CustomerStatusChanged)
    await _repo(uow, envelope).record_customer_status(
        event.customer_id, event.new_status, envelope.aggregate_version
    )


async def customer_deleted(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, CustomerDeleted)
    repo = _repo(uow, envelope)
    await repo.record_customer_status(event.customer_id, "deleted", 2**31 - 1)
    await repo.scrub_customer(event.customer_id)
    await repo.revoke_customer_feeds(event.customer_id)


async def customer_erased(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
    assert isinstance(event, CustomerErased)
    repo = _repo(uow, envelope)
    await repo.record_customer_status(event.customer_id, "deleted", 2**31 - 1)
    await repo.scrub_customer(event.customer_id)
    await repo.revoke_customer_feeds(event.customer_id)


def handlers() -> Handlers:
    return {
        DebitSucceeded: debit_succeeded,
        DebitRejected: debit_rejected,
        GuestResolved: guest_resolved,
        CustomerStatusChanged: status_changed,
        CustomerDeleted: customer_deleted,
        CustomerErased: customer_erased,
    }
