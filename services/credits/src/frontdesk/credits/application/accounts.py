"""Customers' credit accounts: the ``Ledger`` every change to credits goes through, the
balance and the credit history.

A ``Ledger`` locks the customer's account row first (so one customer's changes run
one at a time, always locking in the same order: booking debit row, account, packages
by expiry), saves the packages it is handed with their history entries and events,
then recounts the account and publishes ``BalanceChanged`` with the account's next
version.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from frontdesk.contracts.credits import BalanceChanged
from frontdesk.credits.adapters.accounts import AccountReads, AccountRepository
from frontdesk.credits.adapters.debits import BookingDebitRepository
from frontdesk.credits.adapters.packages import PackageRepository
from frontdesk.credits.domain.accounts import CreditAccount
from frontdesk.credits.domain.debits import BookingDebit
from frontdesk.credits.domain.packages import SALES, Entry, Package
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The changes to one customer's credits within one transaction."""

    def __init__(
        self,
        uow: UnitOfWork,
        account: CreditAccount,
        actor: str,
        now: datetime,
    ) -> None:
        self.uow = uow
        self.account = account
        self.actor = actor
        self.now = now
        self.accounts = AccountRepository(uow.session, account.tenant_id)
        self.packages = PackageRepository(uow.session, account.tenant_id)
        self._entries: list[Entry] = []

    @classmethod
    async def open(
        cls,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        actor: str,
        now: datetime,
        *,
        allow_closed: bool = False,
    ) -> Ledger:
        """Lock the customer's account; a deleted customer's is refused unless allowed."""
        account = await AccountRepository(uow.session, tenant_id).lock(customer_id)
        if not allow_closed:
            account.require_open()
        return cls(uow, account, actor, now)

    async def add(self, package: Package) -> Package:
        await self.packages.add(package)
        return self._saved(package)

    async def save(self, package: Package) -> Package:
        await self.packages.save(package)
        return self._saved(package)

    def _saved(self, package: Package) -> Package:
        self._entries.extend(package.collect_entries())
        self.uow.publish_recorded(package)
        return package

    async def close_booking_debit(
        self, debits: BookingDebitRepository, debit: BookingDebit, usable: list[Package]
    ) -> CreditAccount:
        """A booking's debit from the ``usable`` packages (all the holder's, locked, as the
        debit left them): its writes and the events published so far with
        ``BalanceChanged`` in one statement. The usable credits are recounted from
        ``usable`` itself, as ``close`` would from the table."""
        paid_from = {a.package_id for a in debit.debits}
        self.account = dataclasses.replace(
            self.account,
            available=sum(package.balance for package in usable),
            version=self.account.version + 1,
        )
        packages = [package for package in usable if package.id in paid_from]
        for package in packages:
            self._entries.extend(package.collect_entries())
        self._publish_balance("debit")
        outbox = self.uow.take_outbox()
        await debits.save_paid(debit, packages, self.account, self._entries, self.actor, outbox)
        self._entries = []
        for package in packages:
            package.saved({"version": package.version + 1})
        return self.account

    async def close(
        self, reason: str, *, closed_at: datetime | None = None, purchased_moved: int = 0
    ) -> CreditAccount:
        """Recount the account, write the history, publish the new balance.
        ``purchased_moved``: credits ever bought that a merge (or unmerge) brought along."""
        customer_id = self.account.customer_id
        self.account = await self.accounts.recount(
            customer_id,
            self.now,
            purchased=sum(e.delta for e in self._entries if e.kind in SALES) + purchased_moved,
            closed_at=closed_at,
        )
        await self.accounts.add_entries(
            customer_id, self.actor, self.account.available, self._entries
        )
        self._entries = []
        self._publish_balance(reason)
        return self.account

    def _publish_balance(self, reason: str) -> None:
        self.uow.publish(
            BalanceChanged(
                customer_id=self.account.customer_id,
                available=self.account.available,
                paused=self.account.paused,
                purchased_total=self.account.purchased_total,
                reason=reason,
            ),
            tenant_id=self.account.tenant_id,
            aggregate_id=self.account.customer_id,
            aggregate_version=self.account.version,
        )


# --- steps of the customers' lifecycle (the caller commits) -------------------------


async def close(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, actor: str, now: datetime
) -> None:
    """The customer was deleted: void their open packages (history kept), close the
    account (later purchases, assignments and debits are refused)."""
    ledger = await Ledger.open(uow, tenant_id, customer_id, actor, now, allow_closed=True)
    if ledger.account.closed:
        return
    for package in await ledger.packages.lock_open_of(customer_id):
        package.void("customer deleted")
        await ledger.save(package)
    await ledger.close("customer_deleted", closed_at=now)


async def scrub(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
) -> None:
    """GDPR erasure: drop free text, keep the anonymous ledger (amounts, dates, ids)."""
    accounts = AccountRepository(uow.session, tenant_id)
    await accounts.lock(customer_id)
    await accounts.scrub_reasons(customer_id)
    await PackageRepository(uow.session, tenant_id).scrub_custom_names(customer_id)
    await accounts.mark_erased(customer_id, now)


# --- queries ---------------------------------------------------------------------------


async def balance(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID | None
) -> CreditAccount:
    """The customer's account: usable, paused and all credits ever bought (zeros for a
    customer who never had any)."""
    scope = principal.customer_scope(customer_id)
    if scope is None:
        raise RuleBroken("customer_id", "required")
    found = await AccountReads(uow.reads, principal.tenant_id).get(scope)
    return found or CreditAccount(tenant_id=principal.tenant_id, customer_id=scope)


async def history(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    package_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    after_seq: int | None = None,
    limit: int,
) -> Sequence[Mapping[Any, Any]]:
    """Every change to credits, oldest first (one row past ``limit``, to tell whether
    more follow)."""
    return await AccountRepository(uow.session, principal.tenant_id).history(
        limit + 1,
        after_seq,
        customer_id=principal.customer_scope(customer_id),
        package_id=package_id,
        booking_id=booking_id,
    )
