"""Customers' credit accounts and their ledger (the append-only credit history).

Every change to a customer's credits locks the account row first, so one customer's
changes run one after another and always lock in the same order (booking debit row,
account, packages by expiry).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, func, insert, or_, select, update

from frontdesk.credits.adapters.common import AppendOnlyHistory
from frontdesk.credits.adapters.tables import credit_accounts as a
from frontdesk.credits.adapters.tables import credit_history, credit_packages
from frontdesk.credits.domain.accounts import CreditAccount
from frontdesk.credits.domain.packages import Entry, PackageStatus
from frontdesk.kit.db import Prepared, Reads, TableRepository, session_writes
from frontdesk.kit.upsert import insert as pg_insert


class AccountRepository(TableRepository[CreditAccount], AppendOnlyHistory):
    table = a
    what = "credit account"
    history_table = credit_history

    def load(self, row: RowMapping) -> CreditAccount:
        return CreditAccount.from_row(row)

    def _where(self, row_id: uuid.UUID) -> Any:
        return (a.c.tenant_id == self.tenant_id) & (a.c.customer_id == row_id)

    async def lock(self, customer_id: uuid.UUID) -> CreditAccount:
        """The customer's account, created if missing, locked for this transaction (every
        change to credits, a booking's debit among them: one prepared round trip when the
        account exists)."""
        writes = session_writes(self.session)
        key = {"tenant_id": self.tenant_id, "customer_id": customer_id}
        found = await writes.row(_LOCK, **key)
        if found is None:
            await writes.execute(_OPEN, **key)
            found = await writes.row(_LOCK, **key)
        assert found is not None
        return CreditAccount.from_row(found)

    async def recount(
        self,
        customer_id: uuid.UUID,
        now: datetime,
        *,
        purchased: int = 0,
        closed_at: datetime | None = None,
    ) -> CreditAccount:
        """Recount available and paused from the packages; bump the version."""
        p = credit_packages
        mine = and_(p.c.tenant_id == self.tenant_id, p.c.customer_id == customer_id)
        available = (
            select(func.coalesce(func.sum(p.c.balance), 0))
            .where(
                mine,
                p.c.status == PackageStatus.active,
                or_(p.c.expires_at.is_(None), p.c.expires_at > now),
            )
            .scalar_subquery()
        )
        paused = (
            select(func.coalesce(func.sum(p.c.balance), 0))
            .where(mine, p.c.status == PackageStatus.paused)
            .scalar_subquery()
        )
        extra = {} if closed_at is None else {"closed_at": closed_at}
        return await self.update(
            customer_id,
            {
                "available": available,
                "paused": paused,
                "purchased_total": a.c.purchased_total + purchased,
                **extra,
            },
        )

    async def mark_erased(self, customer_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(a).where(self._where(customer_id)).values(erased_at=now))

    async def add_entries(
        self, customer_id: uuid.UUID, actor: str, available_after: int, entries: Iterable[Entry]
    ) -> None:
        rows = [
            {
                "tenant_id": self.tenant_id,
                "id": entry.id,
                "customer_id": customer_id,
                "package_id": entry.package_id,
                "booking_id": entry.booking_id,
                "kind": entry.kind,
                "delta": entry.delta,
                "balance_after": entry.balance_after,
                "available_after": available_after,
                "reason": entry.reason,
                "actor": actor,
                "price_minor": entry.price_minor,
                "currency": entry.currency,
            }
            for entry in entries
        ]
        if rows:
            await self.session.execute(insert(credit_history), rows)

    async def history(
        self,
        limit: int,
        after_seq: int | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        package_id: uuid.UUID | None = None,
        booking_id: uuid.UUID | None = None,
    ) -> Sequence[RowMapping]:
        return await self.history_page(
            limit, after_seq, customer_id=customer_id, package_id=package_id, booking_id=booking_id
        )


_ACCOUNT = Prepared(
    select(a).where(
        a.c.tenant_id == bindparam("tenant_id"), a.c.customer_id == bindparam("customer_id")
    )
)
_LOCK = Prepared(_ACCOUNT.statement.with_for_update())
_OPEN = Prepared(
    pg_insert(a)
    .values(tenant_id=bindparam("tenant_id"), customer_id=bindparam("customer_id"))
    .on_conflict_do_nothing()
)


class AccountReads:
    """The customer's account as the balance shows it, read through the driver
    (``kit.db.Reads``): one prepared statement, no session, a connection borrowed for the
    one round trip (staff screens and self-service ask for it on every page)."""

    def __init__(self, reads: Reads, tenant_id: uuid.UUID) -> None:
        self.reads = reads
        self.tenant_id = tenant_id

    async def get(self, customer_id: uuid.UUID) -> CreditAccount | None:
        row = await self.reads.row(_ACCOUNT, tenant_id=self.tenant_id, customer_id=customer_id)
        return None if row is None else CreditAccount.from_row(row)
