"""/v1/invoices: drafts, issue, cancel, read, list, PDF.

Staff need ``manage_billing`` (admins and owners always may). A customer token reads
and downloads only its own issued invoices (anyone else's, and drafts, answer 404).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

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
from frontdesk.billing.api.schemas import (
    CancelIn,
    InvoiceCreate,
    InvoiceOut,
    InvoicePage,
    InvoicePatch,
    LineIn,
)
from frontdesk.billing.application import invoices
from frontdesk.billing.domain.invoices import InvoiceStatus, Source
from frontdesk.billing.domain.pricing import LineRequest
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import BoundedDate

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])


def _lines(lines: list[LineIn]) -> list[LineRequest]:
    return [LineRequest(**line.model_dump()) for line in lines]


def _answer(response: Response, view: invoices.InvoiceView) -> InvoiceOut:
    response.headers["ETag"] = etag(view.invoice.version)
    return InvoiceOut.of_view(view)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InvoiceOut,
    responses={
        200: {"model": InvoiceOut, "description": "Replay of an earlier draft (same key)"},
        409: problem("Idempotency-Key reused for another invoice"),
    },
)
async def create_invoice(
    body: InvoiceCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    idempotency_key: IdempotencyKey = None,
) -> InvoiceOut:
    """A draft: no number yet, editable. Each line is priced by the rounding rule with
    the customer's active membership applied (the breakdown is on the line)."""
    outcome = await invoices.create_draft(
        uow,
        principal,
        invoices.DraftRequest(
            customer_id=body.customer_id,
            lines=_lines(body.lines),
            currency=body.currency,
            prices_include_tax=body.prices_include_tax,
            notes=body.notes,
            due_on=body.due_on,
            bill_to=body.bill_to.model_dump() if body.bill_to else None,
            prefix=body.prefix,
        ),
        idempotency_key=idempotency_key,
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{outcome.value.id}"
    return _answer(response, await invoices.view(uow, principal, outcome.value.id))


@router.get("", response_model=InvoicePage)
async def list_invoices(
    uow: UnitOfWorkDep,
    principal: BillingReader,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[InvoiceStatus | None, Query(alias="status")] = None,
    source: Source | None = None,
    source_key: Annotated[str | None, Query(max_length=200)] = None,
    issued_from: Annotated[BoundedDate | None, Query()] = None,
    issued_to: Annotated[BoundedDate | None, Query()] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> InvoicePage:
    """In creation order; ``source=booking&source_key=<booking id>`` finds a session's
    invoice (its payment status)."""
    found = await invoices.page(
        uow,
        principal,
        customer_id=customer_id,
        status=status_,
        source=source,
        source_key=source_key,
        issued_from=issued_from,
        issued_to=issued_to,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = created_page(found, limit)
    return InvoicePage(items=[InvoiceOut.of_view(v) for v in items], next_cursor=next_cursor)


@router.get("/{invoice_id}", response_model=InvoiceOut)
async def get_invoice(
    invoice_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: BillingReader
) -> InvoiceOut:
    return _answer(response, await invoices.view(uow, principal, invoice_id))


@router.patch(
    "/{invoice_id}",
    response_model=InvoiceOut,
    responses={
        409: problem("The invoice is issued (a credit note corrects it)"),
        412: problem("If-Match names an older version (current ETag sent)"),
    },
)
async def edit_invoice(
    invoice_id: uuid.UUID,
    body: InvoicePatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    if_match: IfMatch = None,
) -> InvoiceOut:
    """Only a draft; ``lines`` replaces them all."""
    changes = patch_changes(body, ("lines", "currency", "prices_include_tax", "prefix"))
    if body.lines is not None:
        changes["lines"] = _lines(body.lines)
    if "bill_to" in changes and body.bill_to is not None:
        changes["bill_to"] = body.bill_to.model_dump()
    await invoices.edit_draft(
        uow, principal, invoice_id, changes, expected_version=expected_version(if_match)
    )
    return _answer(response, await invoices.view(uow, principal, invoice_id))


@router.post(
    "/{invoice_id}/issue",
    response_model=InvoiceOut,
    responses={
        409: problem("Not a draft"),
        412: problem("If-Match names an older version (current ETag sent)"),
    },
)
async def issue_invoice(
    invoice_id: uuid.UUID,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    if_match: IfMatch = None,
) -> InvoiceOut:
    """The next number of the series (gapless per tenant, prefix and year), the
    customer's and seller's details copied, the journal entry posted; credit the
    customer holds is applied. Publishes ``billing.invoice.issued``."""
    await invoices.issue(uow, principal, invoice_id, expected_version=expected_version(if_match))
    return _answer(response, await invoices.view(uow, principal, invoice_id))


@router.post(
    "/{invoice_id}/cancel",
    response_model=InvoiceOut,
    responses={
        409: problem("Already cancelled, or paid on (credit and refund instead)"),
        412: problem("If-Match names an older version (current ETag sent)"),
    },
)
async def cancel_invoice(
    invoice_id: uuid.UUID,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    body: CancelIn | None = None,
    if_match: IfMatch = None,
) -> InvoiceOut:
    """A draft is dropped; an issued invoice nothing was paid on is cancelled by a credit
    note for all of it (publishes ``billing.credit_note.issued`` and
    ``billing.invoice.cancelled``)."""
    await invoices.cancel(
        uow,
        principal,
        invoice_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return _answer(response, await invoices.view(uow, principal, invoice_id))


@router.get("/{invoice_id}/pdf", response_class=Response, responses=PDF_ANSWER)
async def invoice_pdf(
    invoice_id: uuid.UUID, uow: UnitOfWorkDep, principal: BillingReader, runtime: BillingRuntime
) -> Response:
    """The invoice in the business's currency, language and time zone."""
    name, content = await invoices.pdf(uow, principal, invoice_id, runtime.settings)
    return pdf_response(name, content)
