"""Loyalty (K6): points earned on paid spend by the tenant's rule, reversed on refunds,
redeemed for credits or a discount voucher. The balance never goes below zero.

Every change is one entry of the customer's loyalty history, unique by its source (the
invoice earned on, the refund reversed, the redemption), which is what makes billing's
redelivered events change nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from frontdesk.contracts.credits import LoyaltyPointsChanged
from frontdesk.kit.errors import ConflictError, RuleBroken

MAX_POINTS = 10_000_000  # in one redemption


@dataclasses.dataclass(kw_only=True, eq=False)
class LoyaltyRule:
    """The tenant's rule: ``points_per_unit`` points for every ``unit_minor`` minor units
    of paid spend in ``currency`` (100 minor units are one euro); a redemption buys one
    credit for ``points_per_credit`` points, and ``discount_minor_per_point`` minor units
    of discount per point (either off when None)."""

    tenant_id: uuid.UUID
    currency: str
    points_per_unit: int
    unit_minor: int = 100
    points_per_credit: int | None = None
    discount_minor_per_point: int | None = None
    version: int = 1
    updated_by: str = ""
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("points_per_unit", "unit_minor"):
            if getattr(self, name) <= 0:
                raise RuleBroken(name, "must be greater than 0")
        for name in ("points_per_credit", "discount_minor_per_point"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise RuleBroken(name, "must be greater than 0")

    def points_for(self, amount_minor: int, currency: str) -> int:
        """Points a paid amount earns, rounded down; spend in another currency earns none."""
        if currency != self.currency or amount_minor <= 0:
            return 0
        return amount_minor * self.points_per_unit // self.unit_minor

    def credits_cost(self, credits: int) -> int:
        if self.points_per_credit is None:
            raise RuleBroken("redeem_for", "points do not buy credits in this studio")
        return credits * self.points_per_credit

    def discount_worth(self, points: int) -> int:
        if self.discount_minor_per_point is None:
            raise RuleBroken("redeem_for", "points do not buy discounts in this studio")
        return points * self.discount_minor_per_point


@dataclasses.dataclass(frozen=True)
class LoyaltyEntry:
    """One line of the loyalty history."""

    kind: str  # earned, reversed, redeemed
    delta: int  # what the balance really moved
    balance_after: int
    source_id: uuid.UUID
    shortfall: int = 0  # a reversal the balance could not cover
    invoice_id: uuid.UUID | None = None
    amount_minor: int | None = None
    currency: str | None = None
    redeemed_for: str | None = None
    credits: int | None = None
    package_id: uuid.UUID | None = None
    voucher_id: uuid.UUID | None = None
    id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)


def reversal_for(
    earned_points: int, paid_minor: int, refunded_before: int, reversed_before: int, refund: int
) -> int:
    """Points a refund takes back, proportional to the refunded share of what was paid:
    cumulatively, so several partial refunds together take back exactly what one refund
    of the sum would (a full refund takes every point earned)."""
    if paid_minor <= 0 or earned_points <= 0:
        return 0
    refunded = min(refunded_before + refund, paid_minor)
    target = earned_points * refunded // paid_minor
    return max(target - reversed_before, 0)


@dataclasses.dataclass(kw_only=True, eq=False)
class LoyaltyAccount:
    """One customer's points; ``version`` goes up with every change (for the event)."""

    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    balance: int = 0
    version: int = 0
    _entries: list[LoyaltyEntry] = dataclasses.field(default_factory=list, repr=False)
    _moves: list[LoyaltyPointsChanged] = dataclasses.field(default_factory=list, repr=False)

    @classmethod
    def from_row(cls, row: Any) -> LoyaltyAccount:
        return cls(
            tenant_id=row["tenant_id"],
            customer_id=row["customer_id"],
            balance=row["balance"],
            version=row["version"],
        )

    def collect_entries(self) -> list[LoyaltyEntry]:
        entries, self._entries = self._entries, []
        return entries

    def move(self, delta: int, merge_id: uuid.UUID) -> None:
        """Points a merge brings (or an unmerge takes back); the history entries that
        earned them move with them."""
        if delta == 0:
            return
        if self.balance + delta < 0:
            raise ConflictError("a move cannot take more points than there are", field="points")
        self.balance += delta
        self._moves.append(
            LoyaltyPointsChanged(
                customer_id=self.customer_id,
                kind="moved",
                delta=delta,
                balance=self.balance,
                source_id=merge_id,
            )
        )

    def events(self) -> list[LoyaltyPointsChanged]:
        """What this change tells others (call before collecting the entries)."""
        moves, self._moves = self._moves, []
        return moves + [
            LoyaltyPointsChanged(
                customer_id=self.customer_id,
                kind=e.kind,
                delta=e.delta,
                balance=e.balance_after,
                shortfall=e.shortfall,
                source_id=e.source_id,
            )
            for e in self._entries
        ]

    def earn(
        self, points: int, *, invoice_id: uuid.UUID, amount_minor: int, currency: str
    ) -> LoyaltyEntry:
        self.balance += points
        entry = LoyaltyEntry(
            kind="earned",
            delta=points,
            balance_after=self.balance,
            source_id=invoice_id,
            invoice_id=invoice_id,
            amount_minor=amount_minor,
            currency=currency,
        )
        self._entries.append(entry)
        return entry

    def reverse(
        self,
        points: int,
        *,
        refund_id: uuid.UUID,
        invoice_id: uuid.UUID,
        amount_minor: int,
        currency: str,
    ) -> LoyaltyEntry:
        """Takes ``points`` back; more than the balance takes it to zero and records the
        shortfall (the points were already spent)."""
        taken = min(points, self.balance)
        self.balance -= taken
        entry = LoyaltyEntry(
            kind="reversed",
            delta=-taken,
            shortfall=points - taken,
            balance_after=self.balance,
            source_id=refund_id,
            invoice_id=invoice_id,
            amount_minor=amount_minor,
            currency=currency,
        )
        self._entries.append(entry)
        return entry

    def require_points(self, points: int) -> None:
        if points <= 0:
            raise RuleBroken("points", "must be greater than 0")
        if points > self.balance:
            raise ConflictError(
                f"only {self.balance} points to redeem, {points} asked", field="points"
            )

    def redeem(
        self,
        points: int,
        *,
        redemption_id: uuid.UUID,
        redeemed_for: str,
        credits: int | None = None,
        package_id: uuid.UUID | None = None,
        voucher_id: uuid.UUID | None = None,
        amount_minor: int | None = None,
        currency: str | None = None,
    ) -> LoyaltyEntry:
        """Spends ``points``; never more than the balance (409 naming ``points``)."""
        self.require_points(points)
        self.balance -= points
        entry = LoyaltyEntry(
            kind="redeemed",
            delta=-points,
            balance_after=self.balance,
            source_id=redemption_id,
            redeemed_for=redeemed_for,
            credits=credits,
            package_id=package_id,
            voucher_id=voucher_id,
            amount_minor=amount_minor,
            currency=currency,
        )
        self._entries.append(entry)
        return entry


@dataclasses.dataclass(frozen=True)
class Redemption:
    """What a customer's points are spent on: ``credits`` credits (a package made by the
    purchase path, at the rule's ``points_per_credit``), or ``points`` for a discount
    voucher worth ``discount_minor_per_point`` each."""

    customer_id: uuid.UUID | None  # None: the customer token's own
    redeem_for: str  # credits, discount
    credits: int | None = None
    points: int | None = None

    def cost(self, rule: LoyaltyRule | None) -> int:
        if rule is None:
            raise ConflictError("this studio has no loyalty rule", field="redeem_for")
        if self.redeem_for == "credits":
            if self.credits is None or self.points is not None:
                raise RuleBroken("credits", "redeeming for credits names credits (not points)")
            if self.credits <= 0:
                raise RuleBroken("credits", "must be greater than 0")
            return rule.credits_cost(self.credits)
        if self.redeem_for == "discount":
            if self.points is None or self.credits is not None:
                raise RuleBroken("points", "redeeming for a discount names points (not credits)")
            if not 0 < self.points <= MAX_POINTS:
                raise RuleBroken("points", f"must be 1 to {MAX_POINTS}")
            rule.discount_worth(self.points)
            return self.points
        raise RuleBroken("redeem_for", "credits or discount")
