"""Loyalty vouchers and their uses; what a voucher has left is summed from its uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from frontdesk.billing.adapters.common import keyset_page
from frontdesk.billing.adapters.tables import loyalty_vouchers as v
from frontdesk.billing.adapters.tables import voucher_uses as u
from frontdesk.billing.domain.vouchers import Use, Voucher
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert


class VoucherRepository(TenantRepository):
    async def add(self, voucher: Voucher) -> bool:
        """Keep a voucher; False when it is known already (the same voucher again)."""
        result = await self.session.execute(
            insert(v)
            .values(
                tenant_id=self.tenant_id,
                voucher_id=voucher.voucher_id,
                customer_id=voucher.customer_id,
                points=voucher.points,
                amount_minor=voucher.amount_minor,
                currency=voucher.currency,
                issued_by=voucher.issued_by,
            )
            .on_conflict_do_nothing()
            .returning(v.c.voucher_id)
        )
        return result.first() is not None

    def _with_used(self) -> tuple[Any, Any]:
        """Vouchers with the sum of their uses (``used``: that sum, for filters)."""
        uses = (
            select(u.c.voucher_id, func.sum(u.c.amount_minor).label("used_minor"))
            .where(u.c.tenant_id == self.tenant_id)
            .group_by(u.c.voucher_id)
            .subquery()
        )
        used = func.coalesce(uses.c.used_minor, 0)
        stmt = (
            select(v, used.label("used_minor"))
            .select_from(v.outerjoin(uses, uses.c.voucher_id == v.c.voucher_id))
            .where(v.c.tenant_id == self.tenant_id)
        )
        return stmt, used

    async def open_of(self, customer_id: uuid.UUID, currency: str) -> list[Voucher]:
        """The customer's vouchers in ``currency`` with something left, oldest first."""
        stmt, _ = self._with_used()
        stmt = stmt.where(v.c.customer_id == customer_id, v.c.currency == currency)
        rows = await self._all(stmt.order_by(v.c.issued_at, v.c.voucher_id))
        return [found for found in map(_voucher, rows) if found.is_open]

    async def page(
        self,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        *,
        customer_id: uuid.UUID | None = None,
        open_only: bool | None = None,
        currency: str | None = None,
    ) -> list[Voucher]:
        """Vouchers oldest first (keyset on issue time and id), with what each used;
        ``open_only``: True those with something left, False those used up."""
        stmt, used = self._with_used()
        if customer_id is not None:
            stmt = stmt.where(v.c.customer_id == customer_id)
        if currency is not None:
            stmt = stmt.where(v.c.currency == currency)
        if open_only is not None:
            left = v.c.amount_minor - used
            stmt = stmt.where(left > 0 if open_only else left <= 0)
        rows = await self._all(keyset_page(stmt, (v.c.issued_at, v.c.voucher_id), limit, after))
        return [_voucher(row) for row in rows]

    async def get(self, voucher_id: uuid.UUID) -> Voucher | None:
        stmt, _ = self._with_used()
        row = await self._first(stmt.where(v.c.voucher_id == voucher_id))
        return None if row is None else _voucher(row)

    async def record(
        self, invoice_id: uuid.UUID, uses: Sequence[Use], credit_note_id: uuid.UUID | None = None
    ) -> None:
        if not uses:
            return
        await self.session.execute(
            insert(u).values(
                [
                    {
                        "tenant_id": self.tenant_id,
                        "voucher_id": use.voucher_id,
                        "invoice_id": invoice_id,
                        "credit_note_id": credit_note_id,
                        "amount_minor": use.amount_minor,
                    }
                    for use in uses
                ]
            )
        )

    async def used_on(self, invoice_id: uuid.UUID) -> list[Use]:
        """What each voucher still has on the invoice (used less given back), in the order
        they were used."""
        rows = await self._all(
            select(u.c.voucher_id, func.sum(u.c.amount_minor).label("amount"))
            .where(u.c.tenant_id == self.tenant_id, u.c.invoice_id == invoice_id)
            .group_by(u.c.voucher_id)
            .order_by(func.min(u.c.id))
        )
        return [Use(row["voucher_id"], int(row["amount"])) for row in rows]

    async def relink(self, customer_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
        await self.session.execute(
            update(v)
            .where(v.c.tenant_id == self.tenant_id, v.c.customer_id == customer_id)
            .values(customer_id=pseudonym)
        )


def _voucher(row: Any) -> Voucher:
    return Voucher(
        voucher_id=row["voucher_id"],
        customer_id=row["customer_id"],
        points=row["points"],
        amount_minor=int(row["amount_minor"]),
        currency=row["currency"],
        issued_by=row["issued_by"],
        used_minor=int(row["used_minor"]),
        issued_at=row["issued_at"],
    )
