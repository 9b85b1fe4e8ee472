"""Credit notes: correct an issued invoice (whole or some lines), read, list, PDF.

A credit note's entry takes revenue and tax back per rate and credits the receivable for
what was still due on the invoice; the rest (the invoice had been paid) becomes the
customer's credit, to be applied to their next invoice or refunded.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from frontdesk.billing.adapters.common import CreatedKey
from frontdesk.billing.adapters.credit_notes import CreditNoteRepository
from frontdesk.billing.adapters.invoices import InvoiceRepository
from frontdesk.billing.adapters.pdf import Fonts, PdfDocument, render
from frontdesk.billing.adapters.tables import idempotency_keys
from frontdesk.billing.application import vouchers
from frontdesk.billing.application.books import Books, Outcome, profile_of, utcnow
from frontdesk.billing.domain import ledger
from frontdesk.billing.domain.credit_notes import (
    CreditNote,
    Selection,
    all_credited,
    credited_by,
)
from frontdesk.billing.domain.invoices import Invoice
from frontdesk.billing.domain.numbering import Document
from frontdesk.billing.domain.pricing import TaxTotal
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.billing.settings import BillingSettings
from frontdesk.kit.auth import Principal
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork


def summary_of(rows: Iterable[Mapping[str, Any]]) -> list[TaxTotal]:
    return [TaxTotal(**{k: int(v) for k, v in row.items()}) for row in rows]


@dataclasses.dataclass(frozen=True)
class CreditRequest:
    invoice_id: uuid.UUID
    lines: Sequence[Selection] | None = None  # None: all that is left of the invoice
    reason: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


async def credit_locked(
    uow: UnitOfWork,
    books: Books,
    invoice: Invoice,
    profile: BillingProfile,
    selections: Sequence[Selection] | None,
    *,
    actor: str,
    reason: str | None,
    credit_note_id: uuid.UUID | None = None,
) -> CreditNote:
    """Credit lines of an invoice the caller locked (after the customer's books): number,
    post, settle the invoice, publish. The caller closes the books and commits."""
    notes = CreditNoteRepository(uow.session, invoice.tenant_id)
    lines = CreditNote.lines_of(
        invoice, selections, credited_by(await notes.of_invoice(invoice.id))
    )
    due = (await books.figures(invoice.id)).due_minor
    number = await books.number(Document.credit_note, profile.credit_note_prefix, profile)
    note = CreditNote.against(
        invoice,
        lines,
        number=number,
        now=books.now,
        issued_on=profile.today(books.now),
        actor=actor,
        reason=reason,
        credit_note_id=credit_note_id,
    )
    await notes.add(note)
    uow.publish_recorded(note)
    await vouchers.give_back_locked(uow, invoice, note)
    await books.post(
        ledger.credit_note_issued(
            credit_note_id=note.id,
            number=number,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            currency=note.currency,
            summary=summary_of(note.tax_summary),
            total_minor=note.total_minor,
            to_receivable_minor=min(note.total_minor, max(due, 0)),
            memo=reason,
        )
    )
    invoice.settle(
        await books.figures(invoice.id),
        books.now,
        # Only a zero invoice (a voucher paid all of it) needs to know: nothing else tells.
        all_credited=invoice.total_minor == 0
        and all_credited(invoice, await notes.of_invoice(invoice.id)),
    )
    await InvoiceRepository(uow.session, invoice.tenant_id).save(invoice)
    uow.publish_recorded(invoice)
    return note


async def issue(
    uow: UnitOfWork,
    principal: Principal,
    request: CreditRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome[CreditNote]:
    now = now or utcnow()
    tenant_id = principal.tenant_id
    notes = CreditNoteRepository(uow.session, tenant_id)
    note_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "credit_note", idempotency_key, request.fingerprint(), note_id, what="credit note"
        )
        if earlier is not None:
            return Outcome(await notes.require(earlier), created=False)
    invoices = InvoiceRepository(uow.session, tenant_id)
    found = await invoices.require(request.invoice_id)
    books = await Books.open(uow, tenant_id, found.customer_id, now)
    invoice = await invoices.require(request.invoice_id, for_update=True)
    profile = await profile_of(uow, tenant_id)
    note = await credit_locked(
        uow,
        books,
        invoice,
        profile,
        request.lines,
        actor=principal.sub,
        reason=request.reason,
        credit_note_id=note_id,
    )
    await books.close()
    await uow.commit()
    return Outcome(note, created=True)


async def get(uow: UnitOfWork, principal: Principal, credit_note_id: uuid.UUID) -> CreditNote:
    note = await CreditNoteRepository(uow.session, principal.tenant_id).require(credit_note_id)
    principal.ensure_sees(note.customer_id, "credit note")
    return note


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    after: CreatedKey | None = None,
    limit: int,
) -> list[CreditNote]:
    return await CreditNoteRepository(uow.session, principal.tenant_id).page(
        limit + 1, after, customer_id=principal.customer_scope(customer_id), invoice_id=invoice_id
    )


async def pdf(
    uow: UnitOfWork, principal: Principal, credit_note_id: uuid.UUID, settings: BillingSettings
) -> tuple[str, bytes]:
    note = await get(uow, principal, credit_note_id)
    profile = await profile_of(uow, principal.tenant_id)
    document = PdfDocument(
        kind="credit_note",
        number=note.number,
        status="issued",
        currency=note.currency,
        locale=note.locale or profile.locale,
        timezone=note.timezone or profile.timezone,
        issued_on=note.issued_on,
        seller=note.seller or profile.seller(),
        bill_to=note.bill_to or {},
        lines=note.lines,
        tax_summary=note.tax_summary,
        net_minor=note.net_minor,
        tax_minor=note.tax_minor,
        total_minor=note.total_minor,
        invoice_number=note.invoice_number,
        notes=note.reason,
        vouchers=[note.voucher_discount_minor] if note.voucher_discount_minor else [],
    )
    return f"credit-note-{note.number}.pdf", render(
        document, Fonts(settings.pdf_font_path, settings.pdf_bold_font_path)
    )
