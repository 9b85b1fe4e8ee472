"""Document numbers: ``<prefix><year>-<n>``, ``n`` gapless per tenant, document, prefix
and year (a counter row locked in the issuing transaction hands out the next one, so a
rolled-back issue gives its number back and no two issues ever share one)."""

from __future__ import annotations

import dataclasses
from enum import StrEnum


class Document(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"
    payment = "payment"
    refund = "refund"


# Payments and refunds carry reference numbers of their own series too (the ledger shows
# references, not ids); their prefixes are fixed.
PAYMENT_PREFIX = "PAY-"
REFUND_PREFIX = "RF-"
DIGITS = 6


@dataclasses.dataclass(frozen=True)
class Series:
    document: Document
    prefix: str
    year: int

    def number(self, n: int) -> str:
        return f"{self.prefix}{self.year}-{n:0{DIGITS}d}"
