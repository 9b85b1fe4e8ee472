"""Finance KPIs per tenant or customer and period (B7): billed, pending, paid, overdue,
billable sessions and the breakdown by payment status, per currency.

- ``billed``: totals of the invoices issued in the period (cancelled ones excluded);
  ``credited``: credit notes issued in the period.
- ``pending``: what is still due on them (sums of postings); ``overdue``: the part past
  its due date.
- ``paid`` / ``refunded``: cash received and paid back in the period (the ledger's cash
  postings); ``billable_sessions``: pay-per-session bookings invoiced in the period.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

from frontdesk.billing.adapters.kpis import KpiRepository
from frontdesk.billing.adapters.ledger import LedgerRepository
from frontdesk.billing.application.books import profile_of, utcnow
from frontdesk.billing.application.ledger import Period
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass
class StatusCount:
    status: str
    count: int = 0
    total_minor: int = 0
    due_minor: int = 0


@dataclasses.dataclass
class Kpis:
    currency: str
    billed_minor: int = 0
    credited_minor: int = 0
    pending_minor: int = 0
    overdue_minor: int = 0
    paid_minor: int = 0
    refunded_minor: int = 0
    invoices: int = 0
    billable_sessions: int = 0
    # open (nothing paid yet), partially_paid, overdue, paid, cancelled
    by_status: dict[str, StatusCount] = dataclasses.field(default_factory=dict)

    def count(self, status: str, count: int, total: int, due: int) -> None:
        found = self.by_status.setdefault(status, StatusCount(status))
        found.count += count
        found.total_minor += total
        found.due_minor += due


async def kpis(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Kpis]:
    customer_id = principal.customer_scope(customer_id)  # a customer: its own
    profile = await profile_of(uow, principal.tenant_id)
    period = Period.of(profile, start, end)
    today = profile.today(utcnow())
    repo = KpiRepository(uow.session, principal.tenant_id)
    found: dict[str, Kpis] = {}

    def of(currency: str) -> Kpis:
        return found.setdefault(currency, Kpis(currency))

    for row in await repo.invoices_by_status(
        customer_id=customer_id, issued_from=start, issued_to=end, today=today
    ):
        k = of(row["currency"])
        status = row["category"]
        count, total, due = int(row["count"]), int(row["total_minor"]), int(row["due_minor"])
        k.invoices += count
        k.count(status, count, total, due)
        if status == "cancelled":
            continue
        k.billed_minor += total
        k.pending_minor += due
        k.billable_sessions += int(row["sessions"])
        if status == "overdue":
            k.overdue_minor += due
    for row in await repo.credited(customer_id=customer_id, issued_from=start, issued_to=end):
        of(row["currency"]).credited_minor += int(row["credited_minor"])
    cash = LedgerRepository(uow.session, principal.tenant_id)
    for row in await cash.cash_moved(
        customer_id=customer_id, since=period.since, until=period.until
    ):
        k = of(row["currency"])
        k.paid_minor += int(row["received_minor"])
        k.refunded_minor += int(row["refunded_minor"])
    if not found:
        of(profile.currency)
    return [found[c] for c in sorted(found)]
