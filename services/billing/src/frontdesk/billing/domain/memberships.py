"""Customers' memberships as billing knows them (from credits' events): which one is
active when a line is priced, and the line a priced assignment or renewal is invoiced as."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from datetime import date, datetime

from frontdesk.billing.domain.pricing import LineKind, LineRequest, MembershipTerms


@dataclasses.dataclass(frozen=True)
class KnownMembership:
    membership_id: uuid.UUID
    customer_id: uuid.UUID
    plan_name: str
    discount_percent: int
    included_services: list[str]
    starts_at: datetime
    expires_at: datetime
    status: str

    def active_at(self, at: datetime) -> bool:
        return self.status == "active" and self.starts_at <= at < self.expires_at

    def terms(self) -> MembershipTerms:
        return MembershipTerms.of(
            self.membership_id, self.plan_name, self.discount_percent, self.included_services
        )


def active_terms(memberships: Iterable[KnownMembership], at: datetime) -> MembershipTerms | None:
    """The membership active at ``at`` (the latest started, should two overlap)."""
    active = [m for m in memberships if m.active_at(at)]
    if not active:
        return None
    return max(active, key=lambda m: (m.starts_at, str(m.membership_id))).terms()


def period_key(membership_id: uuid.UUID, expires_at: datetime) -> str:
    """One invoice per membership period: an assignment and each renewal end elsewhere."""
    return f"{membership_id}/{expires_at.isoformat()}"


def period_line(
    plan_name: str, starts_on: date, ends_on: date, price_minor: int, tax_rate_bp: int
) -> LineRequest:
    """The membership fee for one period (dates in the business's time zone)."""
    return LineRequest(
        description=f"Membership {plan_name} ({starts_on:%Y-%m-%d} to {ends_on:%Y-%m-%d})",
        unit_price_minor=price_minor,
        tax_rate_bp=tax_rate_bp,
        kind=LineKind.membership,
    )
