"""Bookings' debits in the saga: one row per booking (the second guard, after the inbox,
that makes a debit happen once whatever the redeliveries)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import RowMapping, bindparam, text

from frontdesk.credits.adapters.tables import booking_debits as b
from frontdesk.credits.domain.accounts import CreditAccount
from frontdesk.credits.domain.debits import BookingDebit
from frontdesk.credits.domain.packages import Entry, Package
from frontdesk.kit.db import Prepared, TableRepository, session_writes
from frontdesk.kit.errors import ConflictError
from frontdesk.kit.uow import OUTBOX_INSERT
from frontdesk.kit.upsert import insert as pg_insert

_CLAIM = Prepared(
    pg_insert(b)
    .values({column.name: bindparam(column.name) for column in b.c if column.name != "created_at"})
    .on_conflict_do_nothing()
    .returning(b.c.booking_id)
)


# A booking's debit paid with credits: every write of it in one round trip. The account's
# counts come recounted from the caller (it holds the account's lock and the usable
# packages, locked), so nothing here reads what the statement itself changes.
_PAID = Prepared(
    text(
        """
WITH packages AS (
    UPDATE credit_packages AS p
    SET balance = x.balance, version = p.version + 1, updated_at = now()
    FROM unnest(CAST(:package_ids AS uuid[]), CAST(:balances AS int[]),
                CAST(:versions AS int[])) AS x (id, balance, version)
    WHERE p.tenant_id = :tenant_id AND p.id = x.id AND p.version = x.version
    RETURNING p.id
), debit AS (
    UPDATE booking_debits
    SET status = :status, reason = :reason, debits = CAST(:debits AS jsonb)
    WHERE tenant_id = :tenant_id AND booking_id = :booking_id
), account AS (
    UPDATE credit_accounts
    SET available = :available, version = version + 1, updated_at = now()
    WHERE tenant_id = :tenant_id AND customer_id = :holder_id
), history AS (
    INSERT INTO credit_history (id, tenant_id, customer_id, package_id, booking_id, kind,
                                delta, balance_after, available_after, actor)
    SELECT e.id, :tenant_id, :holder_id, e.package_id, :booking_id, e.kind, e.delta,
           e.balance_after, :available, :actor
    FROM unnest(CAST(:entry_ids AS uuid[]), CAST(:entry_packages AS uuid[]),
                CAST(:kinds AS text[]), CAST(:deltas AS int[]),
                CAST(:balances_after AS int[]))
         AS e (id, package_id, kind, delta, balance_after)
), outbox AS (
    """
        + OUTBOX_INSERT
        + """
)
SELECT count(*) FROM packages
"""
    )
)


class BookingDebitRepository(TableRepository[BookingDebit]):
    table = b
    what = "booking debit"

    def load(self, row: RowMapping) -> BookingDebit:
        return BookingDebit.from_row(row)

    def _where(self, row_id: uuid.UUID) -> Any:
        return (b.c.tenant_id == self.tenant_id) & (b.c.booking_id == row_id)

    async def claim(self, debit: BookingDebit) -> bool:
        """Insert the booking's row; False if one already exists (then ``lock`` it). Every
        step of every booking's saga starts here: one prepared statement."""
        writes = session_writes(self.session)
        found = await writes.value(_CLAIM, tenant_id=self.tenant_id, **debit.to_row())
        return found is not None

    async def lock(self, booking_id: uuid.UUID) -> BookingDebit:
        return await self.require(booking_id, for_update=True)

    async def save_paid(
        self,
        debit: BookingDebit,
        packages: list[Package],
        account: CreditAccount,
        entries: list[Entry],
        actor: str,
        outbox: dict[str, list[Any]],
    ) -> None:
        """A debit paid with credits, in one statement: the packages it took from (each
        only if still at the version read, else ``ConflictError``), the debit row, the
        account (``account``: as recounted, at its next version), the history and the
        ``outbox`` rows (``UnitOfWork.take_outbox``)."""
        taken = await session_writes(self.session).value(
            _PAID,
            tenant_id=self.tenant_id,
            booking_id=debit.booking_id,
            status=debit.status.value,
            reason=debit.reason,
            debits=orjson.dumps(debit.to_row()["debits"]).decode(),
            holder_id=account.customer_id,
            available=account.available,
            actor=actor,
            package_ids=[package.id for package in packages],
            balances=[package.balance for package in packages],
            versions=[package.version for package in packages],
            entry_ids=[entry.id for entry in entries],
            entry_packages=[entry.package_id for entry in entries],
            kinds=[entry.kind for entry in entries],
            deltas=[entry.delta for entry in entries],
            balances_after=[entry.balance_after for entry in entries],
            **outbox,
        )
        if taken != len(packages):  # cannot happen under the account's lock: retried
            raise ConflictError("a package changed while it was debited", field="package_id")

    async def save(self, debit: BookingDebit) -> None:
        row = debit.to_row()
        await self.update(debit.booking_id, {k: v for k, v in row.items() if k != "booking_id"})
