"""/v1/ledger: a customer's statement (running balance) and position, the journal's
entries and the trial balance. Every figure is a sum of postings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from frontdesk.billing.api.common import (
    BillingManager,
    BillingReader,
    seq_after,
    seq_cursor,
)
from frontdesk.billing.api.schemas import (
    AccountBalanceOut,
    EntryOut,
    EntryPage,
    PositionOut,
    StatementLineOut,
    StatementOut,
)
from frontdesk.billing.application import ledger
from frontdesk.billing.domain.ledger import EntryKind
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, encode_cursor, split_page
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import BoundedDate

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])

From = Annotated[BoundedDate | None, Query(alias="from", description="first local day")]
To = Annotated[BoundedDate | None, Query(alias="to", description="last local day")]
Currency = Annotated[CurrencyCode | None, Query()]


@router.get("/statement", response_model=StatementOut)
async def statement(
    uow: UnitOfWorkDep,
    principal: BillingReader,
    customer_id: uuid.UUID | None = None,
    currency: Currency = None,
    start: From = None,
    end: To = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> StatementOut:
    """Invoices, payments, credit notes, refunds and credit applied, oldest first, each
    with its reference number and the balance after it (what the customer owes; negative:
    what is held for them). A customer reads its own."""
    found = await ledger.statement(
        uow,
        principal,
        customer_id=customer_id,
        currency=currency,
        start=start,
        end=end,
        after_seq=seq_after(cursor),
        limit=limit,
    )
    return StatementOut(
        customer_id=found.customer_id,
        currency=found.currency,
        opening_minor=found.opening_minor,
        lines=[StatementLineOut.of(line) for line in found.lines],
        closing_minor=found.closing_minor,
        next_cursor=seq_cursor(found.next_seq),
    )


@router.get("/position", response_model=list[PositionOut])
async def position(
    uow: UnitOfWorkDep, principal: BillingReader, customer_id: uuid.UUID | None = None
) -> list[PositionOut]:
    """Per currency: outstanding (receivable), credit held, lifetime spend (paid less
    refunds)."""
    found = await ledger.position(uow, principal, customer_id)
    return [
        PositionOut(
            currency=p.currency,
            outstanding_minor=p.outstanding_minor,
            credit_minor=p.credit_minor,
            lifetime_spend_minor=p.lifetime_spend_minor,
            balance_minor=p.balance_minor,
        )
        for p in found
    ]


@router.get("/entries", response_model=EntryPage)
async def entries(
    uow: UnitOfWorkDep,
    principal: BillingManager,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    kind: EntryKind | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> EntryPage:
    """The journal in order: each entry with its postings (they sum to zero)."""
    rows = await ledger.entries(
        uow,
        principal,
        customer_id=customer_id,
        invoice_id=invoice_id,
        kind=kind,
        after_seq=seq_after(cursor),
        limit=limit,
    )
    items, next_cursor = split_page(rows, limit, lambda row: encode_cursor([row["seq"]]))
    return EntryPage(items=[EntryOut.of(row) for row in items], next_cursor=next_cursor)


@router.get("/balances", response_model=list[AccountBalanceOut])
async def balances(
    uow: UnitOfWorkDep,
    principal: BillingManager,
    currency: Currency = None,
    start: From = None,
    end: To = None,
) -> list[AccountBalanceOut]:
    """The trial balance of the period: receivable, customer credit, revenue and tax per
    rate, cash per method. In each currency they sum to zero."""
    rows = await ledger.balances(uow, principal, currency=currency, start=start, end=end)
    return [AccountBalanceOut.of(row) for row in rows]
