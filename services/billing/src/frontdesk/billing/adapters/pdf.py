"""PDFs of invoices and credit notes (fpdf2), in the document's currency, language and
time zone (babel formats the money, numbers and dates; labels exist in English, German
and French, other languages fall back to English labels with their own formats)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from fpdf import FPDF
from fpdf.fonts import FontFace

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "date": "Date",
        "due": "Due",
        "status": "Status",
        "for_invoice": "For invoice",
        "bill_to": "Bill to",
        "tax_id": "Tax ID",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "tax": "Tax",
        "amount": "Amount",
        "discount": "Discount",
        "membership": "Membership",
        "included": "Included in membership",
        "voucher": "Loyalty voucher",
        "net": "Net",
        "total": "Total",
        "paid": "Paid",
        "credited": "Credited",
        "amount_due": "Amount due",
        "tax_on": "Tax {rate} on {net}",
        "notes": "Notes",
        "reason": "Reason",
        "draft": "draft",
        "open": "open",
        "cancelled": "cancelled",
        "issued": "issued",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "date": "Datum",
        "due": "Fällig",
        "status": "Status",
        "for_invoice": "Zu Rechnung",
        "bill_to": "Rechnungsempfänger",
        "tax_id": "USt-IdNr.",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "tax": "USt.",
        "amount": "Betrag",
        "discount": "Rabatt",
        "membership": "Mitgliedschaft",
        "included": "In der Mitgliedschaft enthalten",
        "voucher": "Treuegutschein",
        "net": "Netto",
        "total": "Gesamt",
        "paid": "Bezahlt",
        "credited": "Gutgeschrieben",
        "amount_due": "Offener Betrag",
        "tax_on": "USt. {rate} auf {net}",
        "notes": "Hinweise",
        "reason": "Grund",
        "draft": "Entwurf",
        "open": "offen",
        "paid_status": "bezahlt",
        "cancelled": "storniert",
        "issued": "ausgestellt",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "date": "Date",
        "due": "Échéance",
        "status": "Statut",
        "for_invoice": "Pour la facture",
        "bill_to": "Facturé à",
        "tax_id": "N° TVA",
        "description": "Désignation",
        "quantity": "Qté",
        "unit_price": "Prix unitaire",
        "tax": "TVA",
        "amount": "Montant",
        "discount": "Remise",
        "membership": "Abonnement",
        "included": "Inclus dans l'abonnement",
        "voucher": "Bon de fidélité",
        "net": "HT",
        "total": "Total",
        "paid": "Payé",
        "credited": "Crédité",
        "amount_due": "Reste à payer",
        "tax_on": "TVA {rate} sur {net}",
        "notes": "Remarques",
        "reason": "Motif",
        "draft": "brouillon",
        "open": "ouverte",
        "paid_status": "payée",
        "cancelled": "annulée",
        "issued": "émis",
    },
}


@dataclasses.dataclass(frozen=True)
class Fonts:
    """TrueType files for Unicode text; None or missing files: the core font Helvetica."""

    regular: str | None = None
    bold: str | None = None


@dataclasses.dataclass(frozen=True)
class PdfDocument:
    kind: str  # "invoice" or "credit_note"
    number: str
    status: str
    currency: str
    locale: str
    timezone: str
    issued_on: date | None
    seller: Mapping[str, Any]
    bill_to: Mapping[str, Any]
    lines: Sequence[Mapping[str, Any]]
    tax_summary: Sequence[Mapping[str, Any]]
    net_minor: int
    tax_minor: int
    total_minor: int
    due_on: date | None = None
    invoice_number: str | None = None
    paid_minor: int | None = None
    credited_minor: int | None = None
    due_minor: int | None = None
    notes: str | None = None
    # Loyalty vouchers used (an invoice) or given back (a credit note): each a discount
    # row under the lines, which show their amounts before it.
    vouchers: Sequence[int] = ()


class _Format:
    def __init__(self, locale: str, currency: str, timezone: str) -> None:
        try:
            self.locale = Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en")
        self.labels = {**LABELS["en"], **LABELS.get(self.locale.language, {})}
        self.currency = currency
        self.places = get_currency_precision(currency)

    def money(self, minor: int) -> str:
        return str(
            format_currency(Decimal(minor).scaleb(-self.places), self.currency, locale=self.locale)
        )

    def number(self, value: Decimal) -> str:
        return str(format_decimal(value, locale=self.locale))

    def rate(self, basis_points: int) -> str:
        return f"{format_decimal(Decimal(basis_points) / 100, locale=self.locale)} %"

    def day(self, value: date | None) -> str:
        return "" if value is None else str(format_date(value, format="medium", locale=self.locale))

    def status(self, status: str) -> str:
        return self.labels.get(f"{status}_status", self.labels.get(status, status))


class _Pdf(FPDF):
    def __init__(self, fonts: Fonts) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=18)
        self.unicode = bool(fonts.regular and os.path.exists(fonts.regular))
        if self.unicode:
            assert fonts.regular is not None
            self.add_font("Body", "", fonts.regular)
            bold = fonts.bold if fonts.bold and os.path.exists(fonts.bold) else fonts.regular
            self.add_font("Body", "B", bold)
            self.family = "Body"
        else:
            self.family = "Helvetica"

    def text_of(self, value: object) -> str:
        """Helvetica writes Latin-1 only: other characters become '?' there."""
        text = "" if value is None else str(value)
        if self.unicode:
            return text
        text = text.replace("€", "EUR").replace("\u202f", " ").replace("\xa0", " ")
        return text.encode("latin-1", "replace").decode("latin-1")

    def use(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def line_of(self, value: object, size: float = 9, bold: bool = False, h: float = 5) -> None:
        self.use(size, bold)
        self.multi_cell(0, h, self.text_of(value), new_x="LMARGIN", new_y="NEXT")


def render(document: PdfDocument, fonts: Fonts) -> bytes:
    f = _Format(document.locale, document.currency, document.timezone)
    labels = f.labels
    pdf = _Pdf(fonts)
    title = labels[document.kind]
    pdf.set_title(f"{title} {document.number}")
    pdf.set_creator("Frontdesk billing")
    pdf.add_page()

    seller = document.seller
    pdf.line_of(seller.get("name") or "", size=14, bold=True, h=7)
    for value in (seller.get("address"), seller.get("email"), seller.get("phone")):
        if value:
            pdf.line_of(value)
    if seller.get("tax_id"):
        pdf.line_of(f"{labels['tax_id']}: {seller['tax_id']}")
    pdf.ln(6)

    pdf.line_of(f"{title} {document.number}", size=16, bold=True, h=8)
    meta = [(labels["date"], f.day(document.issued_on))]
    if document.due_on is not None:
        meta.append((labels["due"], f.day(document.due_on)))
    if document.invoice_number:
        meta.append((labels["for_invoice"], document.invoice_number))
    meta.append((labels["status"], f.status(document.status)))
    for label, value in meta:
        pdf.line_of(f"{label}: {value}")
    pdf.ln(4)

    pdf.line_of(labels["bill_to"], bold=True)
    bill_to = document.bill_to
    for value in (bill_to.get("name"), bill_to.get("address"), bill_to.get("email")):
        if value:
            pdf.line_of(value)
    if bill_to.get("tax_id"):
        pdf.line_of(f"{labels['tax_id']}: {bill_to['tax_id']}")
    pdf.ln(4)

    pdf.use(9)
    heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(
        col_widths=(80, 16, 28, 16, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=5,
    ) as table:
        table.row(
            [
                labels["description"],
                labels["quantity"],
                labels["unit_price"],
                labels["tax"],
                labels["amount"],
            ]
        )
        for line in document.lines:
            table.row(
                [
                    pdf.text_of(_describe(line, f)),
                    f.number(Decimal(str(line["quantity"]))),
                    pdf.text_of(f.money(int(line["unit_price_minor"]))),
                    f.rate(int(line["tax_rate_bp"])),
                    pdf.text_of(f.money(_before_vouchers(line))),
                ]
            )
        for amount in document.vouchers:
            table.row([pdf.text_of(labels["voucher"]), "", "", "", pdf.text_of(f.money(-amount))])
    pdf.ln(4)

    totals = [(labels["net"], document.net_minor)]
    for t in document.tax_summary:
        label = labels["tax_on"].format(
            rate=f.rate(int(t["rate_bp"])), net=f.money(int(t["net_minor"]))
        )
        totals.append((label, int(t["tax_minor"])))
    totals.append((labels["total"], document.total_minor))
    if document.paid_minor:
        totals.append((labels["paid"], document.paid_minor))
    if document.credited_minor:
        totals.append((labels["credited"], document.credited_minor))
    if document.due_minor is not None:
        totals.append((labels["amount_due"], document.due_minor))
    for label, amount in totals:
        bold = label in (labels["total"], labels["amount_due"])
        pdf.use(10 if bold else 9, bold)
        pdf.cell(140, 6, pdf.text_of(label), align="R")
        pdf.cell(30, 6, pdf.text_of(f.money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")

    if document.notes:
        pdf.ln(4)
        pdf.line_of(labels["reason" if document.kind == "credit_note" else "notes"], bold=True)
        pdf.line_of(document.notes)
    return bytes(pdf.output())


def _describe(line: Mapping[str, Any], f: _Format) -> str:
    """The description with the line's breakdown: list amount, discounts, membership."""
    labels = f.labels
    parts = [str(line["description"])]
    if int(line.get("discount_minor", 0)):
        parts.append(
            f"{labels['discount']} {f.rate(int(line.get('discount_bp', 0)))}: "
            f"-{f.money(int(line['discount_minor']))}"
        )
    plan = line.get("membership_plan")
    if line.get("included"):
        parts.append(
            f"{labels['included']} {plan}: -{f.money(int(line['membership_discount_minor']))}"
        )
    elif int(line.get("membership_discount_minor", 0)):
        parts.append(
            f"{labels['membership']} {plan} {f.rate(int(line['membership_discount_bp']))}: "
            f"-{f.money(int(line['membership_discount_minor']))}"
        )
    if len(parts) > 1:
        parts.insert(1, f"({f.money(int(line.get('amount_minor', 0)))})")
    return "\n".join(parts)


def _before_vouchers(line: Mapping[str, Any]) -> int:
    """A line's total as sold: the vouchers' share shows as discount rows of their own."""
    return int(line["total_minor"]) + int(line.get("voucher_discount_minor", 0))
