"""The double-entry journal: every invoice, payment, credit note, refund and use of a
customer's credit is one entry whose postings sum to zero.

Postings are signed: a debit is positive, a credit negative. The accounts:

- ``receivable`` (per customer and invoice): what the customer owes (debit balance).
- ``customer_credit`` (per customer): money held for the customer (credit balance):
  overpayments and credit notes beyond what was still due.
- ``revenue`` (per tax rate): what was sold, net of tax (credit balance).
- ``tax`` (per tax rate): tax owed to the state (credit balance).
- ``cash`` (per payment method): money received (debit balance).

This module builds entries and checks them; the database checks them again at commit
(a deferred constraint trigger), so a bug here cannot write an unbalanced ledger.
Every balance is a sum of postings; nothing stores one beside them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from enum import StrEnum

from frontdesk.billing.domain.pricing import TaxTotal


class Account(StrEnum):
    receivable = "receivable"
    customer_credit = "customer_credit"
    revenue = "revenue"
    tax = "tax"
    cash = "cash"


class EntryKind(StrEnum):
    invoice = "invoice"  # an invoice issued
    payment = "payment"  # money received
    credit_note = "credit_note"  # an invoice corrected
    refund = "refund"  # money paid back
    credit_applied = "credit_applied"  # the customer's credit settles an invoice
    # On an unmerge: credit one record used of the other's while they were one goes over.
    merge_settlement = "merge_settlement"


@dataclasses.dataclass(frozen=True)
class Posting:
    account: Account
    amount_minor: int  # debit > 0, credit < 0
    customer_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None
    method: str | None = None
    tax_rate_bp: int | None = None


@dataclasses.dataclass(frozen=True)
class JournalEntry:
    kind: EntryKind
    reference: str  # the document's number: what people quote
    currency: str
    customer_id: uuid.UUID | None
    document_id: uuid.UUID
    invoice_id: uuid.UUID | None
    postings: tuple[Posting, ...]
    memo: str | None = None
    id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        # A programming error, not the user's: the database would refuse it at commit.
        if len(self.postings) < 2:
            raise ValueError(f"a journal entry needs two postings or more: {self}")
        if sum(p.amount_minor for p in self.postings) != 0:
            raise ValueError(f"postings must sum to zero: {self}")
        if any(p.amount_minor == 0 for p in self.postings):
            raise ValueError(f"a posting of zero says nothing: {self}")


def _entry(
    kind: EntryKind,
    postings: Iterable[Posting],
    **fields: object,
) -> JournalEntry | None:
    """An entry of the non-zero postings; None when nothing moves."""
    kept = tuple(p for p in postings if p.amount_minor != 0)
    if not kept:
        return None
    return JournalEntry(kind=kind, postings=kept, **fields)  # type: ignore[arg-type]


def _sales(summary: Iterable[TaxTotal], sign: int) -> list[Posting]:
    """Revenue and tax per rate (credited by an invoice: sign -1; debited back by a credit
    note: sign +1)."""
    postings: list[Posting] = []
    for t in summary:
        postings.append(Posting(Account.revenue, sign * t.net_minor, tax_rate_bp=t.rate_bp))
        postings.append(Posting(Account.tax, sign * t.tax_minor, tax_rate_bp=t.rate_bp))
    return postings


def invoice_issued(
    *,
    invoice_id: uuid.UUID,
    number: str,
    customer_id: uuid.UUID,
    currency: str,
    total_minor: int,
    summary: Iterable[TaxTotal],
) -> JournalEntry | None:
    """Dr receivable (the total); Cr revenue and tax per rate. None for a zero invoice."""
    return _entry(
        EntryKind.invoice,
        [
            Posting(Account.receivable, total_minor, customer_id, invoice_id),
            *_sales(summary, -1),
        ],
        reference=number,
        currency=currency,
        customer_id=customer_id,
        document_id=invoice_id,
        invoice_id=invoice_id,
    )


def payment_received(
    *,
    payment_id: uuid.UUID,
    reference: str,
    customer_id: uuid.UUID,
    invoice_id: uuid.UUID | None,
    currency: str,
    method: str,
    amount_minor: int,
    applied_minor: int,
    memo: str | None = None,
) -> JournalEntry:
    """Dr cash (the method); Cr receivable what was due, Cr customer credit the rest."""
    entry = _entry(
        EntryKind.payment,
        [
            Posting(Account.cash, amount_minor, customer_id, invoice_id, method=method),
            Posting(Account.receivable, -applied_minor, customer_id, invoice_id),
            Posting(Account.customer_credit, -(amount_minor - applied_minor), customer_id),
        ],
        reference=reference,
        currency=currency,
        customer_id=customer_id,
        document_id=payment_id,
        invoice_id=invoice_id,
        memo=memo,
    )
    assert entry is not None
    return entry


def credit_note_issued(
    *,
    credit_note_id: uuid.UUID,
    number: str,
    customer_id: uuid.UUID,
    invoice_id: uuid.UUID,
    currency: str,
    summary: Iterable[TaxTotal],
    total_minor: int,
    to_receivable_minor: int,
    memo: str | None = None,
) -> JournalEntry | None:
    """Dr revenue and tax back; Cr receivable what was still due, Cr customer credit the
    rest (the invoice had been paid). None when nothing moves (a zero invoice a voucher
    paid in full: the credit note only gives the voucher back)."""
    return _entry(
        EntryKind.credit_note,
        [
            *_sales(summary, +1),
            Posting(Account.receivable, -to_receivable_minor, customer_id, invoice_id),
            # Named after the invoice too: what was credited on it is summed from both.
            Posting(
                Account.customer_credit,
                -(total_minor - to_receivable_minor),
                customer_id,
                invoice_id,
            ),
        ],
        reference=number,
        currency=currency,
        customer_id=customer_id,
        document_id=credit_note_id,
        invoice_id=invoice_id,
        memo=memo,
    )


def refund_paid(
    *,
    refund_id: uuid.UUID,
    reference: str,
    customer_id: uuid.UUID,
    invoice_id: uuid.UUID | None,
    currency: str,
    method: str,
    amount_minor: int,
    from_credit_minor: int,
    memo: str | None = None,
) -> JournalEntry:
    """Cr cash; Dr the customer's credit first, and the invoice again (it is owed once
    more) for what the credit does not cover."""
    entry = _entry(
        EntryKind.refund,
        [
            Posting(Account.cash, -amount_minor, customer_id, invoice_id, method=method),
            Posting(Account.customer_credit, from_credit_minor, customer_id),
            Posting(Account.receivable, amount_minor - from_credit_minor, customer_id, invoice_id),
        ],
        reference=reference,
        currency=currency,
        customer_id=customer_id,
        document_id=refund_id,
        invoice_id=invoice_id,
        memo=memo,
    )
    assert entry is not None
    return entry


def credit_applied(
    *,
    invoice_id: uuid.UUID,
    number: str,
    customer_id: uuid.UUID,
    currency: str,
    amount_minor: int,
) -> JournalEntry | None:
    """Dr customer credit; Cr receivable: credit the customer holds settles an invoice."""
    return _entry(
        EntryKind.credit_applied,
        [
            Posting(Account.customer_credit, amount_minor, customer_id),
            Posting(Account.receivable, -amount_minor, customer_id, invoice_id),
        ],
        reference=number,
        currency=currency,
        customer_id=customer_id,
        document_id=invoice_id,
        invoice_id=invoice_id,
        memo="customer credit applied",
    )


def merge_settled(
    *,
    merge_id: uuid.UUID,
    currency: str,
    from_customer: uuid.UUID,
    to_customer: uuid.UUID,
    amount_minor: int,
) -> JournalEntry | None:
    """Dr ``from_customer``'s credit; Cr ``to_customer``'s: credit moves between them."""
    return _entry(
        EntryKind.merge_settlement,
        [
            Posting(Account.customer_credit, amount_minor, from_customer),
            Posting(Account.customer_credit, -amount_minor, to_customer),
        ],
        reference=f"MERGE-{merge_id.hex[:12].upper()}",
        currency=currency,
        customer_id=to_customer,
        document_id=merge_id,
        invoice_id=None,
        memo="credit used while the customers were merged",
    )


@dataclasses.dataclass(frozen=True)
class InvoiceFigures:
    """An invoice's position, summed from the postings on its receivable."""

    issued_minor: int = 0  # what the invoice entry put on the receivable
    paid_minor: int = 0  # paid (cash or credit applied), less refunds that reopened it
    credited_minor: int = 0  # taken off by credit notes
    due_minor: int = 0  # the receivable's balance

    @classmethod
    def of(cls, by_kind: dict[str, int], credit_from_notes: int = 0) -> InvoiceFigures:
        """From the receivable postings on the invoice summed per entry kind, and what its
        credit notes put on the customer's credit (it had been paid)."""
        paid = -(
            by_kind.get(EntryKind.payment, 0)
            + by_kind.get(EntryKind.credit_applied, 0)
            + by_kind.get(EntryKind.refund, 0)
        )
        return cls(
            issued_minor=by_kind.get(EntryKind.invoice, 0),
            paid_minor=paid,
            credited_minor=-(by_kind.get(EntryKind.credit_note, 0) + credit_from_notes),
            due_minor=sum(by_kind.values()),
        )


@dataclasses.dataclass(frozen=True)
class CustomerPosition:
    """A customer's money in one currency, summed from postings."""

    currency: str
    outstanding_minor: int = 0  # receivable balance: owed to the business
    credit_minor: int = 0  # customer credit balance: held for the customer
    lifetime_spend_minor: int = 0  # cash received less refunds (B8)

    @property
    def balance_minor(self) -> int:
        """What the statement ends on: owed (positive) or held for the customer (negative)."""
        return self.outstanding_minor - self.credit_minor
