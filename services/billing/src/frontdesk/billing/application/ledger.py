"""Reading the ledger: a customer's statement with its running balance, their position,
the journal's entries, and the trial balance. Every figure is a sum of postings."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.billing.adapters.ledger import LedgerRepository
from frontdesk.billing.application.books import profile_of
from frontdesk.billing.domain.ledger import CustomerPosition, EntryKind
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class StatementLine:
    seq: int
    entry_id: uuid.UUID
    kind: str
    reference: str
    occurred_at: datetime
    memo: str | None
    invoice_id: uuid.UUID | None
    document_id: uuid.UUID
    debit_minor: int  # what the entry added to what the customer owes
    credit_minor: int  # what it took off
    balance_minor: int  # owed after it (negative: held for the customer)


@dataclasses.dataclass(frozen=True)
class Statement:
    customer_id: uuid.UUID
    currency: str
    opening_minor: int
    lines: list[StatementLine]
    closing_minor: int
    next_seq: int | None


@dataclasses.dataclass(frozen=True)
class Period:
    """Local dates of the business, as instants (``until`` is the day after ``to``)."""

    since: datetime | None
    until: datetime | None

    @classmethod
    def of(cls, profile: BillingProfile, start: date | None, end: date | None) -> Period:
        if start and end and end < start:
            raise RuleBroken("to", "must not be before from")
        zone = ZoneInfo(profile.timezone)

        def instant(day: date | None, days: int = 0) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day + timedelta(days=days), time(), zone)

        return cls(instant(start), instant(end, 1))


def _required_customer(principal: Principal, customer_id: uuid.UUID | None) -> uuid.UUID:
    scope = principal.customer_scope(customer_id)
    if scope is None:
        raise RuleBroken("customer_id", "required")
    return scope


async def statement(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None,
    currency: str | None = None,
    start: date | None = None,
    end: date | None = None,
    after_seq: int | None = None,
    limit: int,
) -> Statement:
    """The entries that moved what the customer owes (or holds), oldest first, each with
    the balance after it; the opening balance sums everything before."""
    customer = _required_customer(principal, customer_id)
    profile = await profile_of(uow, principal.tenant_id)
    period = Period.of(profile, start, end)
    currency = currency or profile.currency
    repo = LedgerRepository(uow.session, principal.tenant_id)
    opening = await repo.balance_before(customer, currency, seq=after_seq, since=period.since)
    rows = await repo.statement_rows(
        customer,
        currency,
        since=period.since,
        until=period.until,
        after_seq=after_seq,
        limit=limit + 1,
    )
    balance = opening
    lines: list[StatementLine] = []
    for row in rows[:limit]:
        moved = int(row["receivable_minor"]) + int(row["credit_minor"])
        balance += moved
        lines.append(
            StatementLine(
                seq=row["seq"],
                entry_id=row["id"],
                kind=row["kind"],
                reference=row["reference"],
                occurred_at=row["occurred_at"],
                memo=row["memo"],
                invoice_id=row["invoice_id"],
                document_id=row["document_id"],
                debit_minor=max(moved, 0),
                credit_minor=max(-moved, 0),
                balance_minor=balance,
            )
        )
    more = len(rows) > limit and lines
    return Statement(
        customer_id=customer,
        currency=currency,
        opening_minor=opening,
        lines=lines,
        closing_minor=balance,
        next_seq=lines[-1].seq if more else None,
    )


async def position(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID | None
) -> list[CustomerPosition]:
    """What the customer owes, holds as credit and has spent, per currency."""
    customer = _required_customer(principal, customer_id)
    return await LedgerRepository(uow.session, principal.tenant_id).positions(customer)


async def entries(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    kind: EntryKind | None = None,
    after_seq: int | None = None,
    limit: int,
) -> list[dict[str, Any]]:
    return await LedgerRepository(uow.session, principal.tenant_id).entries(
        limit + 1,
        after_seq,
        customer_id=customer_id,
        invoice_id=invoice_id,
        kind=kind.value if kind else None,
    )


async def balances(
    uow: UnitOfWork,
    principal: Principal,
    *,
    currency: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Sequence[Any]:
    """Every account's sum in the period (per method and tax rate): they sum to zero."""
    profile = await profile_of(uow, principal.tenant_id)
    period = Period.of(profile, start, end)
    return await LedgerRepository(uow.session, principal.tenant_id).account_balances(
        currency=currency, since=period.since, until=period.until
    )
