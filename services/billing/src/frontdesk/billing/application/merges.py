"""Customers merged and unmerged (customers' events): the merged customer's invoices,
credit notes, payments, refunds, journal, memberships and loyalty vouchers move to the
survivor and back
(``domain.merges``). Both customers' accounts are locked first, in one order, like
every change of money; each publishes its new position (``AccountChanged``) in every
currency the move touched, through the outbox in the same transaction."""

from __future__ import annotations

import logging
import uuid

from frontdesk.billing.adapters.merges import MergeRepository
from frontdesk.billing.application.books import Books, utcnow
from frontdesk.billing.domain.ledger import merge_settled
from frontdesk.billing.domain.merges import CustomerMerge, on_merged, on_unmerged, settlement
from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _open(uow: UnitOfWork, tenant_id: uuid.UUID, merge: CustomerMerge) -> list[Books]:
    """Both customers' books, locked in one order: no other change of their money runs
    meanwhile."""
    now = utcnow()
    return [await Books.open(uow, tenant_id, customer, now) for customer in merge.customers]


async def _settle(merge: CustomerMerge, books: list[Books], currencies: set[str]) -> None:
    """Credit one record used of the other's while they were one goes over to it."""
    by_customer = {book.customer_id: book for book in books}
    survivor, merged = by_customer[merge.survivor_id], by_customer[merge.merged_id]
    for currency in sorted(currencies):
        found = settlement(
            (await survivor.position(currency)).credit_minor,
            (await merged.position(currency)).credit_minor,
        )
        if found is None:
            continue
        who, amount = found
        to, source = (survivor, merged) if who == "survivor" else (merged, survivor)
        await to.post(
            merge_settled(
                merge_id=merge.merge_id,
                currency=currency,
                from_customer=source.customer_id,
                to_customer=to.customer_id,
                amount_minor=amount,
            )
        )


async def _close(books: list[Books], currencies: set[str]) -> None:
    for book in books:
        for currency in currencies:
            book.touch(currency)
        await book.close()


async def customer_merged(uow: UnitOfWork, tenant_id: uuid.UUID, event: CustomerMerged) -> None:
    repo = MergeRepository(uow.session, tenant_id)
    known = await repo.lock(event.merge_id)
    if event.survivor_id == event.merged_id or on_merged(known) == "nothing":
        log.info("merge %s already known (or one customer): nothing moves", event.merge_id)
        await uow.commit()
        return
    merge = CustomerMerge(event.merge_id, event.survivor_id, event.merged_id, "merged")
    books = await _open(uow, tenant_id, merge)
    await repo.keep(merge)
    await repo.move(merge)
    await _close(books, await repo.currencies(merge))
    await uow.commit()


async def customer_unmerged(uow: UnitOfWork, tenant_id: uuid.UUID, event: CustomerUnmerged) -> None:
    repo = MergeRepository(uow.session, tenant_id)
    known = await repo.lock(event.merge_id)
    if event.survivor_id == event.merged_id:
        await uow.commit()
        return
    merge = CustomerMerge(event.merge_id, event.survivor_id, event.merged_id, "unmerged")
    if on_unmerged(known) == "move_back":
        books = await _open(uow, tenant_id, merge)
        await repo.move_back(merge)
        await repo.keep(merge)
        currencies = await repo.currencies(merge)
        await _settle(merge, books, currencies)
        await _close(books, currencies)
    elif known is None:
        await repo.keep(merge)  # before its merge: the merge, when it comes, moves nothing
    await uow.commit()
