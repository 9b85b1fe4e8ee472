"""Finance figures per tenant or customer and period: invoices by status with what is
still due on each (summed from the postings on its receivable, never stored)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import RowMapping, and_, case, func, select

from frontdesk.billing.adapters.tables import credit_notes as n
from frontdesk.billing.adapters.tables import invoices as i
from frontdesk.billing.adapters.tables import postings as p
from frontdesk.billing.domain.invoices import Source
from frontdesk.billing.domain.ledger import Account
from frontdesk.kit.db import TenantRepository


class KpiRepository(TenantRepository):
    async def invoices_by_status(
        self,
        *,
        customer_id: uuid.UUID | None,
        issued_from: date | None,
        issued_to: date | None,
        today: date,
    ) -> Sequence[RowMapping]:
        due = (
            select(func.coalesce(func.sum(p.c.amount_minor), 0))
            .where(
                p.c.tenant_id == i.c.tenant_id,
                p.c.invoice_id == i.c.id,
                p.c.account == Account.receivable,
            )
            .scalar_subquery()
        )
        issued = select(
            i.c.currency,
            i.c.status,
            i.c.total_minor,
            i.c.due_on,
            i.c.source_kind,
            due.label("due"),
        ).where(i.c.tenant_id == self.tenant_id, i.c.number.is_not(None))
        if customer_id is not None:
            issued = issued.where(i.c.customer_id == customer_id)
        if issued_from is not None:
            issued = issued.where(i.c.issued_on >= issued_from)
        if issued_to is not None:
            issued = issued.where(i.c.issued_on <= issued_to)
        s = issued.subquery()
        # One payment status per invoice: overdue before partially paid before open.
        category = case(
            (and_(s.c.status == "open", s.c.due_on < today), "overdue"),
            (and_(s.c.status == "open", s.c.due < s.c.total_minor), "partially_paid"),
            else_=s.c.status,
        ).label("category")
        return await self._all(
            select(
                s.c.currency,
                category,
                func.count().label("count"),
                func.sum(s.c.total_minor).label("total_minor"),
                func.sum(s.c.due).label("due_minor"),
                func.count().filter(s.c.source_kind == Source.booking).label("sessions"),
            )
            .group_by(s.c.currency, category)
            .order_by(s.c.currency, category)
        )

    async def credited(
        self,
        *,
        customer_id: uuid.UUID | None,
        issued_from: date | None,
        issued_to: date | None,
    ) -> Sequence[RowMapping]:
        stmt = (
            select(n.c.currency, func.sum(n.c.total_minor).label("credited_minor"))
            .where(n.c.tenant_id == self.tenant_id)
            .group_by(n.c.currency)
        )
        if customer_id is not None:
            stmt = stmt.where(n.c.customer_id == customer_id)
        if issued_from is not None:
            stmt = stmt.where(n.c.issued_on >= issued_from)
        if issued_to is not None:
            stmt = stmt.where(n.c.issued_on <= issued_to)
        return await self._all(stmt)
