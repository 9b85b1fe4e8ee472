"""Pricing a line: the one rounding rule, applied once per line, never on totals.

The rule (written down in the README as well):

1. ``amount = quantity * unit price``, rounded half up to whole minor units.
2. ``discount = amount * discount_bp / 10 000``, rounded half up (the line's own discount).
3. The active membership: an included service is priced at zero (its membership discount
   is everything left); otherwise ``membership discount = (amount - discount) *
   membership_bp / 10 000``, rounded half up. Only service and product lines are eligible.
4. What is left is the line's price. Prices that include tax (the default: what a studio
   quotes its customers) give ``tax = price * rate / (10 000 + rate)`` rounded half up and
   ``net = price - tax``; prices without tax give ``tax = price * rate / 10 000`` rounded
   half up and ``total = net + tax``.
5. A loyalty voucher used on the invoice takes its share (``voucher``, gross: what the
   customer pays less) off the line's total: ``total = total - voucher``, then
   ``tax = total * rate / (10 000 + rate)`` rounded half up and ``net = total - tax``.
   A voucher is spread over the lines in proportion to their totals (largest
   remainder), never more than a line's total.
6. Totals (per tax rate and for the document) are plain sums of the line figures.

Every amount is an integer of minor units; tax rates and discounts are basis points
(1 900 = 19 %).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from frontdesk.kit.errors import RuleBroken

BASIS = 10_000  # basis points in a whole
MAX_QUANTITY = Decimal(1_000_000)
QUANTITY_PLACES = 3
MAX_UNIT_PRICE = 10**12
MAX_LINES = 200


def round_half_up(value: Decimal) -> int:
    """To whole minor units, halves away from zero (amounts here are never negative)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(amount: int, basis_points: int) -> int:
    return round_half_up(Decimal(amount) * basis_points / BASIS)


class LineKind(StrEnum):
    service = "service"  # a session, an appointment, a job
    product = "product"  # goods
    credits = "credits"  # a credit package or top-up (priced by credits)
    membership = "membership"  # a membership period
    fee = "fee"  # a charge that is no service (a late-cancel fee)


# Lines a membership discount applies to. Credit packages are not: credits sold them at
# the price on the event; the membership fee is not discounted by itself.
DISCOUNTABLE = frozenset({LineKind.service, LineKind.product})


@dataclasses.dataclass(frozen=True)
class MembershipTerms:
    """The customer's active membership as billing knows it (from credits' events)."""

    membership_id: str
    plan_name: str
    discount_percent: int
    included_services: frozenset[str]

    def includes(self, service: str | None) -> bool:
        return service is not None and service.casefold() in self.included_services

    @classmethod
    def of(
        cls,
        membership_id: object,
        plan_name: str,
        discount_percent: int,
        included_services: Iterable[str],
    ) -> MembershipTerms:
        return cls(
            membership_id=str(membership_id),
            plan_name=plan_name,
            discount_percent=discount_percent,
            included_services=frozenset(s.casefold() for s in included_services),
        )


@dataclasses.dataclass(frozen=True)
class LineRequest:
    """A line as asked for, before pricing."""

    description: str
    unit_price_minor: int
    quantity: Decimal = Decimal(1)
    tax_rate_bp: int | None = None  # None: the business's default rate
    discount_bp: int = 0
    kind: LineKind = LineKind.service
    # What the line is, for the membership's included services (a session's service).
    service: str | None = None

    def check(self, field: str) -> None:
        q = self.quantity
        if not q.is_finite() or q <= 0 or q > MAX_QUANTITY:
            raise RuleBroken(f"{field}.quantity", f"must be above 0 and at most {MAX_QUANTITY}")
        exponent = q.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -QUANTITY_PLACES:
            raise RuleBroken(f"{field}.quantity", f"at most {QUANTITY_PLACES} decimals")
        if not 0 <= self.unit_price_minor <= MAX_UNIT_PRICE:
            raise RuleBroken(f"{field}.unit_price_minor", f"must be 0 to {MAX_UNIT_PRICE}")
        if self.tax_rate_bp is not None and not 0 <= self.tax_rate_bp <= BASIS:
            raise RuleBroken(f"{field}.tax_rate_bp", f"must be 0 to {BASIS} (basis points)")
        if not 0 <= self.discount_bp <= BASIS:
            raise RuleBroken(f"{field}.discount_bp", f"must be 0 to {BASIS} (basis points)")


@dataclasses.dataclass(frozen=True)
class Figures:
    """What a line (or the part of it a credit note takes back) comes to."""

    amount_minor: int = 0  # quantity * unit price
    discount_minor: int = 0  # the line's own discount
    membership_discount_minor: int = 0  # the membership's discount (all of it: included)
    net_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    voucher_discount_minor: int = 0  # loyalty vouchers' share (gross; rule 5)

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def __sub__(self, other: Figures) -> Figures:
        return Figures(*(a - b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return dataclasses.astuple(self)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        return cls(**{f.name: int(data.get(f.name, 0)) for f in dataclasses.fields(cls)})


def figures(
    quantity: Decimal,
    unit_price_minor: int,
    *,
    tax_rate_bp: int,
    discount_bp: int,
    membership_discount_bp: int,
    included: bool,
    prices_include_tax: bool,
) -> Figures:
    """The rule above, for ``quantity`` units."""
    amount = round_half_up(quantity * unit_price_minor)
    discount = share(amount, discount_bp)
    after = amount - discount
    membership = after if included else share(after, membership_discount_bp)
    price = after - membership
    if prices_include_tax:
        tax = round_half_up(Decimal(price) * tax_rate_bp / (BASIS + tax_rate_bp))
        net, total = price - tax, price
    else:
        tax = share(price, tax_rate_bp)
        net, total = price, price + tax
    return Figures(amount, discount, membership, net, tax, total)


def less_voucher(base: Figures, voucher_minor: int, tax_rate_bp: int) -> Figures:
    """Rule 5: ``voucher_minor`` (at most the line's total) taken off the total, the tax
    on what is left worked out again."""
    if voucher_minor <= 0:
        return base
    taken = min(voucher_minor, base.total_minor)
    left = base.total_minor - taken
    tax = round_half_up(Decimal(left) * tax_rate_bp / (BASIS + tax_rate_bp))
    return dataclasses.replace(
        base, net_minor=left - tax, tax_minor=tax, total_minor=left, voucher_discount_minor=taken
    )


def spread(amount_minor: int, weights: Sequence[int]) -> list[int]:
    """``amount_minor`` split in proportion to ``weights`` (the lines' totals): floors,
    then the remaining units to the largest remainders (earliest first on a tie). Never
    more than a weight when the amount is at most their sum."""
    whole = sum(weights)
    if amount_minor <= 0 or whole <= 0:
        return [0] * len(weights)
    amount_minor = min(amount_minor, whole)
    shares = [amount_minor * w // whole for w in weights]
    rests = sorted(range(len(weights)), key=lambda i: (-(amount_minor * weights[i] % whole), i))
    for i in rests[: amount_minor - sum(shares)]:
        shares[i] += 1
    return shares


@dataclasses.dataclass(frozen=True)
class Line:
    """A priced line, with its breakdown (what the membership took off, and why)."""

    position: int
    description: str
    kind: LineKind
    service: str | None
    quantity: Decimal
    unit_price_minor: int
    tax_rate_bp: int
    discount_bp: int
    membership_plan: str | None
    membership_discount_bp: int
    included: bool
    figures: Figures

    def priced(self, quantity: Decimal, prices_include_tax: bool) -> Figures:
        """The same line for another quantity (a credit note for part of it), with its
        share of the line's voucher."""
        base = figures(
            quantity,
            self.unit_price_minor,
            tax_rate_bp=self.tax_rate_bp,
            discount_bp=self.discount_bp,
            membership_discount_bp=self.membership_discount_bp,
            included=self.included,
            prices_include_tax=prices_include_tax,
        )
        voucher = self.figures.voucher_discount_minor
        if voucher and quantity != self.quantity:
            voucher = round_half_up(voucher * quantity / self.quantity)
        return less_voucher(base, voucher, self.tax_rate_bp)

    def with_voucher(self, voucher_minor: int) -> Line:
        """The line with ``voucher_minor`` of a loyalty voucher taken off (rule 5)."""
        return dataclasses.replace(
            self, figures=less_voucher(self.figures, voucher_minor, self.tax_rate_bp)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "description": self.description,
            "kind": self.kind.value,
            "service": self.service,
            "quantity": str(self.quantity),
            "unit_price_minor": self.unit_price_minor,
            "tax_rate_bp": self.tax_rate_bp,
            "discount_bp": self.discount_bp,
            "membership_plan": self.membership_plan,
            "membership_discount_bp": self.membership_discount_bp,
            "included": self.included,
            **self.figures.as_dict(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Line:
        return cls(
            position=int(data["position"]),
            description=str(data["description"]),
            kind=LineKind(data["kind"]),
            service=data.get("service"),
            quantity=Decimal(str(data["quantity"])),
            unit_price_minor=int(data["unit_price_minor"]),
            tax_rate_bp=int(data["tax_rate_bp"]),
            discount_bp=int(data["discount_bp"]),
            membership_plan=data.get("membership_plan"),
            membership_discount_bp=int(data.get("membership_discount_bp", 0)),
            included=bool(data.get("included", False)),
            figures=Figures.from_dict(data),
        )


def price_line(
    request: LineRequest,
    position: int,
    *,
    prices_include_tax: bool,
    membership: MembershipTerms | None = None,
    default_tax_rate_bp: int = 0,
) -> Line:
    """The line priced by the rule, the active membership applied where it is eligible."""
    request.check(f"lines.{position}")
    rate = default_tax_rate_bp if request.tax_rate_bp is None else request.tax_rate_bp
    eligible = membership is not None and request.kind in DISCOUNTABLE
    included = eligible and membership is not None and membership.includes(request.service)
    membership_bp = membership.discount_percent * 100 if eligible and membership else 0
    applies = included or membership_bp > 0
    return Line(
        position=position,
        description=request.description,
        kind=request.kind,
        service=request.service,
        quantity=request.quantity,
        unit_price_minor=request.unit_price_minor,
        tax_rate_bp=rate,
        discount_bp=request.discount_bp,
        membership_plan=membership.plan_name if applies and membership else None,
        membership_discount_bp=0 if included else membership_bp,
        included=included,
        figures=figures(
            request.quantity,
            request.unit_price_minor,
            tax_rate_bp=rate,
            discount_bp=request.discount_bp,
            membership_discount_bp=membership_bp,
            included=included,
            prices_include_tax=prices_include_tax,
        ),
    )


def price_lines(
    requests: Iterable[LineRequest],
    *,
    prices_include_tax: bool,
    membership: MembershipTerms | None = None,
    default_tax_rate_bp: int = 0,
) -> list[Line]:
    lines = [
        price_line(
            r,
            i,
            prices_include_tax=prices_include_tax,
            membership=membership,
            default_tax_rate_bp=default_tax_rate_bp,
        )
        for i, r in enumerate(requests)
    ]
    if not lines:
        raise RuleBroken("lines", "at least one line")
    if len(lines) > MAX_LINES:
        raise RuleBroken("lines", f"at most {MAX_LINES} lines")
    return lines


@dataclasses.dataclass(frozen=True)
class TaxTotal:
    rate_bp: int
    net_minor: int
    tax_minor: int
    total_minor: int


def tax_summary(pairs: Iterable[tuple[int, Figures]]) -> list[TaxTotal]:
    """Totals per tax rate (sums of the lines' figures), lowest rate first."""
    by_rate: dict[int, Figures] = {}
    for rate, f in pairs:
        by_rate[rate] = by_rate.get(rate, Figures()) + f
    return [
        TaxTotal(rate, f.net_minor, f.tax_minor, f.total_minor)
        for rate, f in sorted(by_rate.items())
    ]


def total(items: Iterable[Figures]) -> Figures:
    result = Figures()
    for f in items:
        result = result + f
    return result
