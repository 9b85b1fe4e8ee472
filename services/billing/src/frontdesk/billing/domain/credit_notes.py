"""A credit note: takes back all or some lines of an issued invoice, with a number of its
own gapless series. Never more than the invoice: each line's quantity and amounts are
credited at most once in total across every credit note of the invoice."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from frontdesk.billing.domain.invoices import Invoice
from frontdesk.billing.domain.pricing import QUANTITY_PLACES, Figures, Line, tax_summary, total
from frontdesk.contracts.billing import CreditNoteIssued
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken


@dataclasses.dataclass(frozen=True)
class Selection:
    """A line of the invoice to credit (its ``position``), all that is left of it unless
    ``quantity`` says how much."""

    position: int
    quantity: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class Credited:
    """What earlier credit notes took from one invoice line."""

    quantity: Decimal = Decimal(0)
    figures: Figures = dataclasses.field(default_factory=Figures)

    def __add__(self, other: Credited) -> Credited:
        return Credited(self.quantity + other.quantity, self.figures + other.figures)


def credited_by(notes: Sequence[CreditNote]) -> dict[int, Credited]:
    """Per invoice line, what the given credit notes took back."""
    taken: dict[int, Credited] = {}
    for note in notes:
        for line in note.lines:
            position = int(line["invoice_position"])
            now = Credited(Decimal(str(line["quantity"])), Figures.from_dict(line))
            taken[position] = taken.get(position, Credited()) + now
    return taken


def all_credited(invoice: Invoice, notes: Sequence[CreditNote]) -> bool:
    """Whether the credit notes took back every line of the invoice in full."""
    taken = credited_by(notes)
    return all(
        taken.get(line.position, Credited()).quantity >= line.quantity
        for line in invoice.priced_lines
    )


def _credit_line(
    line: Line, quantity: Decimal | None, taken: Credited, prices_include_tax: bool, field: str
) -> tuple[Decimal, Figures] | None:
    left_quantity = line.quantity - taken.quantity
    left = line.figures - taken.figures
    if quantity is None:
        quantity = left_quantity
        if quantity <= 0:
            return None
    else:
        exponent = quantity.normalize().as_tuple().exponent
        if not quantity.is_finite() or quantity <= 0:
            raise RuleBroken(f"{field}.quantity", "must be above 0")
        if isinstance(exponent, int) and exponent < -QUANTITY_PLACES:
            raise RuleBroken(f"{field}.quantity", f"at most {QUANTITY_PLACES} decimals")
        if quantity > left_quantity:
            raise RuleBroken(f"{field}.quantity", f"at most {left_quantity} is left to credit")
    if quantity == left_quantity:
        return quantity, left  # the last of a line takes exactly what is left: no drift
    priced = line.priced(quantity, prices_include_tax)
    within = (
        priced.total_minor <= left.total_minor
        and priced.voucher_discount_minor <= left.voucher_discount_minor
    )
    return quantity, priced if within else left


@dataclasses.dataclass(kw_only=True, eq=False)
class CreditNote(Aggregate):
    invoice_id: uuid.UUID
    invoice_number: str
    customer_id: uuid.UUID
    number: str
    currency: str
    lines: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    tax_summary: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    net_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    voucher_discount_minor: int = 0  # loyalty vouchers it gives back
    reason: str | None = None
    bill_to: dict[str, Any] | None = None
    seller: dict[str, Any] | None = None
    locale: str | None = None
    timezone: str | None = None
    issued_at: datetime
    issued_on: date
    created_by: str
    created_at: datetime | None = None

    @staticmethod
    def lines_of(
        invoice: Invoice,
        selections: Sequence[Selection] | None,
        credited: Mapping[int, Credited],
    ) -> list[dict[str, Any]]:
        """The lines to credit (all that is left of the invoice when ``selections`` is
        None), each with what it comes to."""
        invoice.require_creditable()
        lines = {line.position: line for line in invoice.priced_lines}
        wanted: list[tuple[int, Decimal | None]]
        if selections is None:
            wanted = [(position, None) for position in sorted(lines)]
        else:
            if not selections:
                raise RuleBroken("lines", "name at least one line, or leave lines out")
            positions = [s.position for s in selections]
            if len(set(positions)) != len(positions):
                raise RuleBroken("lines", "each invoice line at most once")
            wanted = [(s.position, s.quantity) for s in selections]
        out: list[dict[str, Any]] = []
        for i, (position, quantity) in enumerate(wanted):
            field = f"lines.{i}"
            line = lines.get(position)
            if line is None:
                raise RuleBroken(f"{field}.position", "the invoice has no such line")
            taken = credited.get(position, Credited())
            credit = _credit_line(line, quantity, taken, invoice.prices_include_tax, field)
            if credit is None:
                continue
            amount, figures = credit
            out.append(
                {
                    "invoice_position": position,
                    "description": line.description,
                    "quantity": str(amount),
                    "unit_price_minor": line.unit_price_minor,
                    "tax_rate_bp": line.tax_rate_bp,
                    "discount_bp": line.discount_bp,
                    "membership_plan": line.membership_plan,
                    "membership_discount_bp": line.membership_discount_bp,
                    "included": line.included,
                    **figures.as_dict(),
                }
            )
        # A line a voucher paid all of still gives the voucher back: that is left to credit.
        worth = sum(line["total_minor"] + line["voucher_discount_minor"] for line in out)
        if not out or worth <= 0:
            raise ConflictError("nothing is left to credit on these lines", field="lines")
        return out

    @classmethod
    def against(
        cls,
        invoice: Invoice,
        lines: list[dict[str, Any]],
        *,
        number: str,
        now: datetime,
        issued_on: date,
        actor: str,
        reason: str | None = None,
        credit_note_id: uuid.UUID | None = None,
    ) -> CreditNote:
        """A credit note of ``lines`` (from ``lines_of``) with the invoice's parties."""
        assert invoice.number is not None
        summary = tax_summary((int(line["tax_rate_bp"]), Figures.from_dict(line)) for line in lines)
        figures = total(Figures.from_dict(line) for line in lines)
        note = cls(
            id=credit_note_id or uuid.uuid4(),
            tenant_id=invoice.tenant_id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            number=number,
            currency=invoice.currency,
            lines=lines,
            tax_summary=[dataclasses.asdict(t) for t in summary],
            net_minor=figures.net_minor,
            tax_minor=figures.tax_minor,
            total_minor=figures.total_minor,
            voucher_discount_minor=figures.voucher_discount_minor,
            reason=reason,
            bill_to=invoice.bill_to,
            seller=invoice.seller,
            locale=invoice.locale,
            timezone=invoice.timezone,
            issued_at=now,
            issued_on=issued_on,
            created_by=actor,
        )
        note.record(
            CreditNoteIssued(
                credit_note_id=note.id,
                number=number,
                invoice_id=invoice.id,
                invoice_number=invoice.number,
                customer_id=invoice.customer_id,
                total_minor=note.total_minor,
                tax_minor=note.tax_minor,
                currency=note.currency,
                issued_on=issued_on,
                reason=reason,
            )
        )
        return note
