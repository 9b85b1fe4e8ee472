"""The ``Books``: every change to a customer's money goes through them in one transaction.

Opening them locks the customer's account row first, so one customer's changes run one
after another and every flow locks in one order: account, invoice, payment, then (last,
right before commit) a document counter. Entries are posted through them; closing them
publishes ``AccountChanged`` (lifetime spend, outstanding, credit: all sums of postings)
with the account's next version, for every currency the transaction touched.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Generic, TypeVar

from frontdesk.billing.adapters.accounts import AccountRepository
from frontdesk.billing.adapters.counters import CounterRepository
from frontdesk.billing.adapters.ledger import LedgerRepository
from frontdesk.billing.adapters.profiles import ProfileRepository
from frontdesk.billing.adapters.tenants import TenantCopyRepository
from frontdesk.billing.domain.ledger import CustomerPosition, InvoiceFigures, JournalEntry
from frontdesk.billing.domain.numbering import Document, Series
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.contracts.billing import AccountChanged
from frontdesk.kit.uow import UnitOfWork

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a creation made, and whether this call made it (False: an
    ``Idempotency-Key`` replay, or an event already invoiced, that changed nothing)."""

    value: T
    created: bool


class Books:
    def __init__(
        self, uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
    ) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.now = now
        self.ledger = LedgerRepository(uow.session, tenant_id)
        self._touched: set[str] = set()

    @classmethod
    async def open(
        cls, uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
    ) -> Books:
        await AccountRepository(uow.session, tenant_id).lock(customer_id)
        return cls(uow, tenant_id, customer_id, now)

    async def post(self, entry: JournalEntry | None) -> None:
        if entry is None:
            return
        await self.ledger.add(entry)
        self._touched.add(entry.currency)

    def touch(self, currency: str) -> None:
        """The customer's position in ``currency`` changed without a new entry (postings
        moved by a merge): ``close`` publishes it."""
        self._touched.add(currency)

    async def figures(self, invoice_id: uuid.UUID) -> InvoiceFigures:
        return await self.ledger.invoice_figures(invoice_id)

    async def position(self, currency: str) -> CustomerPosition:
        (found,) = await self.ledger.positions(self.customer_id, currency)
        return found

    async def number(self, document: Document, prefix: str, profile: BillingProfile) -> str:
        """The next number of the series (take it last: its row stays locked until commit)."""
        series = Series(document, prefix, profile.today(self.now).year)
        return await CounterRepository(self.uow.session, self.tenant_id).next(series)

    async def close(self) -> None:
        """Publish the customer's position in each currency this transaction moved."""
        accounts = AccountRepository(self.uow.session, self.tenant_id)
        for currency in sorted(self._touched):
            position = await self.position(currency)
            version = await accounts.bump(self.customer_id)
            self.uow.publish(
                AccountChanged(
                    customer_id=self.customer_id,
                    lifetime_spend_minor=position.lifetime_spend_minor,
                    outstanding_minor=position.outstanding_minor,
                    currency=currency,
                    credit_minor=position.credit_minor,
                ),
                tenant_id=self.tenant_id,
                aggregate_id=self.customer_id,
                aggregate_version=version,
            )
        self._touched.clear()


async def profile_of(uow: UnitOfWork, tenant_id: uuid.UUID) -> BillingProfile:
    """The profile documents use: staff's own settings, else the tenant's copy."""
    tenant = await TenantCopyRepository(uow.session, tenant_id).get()
    return (await ProfileRepository(uow.session, tenant_id).current()).with_tenant(tenant)
