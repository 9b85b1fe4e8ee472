"""/v1/credit-notes: correct an issued invoice (whole or some lines), read, list, PDF."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.billing.api.common import (
    PDF_ANSWER,
    BillingManager,
    BillingReader,
    BillingRuntime,
    created_after,
    created_page,
    pdf_response,
    problem,
)
from frontdesk.billing.api.schemas import CreditNoteCreate, CreditNoteOut, CreditNotePage
from frontdesk.billing.application import credit_notes
from frontdesk.billing.domain.credit_notes import Selection
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/credit-notes", tags=["credit notes"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreditNoteOut,
    responses={
        200: {"model": CreditNoteOut, "description": "Replay of an earlier credit note"},
        409: problem("The invoice is a draft or cancelled, or nothing is left to credit"),
    },
)
async def create_credit_note(
    body: CreditNoteCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    idempotency_key: IdempotencyKey = None,
) -> CreditNoteOut:
    """Credits the named lines (a quantity of each, or all that is left of it), or the
    whole invoice; numbered in the credit-note series. What was still due on the invoice
    is reduced; the rest (it had been paid) becomes the customer's credit."""
    selections = None
    if body.lines is not None:
        selections = [Selection(line.position, line.quantity) for line in body.lines]
    outcome = await credit_notes.issue(
        uow,
        principal,
        credit_notes.CreditRequest(body.invoice_id, selections, body.reason),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{outcome.value.id}"
    return CreditNoteOut.of(outcome.value)


@router.get("", response_model=CreditNotePage)
async def list_credit_notes(
    uow: UnitOfWorkDep,
    principal: BillingReader,
    customer_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> CreditNotePage:
    found = await credit_notes.page(
        uow,
        principal,
        customer_id=customer_id,
        invoice_id=invoice_id,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = created_page(found, limit)
    return CreditNotePage(items=[CreditNoteOut.of(n) for n in items], next_cursor=next_cursor)


@router.get("/{credit_note_id}", response_model=CreditNoteOut)
async def get_credit_note(
    credit_note_id: uuid.UUID, uow: UnitOfWorkDep, principal: BillingReader
) -> CreditNoteOut:
    return CreditNoteOut.of(await credit_notes.get(uow, principal, credit_note_id))


@router.get("/{credit_note_id}/pdf", response_class=Response, responses=PDF_ANSWER)
async def credit_note_pdf(
    credit_note_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: BillingReader,
    runtime: BillingRuntime,
) -> Response:
    name, content = await credit_notes.pdf(uow, principal, credit_note_id, runtime.settings)
    return pdf_response(name, content)
