"""Bookings' debits in the saga: one row per booking (the second guard, after the inbox,
that makes a debit happen once whatever the redeliveries)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, bindparam, text

from frontdesk.credits.adapters.tables import booking_debits as b
from frontdesk.credits.domain.accounts import CreditAccount
from frontdesk.credits.domain.debits import BookingDebit
from frontdesk.credits.domain.packages import Entry, Package, PackageStatus
from frontdesk.credits.domain.programs import ProgramStatus
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

_CLAIM_COLUMNS = [column.name for column in b.c if column.name != "created_at"]
_CLAIM_VALUES = [f"CAST(:{n} AS jsonb)" if n == "debits" else f":{n}" for n in _CLAIM_COLUMNS]

# A booking's claim, and in the same round trip the payer's account locked and their usable
# packages read. The packages are read with the statement's snapshot, taken before the
# account's lock was granted; every change to packages bumps the account's version under
# that lock, so the version seen by the snapshot equal to the version locked proves
# the packages current. Left unlocked when the request was a redelivery (nothing claimed)
# or a program of the customer may pay instead (programs lock before accounts).
# It also has the rest of the debit's transaction reuse each statement's generic plan:
# ``_PAID`` is keyed lookups only, but PostgreSQL guesses ten elements for each of its
# arrays, prices the generic plan above a fresh one and planned it again on every debit
# (as long as running it; the bench's debits/s rose by about a fifth without).
_CLAIM_OPENING = Prepared(
    text(
        f"""
WITH claim AS (
    INSERT INTO booking_debits ({", ".join(_CLAIM_COLUMNS)})
    VALUES ({", ".join(_CLAIM_VALUES)})
    ON CONFLICT DO NOTHING
    RETURNING booking_id
), seen AS (
    SELECT version FROM credit_accounts
    WHERE tenant_id = :tenant_id AND customer_id = :holder_id
), account AS (
    SELECT * FROM credit_accounts
    WHERE tenant_id = :tenant_id AND customer_id = :holder_id
      AND EXISTS (SELECT FROM claim)
      AND NOT (CAST(:programs_may_pay AS boolean) AND EXISTS (
          SELECT FROM programs
          WHERE tenant_id = :tenant_id AND customer_id = :customer_id
            AND status = '{ProgramStatus.active}' AND sessions_used < sessions_total))
    FOR UPDATE
)
SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT version FROM seen) AS seen_version,
       set_config('plan_cache_mode', 'force_generic_plan', true) AS plan_cache_mode,
       a.version AS account_version, a.available AS account_available,
       a.paused AS account_paused, a.purchased_total AS account_purchased_total,
       a.closed_at AS account_closed_at, a.erased_at AS account_erased_at, p.*
FROM (SELECT) AS one
LEFT JOIN account AS a ON true
LEFT JOIN credit_packages AS p
    ON a.customer_id IS NOT NULL AND p.tenant_id = :tenant_id AND p.customer_id = :holder_id
   AND p.status = '{PackageStatus.active}' AND p.balance > 0
   AND (p.expires_at IS NULL OR p.expires_at > :now)
"""
    )
)


@dataclasses.dataclass
class Claim:
    """A booking's claim (``claimed``: False if its row already existed) and, when it was
    taken, the payer's ``account`` locked with their ``usable`` packages as of the lock
    (None: read them under the lock). No account: lock it the usual way (``Ledger.open``)."""

    claimed: bool
    account: CreditAccount | None = None
    usable: list[Package] | None = None


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

    async def claim_paying(
        self, debit: BookingDebit, now: datetime, *, programs_may_pay: bool
    ) -> Claim:
        """``claim``, and for a new claim the payer's account locked and their usable
        packages with it, in one prepared statement (the saga's debit, unless a program of
        the customer may pay: ``programs_may_pay`` and they have one)."""
        holder = debit.holder_id
        assert holder is not None, "a refused debit claims with claim()"
        row = debit.to_row()
        rows = await session_writes(self.session).rows(
            _CLAIM_OPENING,
            **row | {"debits": orjson.dumps(row["debits"]).decode()},
            tenant_id=self.tenant_id,
            holder_id=holder,
            programs_may_pay=programs_may_pay,
            now=now,
        )
        first = rows[0]
        if not first["claimed"]:
            return Claim(claimed=False)
        if first["account_version"] is None:
            return Claim(claimed=True)
        account = CreditAccount(
            tenant_id=self.tenant_id,
            customer_id=holder,
            **{
                field.name: first[f"account_{field.name}"]
                for field in dataclasses.fields(CreditAccount)
                if field.name not in ("tenant_id", "customer_id")
            },
        )
        if first["seen_version"] != account.version:  # changed while the lock was awaited
            return Claim(claimed=True, account=account)
        usable = [Package.from_row(found) for found in rows if found["id"] is not None]
        return Claim(claimed=True, account=account, usable=usable)

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
