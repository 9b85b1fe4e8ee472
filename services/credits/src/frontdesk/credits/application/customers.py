"""What becomes of a customer's credits and memberships when customers deletes or
erases the customer: one transaction each (with the event's inbox row)."""

from __future__ import annotations

import uuid
from datetime import datetime

from frontdesk.credits.application import accounts, memberships, programs
from frontdesk.credits.application.accounts import utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.kit.uow import UnitOfWork


async def customer_deleted(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    """Current memberships are cancelled, programs voided, open packages voided to 0 with
    ledger entries, the account closed (later purchases, assignments and debits are refused)."""
    now = now or utcnow()
    await memberships.cancel_current(
        uow, tenant_id, customer_id, reason="customer deleted", now=now
    )
    await programs.void_of(uow, tenant_id, customer_id)
    await accounts.close(uow, tenant_id, customer_id, SYSTEM, now)
    await uow.commit()


async def customer_erased(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    """Free-text reasons in both histories are removed and custom grant names replaced;
    amounts, dates and ids stay (an anonymous ledger)."""
    await accounts.scrub(uow, tenant_id, customer_id, now or utcnow())
    await memberships.scrub(uow, tenant_id, customer_id)
    await uow.commit()
