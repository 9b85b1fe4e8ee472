"""The journal: entries and their postings, and every balance as a sum of postings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, func, insert, or_, select, update

from frontdesk.billing.adapters.tables import journal_entries as e
from frontdesk.billing.adapters.tables import postings as p
from frontdesk.billing.domain.ledger import (
    Account,
    CustomerPosition,
    InvoiceFigures,
    JournalEntry,
)
from frontdesk.kit.db import TenantRepository

CUSTOMER_ACCOUNTS = (Account.receivable, Account.customer_credit)


class LedgerRepository(TenantRepository):
    async def add(self, entry: JournalEntry) -> None:
        """The entry and its postings; the database checks at commit that they balance."""
        await self.session.execute(
            insert(e).values(
                id=entry.id,
                tenant_id=self.tenant_id,
                kind=entry.kind.value,
                reference=entry.reference,
                customer_id=entry.customer_id,
                invoice_id=entry.invoice_id,
                document_id=entry.document_id,
                currency=entry.currency,
                memo=entry.memo,
            )
        )
        await self.session.execute(
            insert(p),
            [
                {
                    "tenant_id": self.tenant_id,
                    "entry_id": entry.id,
                    "account": posting.account.value,
                    "customer_id": posting.customer_id,
                    "invoice_id": posting.invoice_id,
                    "method": posting.method,
                    "tax_rate_bp": posting.tax_rate_bp,
                    "amount_minor": posting.amount_minor,
                    "currency": entry.currency,
                }
                for posting in entry.postings
            ],
        )

    def _joined(self) -> Any:
        return p.join(e, and_(e.c.tenant_id == p.c.tenant_id, e.c.id == p.c.entry_id))

    async def invoice_figures(self, invoice_id: uuid.UUID) -> InvoiceFigures:
        """The invoice's receivable summed per kind of entry (and its credit notes' part
        that went to the customer's credit)."""
        return (await self.invoices_figures([invoice_id])).get(invoice_id, InvoiceFigures())

    async def invoices_figures(
        self, invoice_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, InvoiceFigures]:
        if not invoice_ids:
            return {}
        rows = await self._all(
            select(
                p.c.invoice_id, p.c.account, e.c.kind, func.sum(p.c.amount_minor).label("amount")
            )
            .select_from(self._joined())
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.invoice_id.in_(list(invoice_ids)),
                p.c.account.in_(CUSTOMER_ACCOUNTS),
            )
            .group_by(p.c.invoice_id, p.c.account, e.c.kind)
        )
        receivable: dict[uuid.UUID, dict[str, int]] = {}
        credit: dict[uuid.UUID, int] = {}
        for row in rows:
            key, amount = row["invoice_id"], int(row["amount"])
            if row["account"] == Account.receivable:
                receivable.setdefault(key, {})[row["kind"]] = amount
            else:
                credit[key] = credit.get(key, 0) + amount
        return {
            key: InvoiceFigures.of(receivable.get(key, {}), credit.get(key, 0))
            for key in {*receivable, *credit}
        }

    async def positions(
        self, customer_id: uuid.UUID, currency: str | None = None
    ) -> list[CustomerPosition]:
        """The customer's receivable, credit and cash (payments less refunds) per currency."""
        stmt = (
            select(p.c.currency, p.c.account, func.sum(p.c.amount_minor).label("amount"))
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.account.in_((*CUSTOMER_ACCOUNTS, Account.cash)),
            )
            .group_by(p.c.currency, p.c.account)
        )
        if currency is not None:
            stmt = stmt.where(p.c.currency == currency)
        sums: dict[str, dict[str, int]] = {}
        for row in await self._all(stmt):
            sums.setdefault(row["currency"], {})[row["account"]] = int(row["amount"])
        if currency is not None:
            sums.setdefault(currency, {})
        return [
            CustomerPosition(
                currency=code,
                outstanding_minor=by_account.get(Account.receivable, 0),
                credit_minor=-by_account.get(Account.customer_credit, 0),
                lifetime_spend_minor=by_account.get(Account.cash, 0),
            )
            for code, by_account in sorted(sums.items())
        ]

    async def balance_before(
        self, customer_id: uuid.UUID, currency: str, *, seq: int | None, since: datetime | None
    ) -> int:
        """The customer's balance (receivable less credit) before a statement's page: every
        entry before ``since``, and the period's entries up to ``seq`` (pages read before)."""
        bounds = []
        if since is not None:
            bounds.append(e.c.occurred_at < since)
        if seq is not None:
            bounds.append(
                and_(e.c.seq <= seq, e.c.occurred_at >= since) if since else e.c.seq <= seq
            )
        if not bounds:
            return 0
        row = await self._one(
            select(func.coalesce(func.sum(p.c.amount_minor), 0).label("balance"))
            .select_from(self._joined())
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.currency == currency,
                p.c.account.in_(CUSTOMER_ACCOUNTS),
                or_(*bounds),
            )
        )
        return int(row["balance"])

    async def statement_rows(
        self,
        customer_id: uuid.UUID,
        currency: str,
        *,
        since: datetime | None,
        until: datetime | None,
        after_seq: int | None,
        limit: int,
    ) -> Sequence[RowMapping]:
        """Entries that moved the customer's balance, oldest first, with what each moved."""
        receivable = func.coalesce(
            func.sum(p.c.amount_minor).filter(p.c.account == Account.receivable), 0
        )
        credit = func.coalesce(
            func.sum(p.c.amount_minor).filter(p.c.account == Account.customer_credit), 0
        )
        stmt = (
            select(
                e.c.seq,
                e.c.id,
                e.c.kind,
                e.c.reference,
                e.c.invoice_id,
                e.c.document_id,
                e.c.memo,
                e.c.occurred_at,
                receivable.label("receivable_minor"),
                credit.label("credit_minor"),
            )
            .select_from(self._joined())
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.customer_id == customer_id,
                p.c.currency == currency,
                p.c.account.in_(CUSTOMER_ACCOUNTS),
            )
            .group_by(e.c.seq, e.c.id)
            .order_by(e.c.seq)
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(e.c.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(e.c.occurred_at < until)
        if after_seq is not None:
            stmt = stmt.where(e.c.seq > after_seq)
        return await self._all(stmt)

    async def entries(
        self,
        limit: int,
        after_seq: int | None,
        *,
        customer_id: uuid.UUID | None = None,
        invoice_id: uuid.UUID | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries in order, each with its postings."""
        stmt = select(e).where(e.c.tenant_id == self.tenant_id)
        if customer_id is not None:
            stmt = stmt.where(e.c.customer_id == customer_id)
        if invoice_id is not None:
            stmt = stmt.where(e.c.invoice_id == invoice_id)
        if kind is not None:
            stmt = stmt.where(e.c.kind == kind)
        if after_seq is not None:
            stmt = stmt.where(e.c.seq > after_seq)
        found = [dict(row) for row in await self._all(stmt.order_by(e.c.seq).limit(limit))]
        if not found:
            return found
        rows = await self._all(
            select(p)
            .where(p.c.tenant_id == self.tenant_id, p.c.entry_id.in_([x["id"] for x in found]))
            .order_by(p.c.id)
        )
        by_entry: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for row in rows:
            by_entry.setdefault(row["entry_id"], []).append(dict(row))
        for entry in found:
            entry["postings"] = by_entry.get(entry["id"], [])
        return found

    async def account_balances(
        self,
        *,
        currency: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[RowMapping]:
        """Every account's sum (per payment method and tax rate): the trial balance."""
        stmt = (
            select(
                p.c.currency,
                p.c.account,
                p.c.method,
                p.c.tax_rate_bp,
                func.sum(p.c.amount_minor).label("balance_minor"),
            )
            .select_from(self._joined())
            .where(p.c.tenant_id == self.tenant_id)
            .group_by(p.c.currency, p.c.account, p.c.method, p.c.tax_rate_bp)
            .order_by(p.c.currency, p.c.account, p.c.method, p.c.tax_rate_bp)
        )
        if currency is not None:
            stmt = stmt.where(p.c.currency == currency)
        if since is not None:
            stmt = stmt.where(e.c.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(e.c.occurred_at < until)
        return await self._all(stmt)

    async def cash_moved(
        self,
        *,
        customer_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Sequence[RowMapping]:
        """Cash received (payments) and paid back (refunds) per currency in a period."""
        stmt = (
            select(
                p.c.currency,
                func.coalesce(func.sum(p.c.amount_minor).filter(p.c.amount_minor > 0), 0).label(
                    "received_minor"
                ),
                func.coalesce(func.sum(-p.c.amount_minor).filter(p.c.amount_minor < 0), 0).label(
                    "refunded_minor"
                ),
            )
            .select_from(self._joined())
            .where(p.c.tenant_id == self.tenant_id, p.c.account == Account.cash)
            .group_by(p.c.currency)
        )
        if customer_id is not None:
            stmt = stmt.where(p.c.customer_id == customer_id)
        if since is not None:
            stmt = stmt.where(e.c.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(e.c.occurred_at < until)
        return await self._all(stmt)

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
        """Erasure: the journal keeps every amount; its customer link becomes anonymous."""
        for table in (e, p):
            await self.session.execute(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.customer_id == customer_id)
                .values(customer_id=pseudonym)
            )
