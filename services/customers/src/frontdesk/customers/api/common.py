"""Pieces every router of the service shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.customers.api.schemas import CustomerOut, Membership, NextSession, SummaryOut
from frontdesk.customers.domain.engagement import engagement
from frontdesk.kit.auth import Principal
from frontdesk.kit.problems import Conflict, NotFound
from frontdesk.kit.service import Runtime


def region(rt: Runtime) -> str:
    return str(getattr(rt.settings, "default_region", "GB"))


def visible(principal: Principal, customer_id: uuid.UUID) -> None:
    """A customer token reaches only its own record; others look absent."""
    if principal.is_customer and principal.customer_id != customer_id:
        raise NotFound("No such customer.")


async def existing(
    repo: CustomerRepository,
    customer_id: uuid.UUID,
    *,
    for_update: bool = False,
    editable: bool = False,
) -> Any:
    row = await repo.get(customer_id, for_update=for_update)
    if row is None:
        raise NotFound("No such customer.")
    if editable and row["erased_at"] is not None:
        raise Conflict("This customer was erased; the record can no longer be edited.")
    return row


async def detail(repo: CustomerRepository, row: Any, principal: Principal) -> CustomerOut:
    """The record with its summary and (for staff) its likely duplicates."""
    now = datetime.now(UTC)
    summary_row = await repo.summary(row["id"])
    summary = SummaryOut()
    if summary_row is not None:
        summary = SummaryOut(
            **{k: summary_row[k] for k in SummaryOut.model_fields if k in summary_row},
            engagement=engagement(
                summary_row["bookings_count"], summary_row["last_booking_at"], now
            ),
        )
    next_session = await repo.next_session(row["id"], now)
    membership = await repo.active_membership(row["id"], now)
    summary.next_session = NextSession(**next_session) if next_session else None
    summary.membership = Membership(**membership) if membership else None
    duplicates = [] if principal.is_customer else await repo.possible_duplicates(row)
    return CustomerOut.of(row, possible_duplicates=duplicates, summary=summary)
