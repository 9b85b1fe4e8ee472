"""Loyalty rules, accounts, history and vouchers. A customer's loyalty account row is
locked before their credit account (a redemption takes both)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, delete, func, insert, select

from frontdesk.credits.adapters.common import AppendOnlyHistory
from frontdesk.credits.adapters.tables import (
    loyalty_accounts,
    loyalty_entries,
    loyalty_rules,
    loyalty_vouchers,
)
from frontdesk.credits.domain.loyalty import LoyaltyAccount, LoyaltyEntry, LoyaltyRule
from frontdesk.kit.db import TableRepository
from frontdesk.kit.upsert import insert as pg_insert

a = loyalty_accounts
e = loyalty_entries
r = loyalty_rules


class LoyaltyRuleRepository(TableRepository[LoyaltyRule]):
    table = r
    what = "loyalty rule"

    def load(self, row: RowMapping) -> LoyaltyRule:
        return LoyaltyRule(**{k: row[k] for k in row})

    async def current(self) -> LoyaltyRule | None:
        row = await self._first(select(r).where(r.c.tenant_id == self.tenant_id))
        return None if row is None else self.load(row)

    async def put(self, rule: LoyaltyRule) -> LoyaltyRule:
        values = {
            "currency": rule.currency,
            "points_per_unit": rule.points_per_unit,
            "unit_minor": rule.unit_minor,
            "points_per_credit": rule.points_per_credit,
            "discount_minor_per_point": rule.discount_minor_per_point,
            "updated_by": rule.updated_by,
        }
        stmt = (
            pg_insert(r)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_update(
                index_elements=[r.c.tenant_id],
                set_={**values, "version": r.c.version + 1, "updated_at": func.now()},
            )
            .returning(r)
        )
        return self.load(await self._one(stmt))

    async def remove(self) -> bool:
        stmt = delete(r).where(r.c.tenant_id == self.tenant_id).returning(r.c.tenant_id)
        return (await self.session.execute(stmt)).first() is not None


class LoyaltyRepository(TableRepository[LoyaltyAccount], AppendOnlyHistory):
    table = a
    what = "loyalty account"
    history_table = e

    def load(self, row: RowMapping) -> LoyaltyAccount:
        return LoyaltyAccount.from_row(row)

    def _where(self, row_id: uuid.UUID) -> Any:
        return (a.c.tenant_id == self.tenant_id) & (a.c.customer_id == row_id)

    async def lock(self, customer_id: uuid.UUID) -> LoyaltyAccount:
        """The customer's loyalty account, created if missing, locked for this transaction."""
        await self.session.execute(
            pg_insert(a)
            .values(tenant_id=self.tenant_id, customer_id=customer_id)
            .on_conflict_do_nothing()
        )
        found = await self.get(customer_id, for_update=True)
        assert found is not None
        return found

    async def save(self, account: LoyaltyAccount, actor: str) -> LoyaltyAccount:
        """Write the balance (version + 1) and the history entries of the change."""
        saved = await self.update(account.customer_id, {"balance": account.balance})
        account.version = saved.version
        await self.add_entries(account.customer_id, actor, account.collect_entries())
        return account

    async def add_entries(
        self, customer_id: uuid.UUID, actor: str, entries: Iterable[LoyaltyEntry]
    ) -> None:
        rows = [
            {
                "tenant_id": self.tenant_id,
                "customer_id": customer_id,
                "actor": actor,
                **{k: getattr(entry, k) for k in LoyaltyEntry.__dataclass_fields__},
            }
            for entry in entries
        ]
        if rows:
            await self.session.execute(insert(e), rows)

    async def has_source(self, kind: str, source_id: uuid.UUID) -> bool:
        stmt = select(e.c.id).where(
            e.c.tenant_id == self.tenant_id, e.c.kind == kind, e.c.source_id == source_id
        )
        return (await self._first(stmt)) is not None

    async def entry(self, kind: str, source_id: uuid.UUID) -> RowMapping:
        stmt = select(e).where(
            e.c.tenant_id == self.tenant_id, e.c.kind == kind, e.c.source_id == source_id
        )
        return await self._one(stmt)

    async def of_invoice(self, invoice_id: uuid.UUID) -> Sequence[RowMapping]:
        """The earning and the reversals of one invoice, in order."""
        stmt = (
            select(e)
            .where(e.c.tenant_id == self.tenant_id, e.c.invoice_id == invoice_id)
            .order_by(e.c.seq)
        )
        return await self._all(stmt)

    async def add_voucher(self, values: dict[str, Any]) -> RowMapping:
        stmt = (
            insert(loyalty_vouchers)
            .values(tenant_id=self.tenant_id, **values)
            .returning(loyalty_vouchers)
        )
        return await self._one(stmt)

    async def vouchers(self, customer_id: uuid.UUID) -> Sequence[RowMapping]:
        v = loyalty_vouchers
        stmt = (
            select(v)
            .where(v.c.tenant_id == self.tenant_id, v.c.customer_id == customer_id)
            .order_by(v.c.created_at, v.c.id)
        )
        return await self._all(stmt)

    async def set_balance(self, customer_id: uuid.UUID, balance: int) -> LoyaltyAccount:
        return await self.update(customer_id, {"balance": balance})

    async def totals(self, customer_id: uuid.UUID) -> dict[str, int]:
        """Points earned, reversed (and fallen short) and redeemed over the history."""
        stmt = (
            select(e.c.kind, func.sum(e.c.delta), func.sum(e.c.shortfall))
            .where(and_(e.c.tenant_id == self.tenant_id, e.c.customer_id == customer_id))
            .group_by(e.c.kind)
        )
        totals = {"earned": 0, "reversed": 0, "redeemed": 0, "shortfall": 0}
        for kind, delta, shortfall in (await self.session.execute(stmt)).all():
            totals[kind] = abs(int(delta or 0))
            totals["shortfall"] += int(shortfall or 0)
        return totals
