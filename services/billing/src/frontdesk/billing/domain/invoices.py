"""An invoice: draft → open (issued, numbered) → paid, or cancelled.

A draft has no number and may be edited or cancelled. Issuing gives it the next number
of its series, copies the customer's and the seller's details onto it and freezes it:
an issued invoice is never edited or deleted (the database refuses it too); a credit
note corrects it. Whether it is open, paid or cancelled afterwards follows from its
ledger position (``settle``), never from a stored balance.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from frontdesk.billing.domain.ledger import InvoiceFigures
from frontdesk.billing.domain.pricing import Line, spread, tax_summary, total
from frontdesk.billing.domain.vouchers import Use
from frontdesk.contracts.billing import InvoiceCancelled, InvoiceIssued, InvoicePaid
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken


class InvoiceStatus(StrEnum):
    draft = "draft"
    open = "open"
    paid = "paid"
    cancelled = "cancelled"


ISSUED = frozenset({InvoiceStatus.open, InvoiceStatus.paid})


class Source(StrEnum):
    """What an invoice was made for; with its key, at most one invoice each."""

    manual = "manual"
    package = "package"  # a priced credit package bought (key: the package id)
    top_up = "top_up"  # a priced top-up (key: the top-up id)
    booking = "booking"  # a pay-per-session booking confirmed (key: the booking id)
    membership = "membership"  # a membership assigned or renewed (key: id and period)
    program = "program"  # a priced program bought (key: the program id)


@dataclasses.dataclass(kw_only=True, eq=False)
class Invoice(Aggregate):
    customer_id: uuid.UUID
    status: InvoiceStatus = InvoiceStatus.draft
    prefix: str = ""
    number: str | None = None
    currency: str
    prices_include_tax: bool = True
    lines: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    tax_summary: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    amount_minor: int = 0
    discount_minor: int = 0
    membership_discount_minor: int = 0
    net_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    voucher_discount_minor: int = 0  # loyalty vouchers used on it (in the lines' figures)
    vouchers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    bill_to: dict[str, Any] | None = None
    seller: dict[str, Any] | None = None
    locale: str | None = None
    timezone: str | None = None
    notes: str | None = None
    issued_at: datetime | None = None
    issued_on: date | None = None
    due_on: date | None = None
    cancelled_at: datetime | None = None
    source_kind: Source = Source.manual
    source_key: str | None = None
    created_by: str
    created_at: datetime | None = None  # None until saved: the database stamps it
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        self.status = InvoiceStatus(self.status)
        self.source_kind = Source(self.source_kind)

    def saved(self, row: Mapping[str, Any] | Any) -> None:
        super().saved(row)
        self.__post_init__()  # the row gives text back; the enums stay enums

    # --- a draft -------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        currency: str,
        prefix: str,
        prices_include_tax: bool,
        lines: Sequence[Line],
        actor: str,
        notes: str | None = None,
        due_on: date | None = None,
        bill_to: dict[str, Any] | None = None,
        source: Source = Source.manual,
        source_key: str | None = None,
        invoice_id: uuid.UUID | None = None,
    ) -> Invoice:
        invoice = cls(
            id=invoice_id or uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            currency=currency,
            prefix=prefix,
            prices_include_tax=prices_include_tax,
            notes=notes,
            due_on=due_on,
            bill_to=bill_to,
            source_kind=source,
            source_key=source_key,
            created_by=actor,
        )
        invoice._price(lines)
        return invoice

    def _price(self, lines: Sequence[Line]) -> None:
        figures = total(line.figures for line in lines)
        self.change(
            lines=[line.to_json() for line in lines],
            tax_summary=[
                dataclasses.asdict(t)
                for t in tax_summary((line.tax_rate_bp, line.figures) for line in lines)
            ],
            amount_minor=figures.amount_minor,
            discount_minor=figures.discount_minor,
            membership_discount_minor=figures.membership_discount_minor,
            net_minor=figures.net_minor,
            tax_minor=figures.tax_minor,
            total_minor=figures.total_minor,
            voucher_discount_minor=figures.voucher_discount_minor,
        )

    def use_vouchers(self, uses: Sequence[Use]) -> None:
        """Loyalty vouchers taken off the draft as it is issued: their sum spread over the
        lines by their totals (pricing rule 5), each voucher named on the invoice."""
        self.require_draft("apply vouchers to")
        amount = sum(use.amount_minor for use in uses)
        if amount <= 0:
            return
        if amount > self.total_minor:
            raise RuleBroken("vouchers", "a voucher never takes more than the invoice's total")
        lines = self.priced_lines
        shares = spread(amount, [line.figures.total_minor for line in lines])
        self._price([line.with_voucher(share) for line, share in zip(lines, shares, strict=True)])
        self.change(
            vouchers=[
                {"voucher_id": str(use.voucher_id), "amount_minor": use.amount_minor}
                for use in uses
            ]
        )

    @property
    def priced_lines(self) -> list[Line]:
        return [Line.from_json(line) for line in self.lines]

    def require_draft(self, action: str) -> None:
        if self.status != InvoiceStatus.draft:
            raise ConflictError(
                f"cannot {action} an invoice that is {self.status.value} "
                "(an issued invoice is corrected by a credit note)",
                field="status",
            )

    def edit(
        self,
        *,
        lines: Sequence[Line] | None = None,
        prices_include_tax: bool | None = None,
        **changes: Any,
    ) -> None:
        """Change a draft: its lines, notes, due date, bill-to details, currency, prefix."""
        self.require_draft("edit")
        if prices_include_tax is not None:
            self.change(prices_include_tax=prices_include_tax)
        if changes:
            self.change(**changes)
        if lines is not None:
            self._price(lines)

    def cancel_draft(self, now: datetime) -> None:
        """A draft is dropped: it never had a number, so nobody else learns of it."""
        self.require_draft("cancel as a draft")
        self.change(status=InvoiceStatus.cancelled, cancelled_at=now)

    # --- issue ---------------------------------------------------------------------

    def issue(
        self,
        *,
        number: str,
        now: datetime,
        issued_on: date,
        due_on: date,
        bill_to: dict[str, Any],
        seller: dict[str, Any],
        locale: str,
        timezone: str,
    ) -> None:
        """Numbered and frozen, with the customer's and seller's details as they are now.
        A zero invoice (an included service) is paid at once: nothing is due."""
        self.require_draft("issue")
        if not self.lines:
            raise RuleBroken("lines", "an invoice needs at least one line")
        due = self.due_on or due_on
        if due < issued_on:
            raise RuleBroken("due_on", "must not be before the issue date")
        self.change(
            status=InvoiceStatus.open if self.total_minor > 0 else InvoiceStatus.paid,
            number=number,
            issued_at=now,
            issued_on=issued_on,
            due_on=due,
            bill_to=bill_to,
            seller=seller,
            locale=locale,
            timezone=timezone,
        )
        self.record(InvoiceIssued(**self._facts()))
        if self.status == InvoiceStatus.paid:
            self.record(InvoicePaid(**self._facts(), paid_minor=0))

    def _facts(self) -> dict[str, Any]:
        assert self.number is not None
        return {
            "invoice_id": self.id,
            "number": self.number,
            "customer_id": self.customer_id,
            "total_minor": self.total_minor,
            "currency": self.currency,
            "issued_on": self.issued_on,
        }

    # --- after the ledger moved -----------------------------------------------------

    def require_payable(self) -> None:
        if self.status != InvoiceStatus.open:
            raise ConflictError(
                f"only an open invoice takes payments; this one is {self.status.value}",
                field="invoice_id",
            )

    def require_creditable(self) -> None:
        if self.status not in ISSUED:
            raise ConflictError(
                f"only an issued invoice (open or paid) takes a credit note; this one is "
                f"{self.status.value}",
                field="invoice_id",
            )

    def require_cancellable(self, figures: InvoiceFigures) -> None:
        """An issued invoice is cancelled (by a credit note for what is left of it) only
        while nothing was paid on it; once paid, a credit note and a refund correct it."""
        if self.status == InvoiceStatus.cancelled:
            raise ConflictError("the invoice is already cancelled", field="status")
        if figures.paid_minor > 0:
            raise ConflictError(
                "the invoice has payments: issue a credit note (and refund) instead",
                field="status",
            )

    def settle(self, figures: InvoiceFigures, now: datetime, *, all_credited: bool = False) -> None:
        """Open while something is due; paid when nothing is and something was paid;
        cancelled when credit notes took it all back before any payment (a zero invoice,
        all of it a voucher's: when a credit note took every line back, ``all_credited``)."""
        if self.status not in ISSUED:
            return
        if figures.due_minor > 0:
            status = InvoiceStatus.open
        elif self.total_minor == 0 and all_credited:
            status = InvoiceStatus.cancelled
        elif figures.paid_minor > 0 or self.total_minor == 0:
            status = InvoiceStatus.paid
        else:
            status = InvoiceStatus.cancelled
        if status == self.status:
            return
        if status == InvoiceStatus.cancelled:
            self.change(status=status, cancelled_at=now)
            self.record(InvoiceCancelled(**self._facts()))
        else:
            self.change(status=status)
            if status == InvoiceStatus.paid:
                self.record(InvoicePaid(**self._facts(), paid_minor=figures.paid_minor))

    def is_overdue(self, today: date) -> bool:
        return self.status == InvoiceStatus.open and self.due_on is not None and self.due_on < today
