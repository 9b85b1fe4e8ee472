"""Loyalty vouchers: points a customer redeemed at credits for a discount
(``credits.loyalty.voucher_issued``), kept here until invoices used them up.

A voucher is used at issue on the customer's next invoice in its currency that has
something to discount (a total above zero), oldest voucher first, never more than the
invoice's total: the invoice ends at zero at worst, and what is left of the voucher
waits for the next invoice. What a voucher has left is its amount less its uses (a use
on an invoice is positive; a credit note that takes the invoice back gives its share of
the voucher back with a negative use), never a stored balance.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime


@dataclasses.dataclass(frozen=True)
class Voucher:
    voucher_id: uuid.UUID
    customer_id: uuid.UUID
    points: int
    amount_minor: int
    currency: str
    issued_by: str
    used_minor: int = 0  # the sum of its uses (given back: negative uses)
    issued_at: datetime | None = None

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.used_minor

    @property
    def is_open(self) -> bool:
        return self.remaining_minor > 0


@dataclasses.dataclass(frozen=True)
class Use:
    """``amount_minor`` of one voucher on one invoice (negative: given back)."""

    voucher_id: uuid.UUID
    amount_minor: int


def to_use(vouchers: Sequence[Voucher], currency: str, total_minor: int) -> list[Use]:
    """What the customer's open vouchers take off an invoice of ``total_minor`` in
    ``currency``: oldest first (``vouchers`` come in that order), another currency's
    never, at most the total."""
    uses: list[Use] = []
    left = total_minor
    for voucher in vouchers:
        if left <= 0:
            break
        if voucher.currency != currency or not voucher.is_open:
            continue
        amount = min(voucher.remaining_minor, left)
        uses.append(Use(voucher.voucher_id, amount))
        left -= amount
    return uses


def to_give_back(used_on_invoice: Sequence[Use], amount_minor: int) -> list[Use]:
    """``amount_minor`` of voucher a credit note took back from an invoice, returned to the
    vouchers used on it (``used_on_invoice``: what each still has on it, in the order
    they were used), the last used first. Answers negative uses."""
    back: list[Use] = []
    left = amount_minor
    for use in reversed(used_on_invoice):
        if left <= 0:
            break
        amount = min(use.amount_minor, left)
        if amount > 0:
            back.append(Use(use.voucher_id, -amount))
            left -= amount
    return back
