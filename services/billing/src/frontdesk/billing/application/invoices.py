"""Invoices: drafts (create, edit, cancel), issue, cancel an issued one, read, list, PDF.

Issuing goes through the customer's ``Books``: the number is taken last, the invoice
frozen with the customer's and seller's details, its journal entry posted (receivable
against revenue and tax per rate), and credit the customer holds applied to it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from frontdesk.billing.adapters.common import CreatedKey
from frontdesk.billing.adapters.customers import CustomerRepository, MembershipRepository
from frontdesk.billing.adapters.invoices import InvoiceRepository
from frontdesk.billing.adapters.ledger import LedgerRepository
from frontdesk.billing.adapters.pdf import Fonts, PdfDocument, render
from frontdesk.billing.adapters.tables import idempotency_keys
from frontdesk.billing.application import credit_notes, vouchers
from frontdesk.billing.application.books import Books, Outcome, profile_of, utcnow
from frontdesk.billing.domain import ledger
from frontdesk.billing.domain.customers import bill_to
from frontdesk.billing.domain.invoices import Invoice, InvoiceStatus, Source
from frontdesk.billing.domain.ledger import InvoiceFigures
from frontdesk.billing.domain.memberships import active_terms
from frontdesk.billing.domain.numbering import Document
from frontdesk.billing.domain.pricing import LineRequest, MembershipTerms, price_lines
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.billing.settings import BillingSettings
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class InvoiceView:
    """An invoice with its position from the ledger (what was paid, credited, is due)."""

    invoice: Invoice
    figures: InvoiceFigures
    overdue: bool

    @property
    def id(self) -> uuid.UUID:
        return self.invoice.id

    @property
    def created_at(self) -> datetime | None:
        return self.invoice.created_at


@dataclasses.dataclass(frozen=True)
class DraftRequest:
    customer_id: uuid.UUID
    lines: Sequence[LineRequest]
    currency: str | None = None
    prices_include_tax: bool | None = None
    notes: str | None = None
    due_on: date | None = None
    bill_to: dict[str, Any] | None = None
    prefix: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What an Idempotency-Key remembers of the draft."""
        return dataclasses.asdict(self)


async def membership_at(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, at: datetime
) -> MembershipTerms | None:
    memberships = await MembershipRepository(uow.session, tenant_id).of_customer(customer_id)
    return active_terms(memberships, at)


async def _priced(
    uow: UnitOfWork,
    profile: BillingProfile,
    customer_id: uuid.UUID,
    lines: Sequence[LineRequest],
    prices_include_tax: bool,
    now: datetime,
) -> list[Any]:
    """The lines priced with the membership active now (stored with the breakdown)."""
    membership = await membership_at(uow, profile.tenant_id, customer_id, now)
    return price_lines(
        lines,
        prices_include_tax=prices_include_tax,
        membership=membership,
        default_tax_rate_bp=profile.default_tax_rate_bp,
    )


# --- drafts ---------------------------------------------------------------------------


async def create_draft(
    uow: UnitOfWork,
    principal: Principal,
    request: DraftRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome[Invoice]:
    now = now or utcnow()
    tenant_id = principal.tenant_id
    invoices = InvoiceRepository(uow.session, tenant_id)
    invoice_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "invoice", idempotency_key, request.fingerprint(), invoice_id, what="invoice"
        )
        if earlier is not None:
            return Outcome(await invoices.require(earlier), created=False)
    profile = await profile_of(uow, tenant_id)
    include_tax = (
        profile.prices_include_tax
        if request.prices_include_tax is None
        else request.prices_include_tax
    )
    invoice = Invoice.draft(
        tenant_id=tenant_id,
        customer_id=request.customer_id,
        currency=request.currency or profile.currency,
        prefix=profile.invoice_prefix if request.prefix is None else request.prefix,
        prices_include_tax=include_tax,
        lines=await _priced(uow, profile, request.customer_id, request.lines, include_tax, now),
        actor=principal.sub,
        notes=request.notes,
        due_on=request.due_on,
        bill_to=request.bill_to,
        invoice_id=invoice_id,
    )
    await invoices.add(invoice)
    await uow.commit()
    return Outcome(invoice, created=True)


async def edit_draft(
    uow: UnitOfWork,
    principal: Principal,
    invoice_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Invoice:
    """Change a draft (``changes`` as sent: lines, notes, due_on, bill_to, currency,
    prefix, prices_include_tax); lines are priced again with the membership active now."""
    now = now or utcnow()
    invoices = InvoiceRepository(uow.session, principal.tenant_id)
    invoice = await invoices.require(invoice_id, for_update=True)
    invoice.require_version(expected_version, "invoice")
    invoice.require_draft("edit")
    profile = await profile_of(uow, principal.tenant_id)
    changes = dict(changes)
    include_tax = changes.pop("prices_include_tax", None)
    lines = changes.pop("lines", None)
    effective = invoice.prices_include_tax if include_tax is None else include_tax
    if lines is None and include_tax is not None:
        lines = [_request_of(line) for line in invoice.priced_lines]
    priced = None
    if lines is not None:
        priced = await _priced(uow, profile, invoice.customer_id, lines, effective, now)
    invoice.edit(lines=priced, prices_include_tax=include_tax, **changes)
    await invoices.save(invoice)
    await uow.commit()
    return invoice


def _request_of(line: Any) -> LineRequest:
    return LineRequest(
        description=line.description,
        unit_price_minor=line.unit_price_minor,
        quantity=line.quantity,
        tax_rate_bp=line.tax_rate_bp,
        discount_bp=line.discount_bp,
        kind=line.kind,
        service=line.service,
    )


# --- issue --------------------------------------------------------------------------


async def issue_locked(
    uow: UnitOfWork,
    books: Books,
    invoice: Invoice,
    profile: BillingProfile,
) -> Invoice:
    """Issue a draft the caller locked (after the customer's books): number, freeze, post,
    use the customer's loyalty vouchers, apply the customer's credit, publish. The caller
    closes the books and commits."""
    invoices = InvoiceRepository(uow.session, invoice.tenant_id)
    known = await CustomerRepository(uow.session, invoice.tenant_id).get(invoice.customer_id)
    today = profile.today(books.now)
    # Loyalty vouchers first: they lower the total, and so what is posted and owed.
    await vouchers.use_locked(uow, invoice)
    # Read before the number: the counter row stays locked from here to the commit.
    credit = (await books.position(invoice.currency)).credit_minor
    number = await books.number(Document.invoice, invoice.prefix, profile)
    invoice.issue(
        number=number,
        now=books.now,
        issued_on=today,
        due_on=profile.due_on(today),
        bill_to=bill_to(invoice.customer_id, known, invoice.bill_to),
        seller=profile.seller(),
        locale=profile.locale,
        timezone=profile.timezone,
    )
    await invoices.save(invoice)
    uow.publish_recorded(invoice)
    await books.post(
        ledger.invoice_issued(
            invoice_id=invoice.id,
            number=number,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            total_minor=invoice.total_minor,
            summary=credit_notes.summary_of(invoice.tax_summary),
        )
    )
    if credit > 0 and invoice.total_minor > 0:
        # Credit the customer holds (an overpayment, a credit note on a paid invoice)
        # settles their next invoice first.
        await books.post(
            ledger.credit_applied(
                invoice_id=invoice.id,
                number=number,
                customer_id=invoice.customer_id,
                currency=invoice.currency,
                amount_minor=min(credit, invoice.total_minor),
            )
        )
        invoice.settle(await books.figures(invoice.id), books.now)
        await invoices.save(invoice)
        uow.publish_recorded(invoice)
    return invoice


async def issue(
    uow: UnitOfWork,
    principal: Principal,
    invoice_id: uuid.UUID,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Invoice:
    now = now or utcnow()
    invoices = InvoiceRepository(uow.session, principal.tenant_id)
    found = await invoices.require(invoice_id)
    found.require_draft("issue")
    books = await Books.open(uow, principal.tenant_id, found.customer_id, now)
    invoice = await invoices.require(invoice_id, for_update=True)
    invoice.require_version(expected_version, "invoice")
    profile = await profile_of(uow, principal.tenant_id)
    await issue_locked(uow, books, invoice, profile)
    await books.close()
    await uow.commit()
    return invoice


async def cancel(
    uow: UnitOfWork,
    principal: Principal,
    invoice_id: uuid.UUID,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Invoice:
    """A draft is dropped. An issued invoice nothing was paid on is cancelled by a credit
    note for all that is left of it (issued documents are never deleted)."""
    now = now or utcnow()
    invoices = InvoiceRepository(uow.session, principal.tenant_id)
    found = await invoices.require(invoice_id)
    if found.status == InvoiceStatus.draft:
        invoice = await invoices.require(invoice_id, for_update=True)
        invoice.require_version(expected_version, "invoice")
        invoice.cancel_draft(now)
        await invoices.save(invoice)
        await uow.commit()
        return invoice
    books = await Books.open(uow, principal.tenant_id, found.customer_id, now)
    invoice = await invoices.require(invoice_id, for_update=True)
    invoice.require_version(expected_version, "invoice")
    invoice.require_cancellable(await books.figures(invoice.id))
    profile = await profile_of(uow, principal.tenant_id)
    await credit_notes.credit_locked(
        uow, books, invoice, profile, None, actor=principal.sub, reason=reason or "cancelled"
    )
    await books.close()
    await uow.commit()
    return invoice


# --- queries -----------------------------------------------------------------------------


async def view(uow: UnitOfWork, principal: Principal, invoice_id: uuid.UUID) -> InvoiceView:
    """A customer sees its own issued invoices only (drafts are the studio's)."""
    invoice = await InvoiceRepository(uow.session, principal.tenant_id).require(invoice_id)
    principal.ensure_sees(invoice.customer_id, "invoice")
    if principal.is_customer and invoice.number is None:
        raise NotFoundError.of("invoice")
    figures = await LedgerRepository(uow.session, principal.tenant_id).invoice_figures(invoice_id)
    profile = await profile_of(uow, principal.tenant_id)
    return InvoiceView(invoice, figures, invoice.is_overdue(profile.today(utcnow())))


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    status: InvoiceStatus | None = None,
    source: Source | None = None,
    source_key: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    after: CreatedKey | None = None,
    limit: int,
) -> list[InvoiceView]:
    """Invoices in creation order (one past ``limit``, to tell whether more follow), each
    with what is due; a customer sees its own issued ones."""
    if issued_from and issued_to and issued_to < issued_from:
        raise RuleBroken("issued_to", "must not be before issued_from")
    found = await InvoiceRepository(uow.session, principal.tenant_id).page(
        limit + 1,
        after,
        customer_id=principal.customer_scope(customer_id),
        status=status,
        source=source,
        source_key=source_key,
        issued_from=issued_from,
        issued_to=issued_to,
        exclude_drafts=principal.is_customer,
    )
    figures = await LedgerRepository(uow.session, principal.tenant_id).invoices_figures(
        [i.id for i in found]
    )
    today = (await profile_of(uow, principal.tenant_id)).today(utcnow())
    return [InvoiceView(i, figures.get(i.id, InvoiceFigures()), i.is_overdue(today)) for i in found]


async def pdf(
    uow: UnitOfWork, principal: Principal, invoice_id: uuid.UUID, settings: BillingSettings
) -> tuple[str, bytes]:
    """The invoice as a PDF (a draft too, marked as such) and its file name."""
    found = await view(uow, principal, invoice_id)
    invoice, figures = found.invoice, found.figures
    profile = await profile_of(uow, principal.tenant_id)
    number = invoice.number or f"draft-{str(invoice.id)[:8]}"
    parties = invoice.bill_to
    if invoice.number is None:  # a draft shows what issuing it now would copy
        known = await CustomerRepository(uow.session, principal.tenant_id).get(invoice.customer_id)
        parties = bill_to(invoice.customer_id, known, invoice.bill_to)
    document = PdfDocument(
        kind="invoice",
        number=number,
        status=invoice.status.value,
        currency=invoice.currency,
        locale=invoice.locale or profile.locale,
        timezone=invoice.timezone or profile.timezone,
        issued_on=invoice.issued_on,
        seller=invoice.seller or profile.seller(),
        bill_to=parties or {},
        lines=invoice.lines,
        tax_summary=invoice.tax_summary,
        net_minor=invoice.net_minor,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        due_on=invoice.due_on,
        paid_minor=figures.paid_minor,
        credited_minor=figures.credited_minor,
        due_minor=figures.due_minor if invoice.number else None,
        notes=invoice.notes,
        vouchers=[int(use["amount_minor"]) for use in invoice.vouchers],
    )
    return f"invoice-{number}.pdf", render(
        document, Fonts(settings.pdf_font_path, settings.pdf_bold_font_path)
    )
