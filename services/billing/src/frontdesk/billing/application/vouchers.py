"""Loyalty vouchers (credits' ``loyalty.voucher_issued``): kept per customer, used on the
customer's next invoices as they are issued, given back by credit notes, listed.

Uses run inside the customer's ``Books`` (the account lock): two invoices of one
customer issued at once never both spend the same voucher.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from frontdesk.billing.adapters.accounts import AccountRepository
from frontdesk.billing.adapters.vouchers import VoucherRepository
from frontdesk.billing.domain.credit_notes import CreditNote
from frontdesk.billing.domain.invoices import Invoice
from frontdesk.billing.domain.vouchers import Voucher, to_give_back, to_use
from frontdesk.contracts.credits import LoyaltyVoucherIssued
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def voucher_issued(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: LoyaltyVoucherIssued
) -> None:
    """Keep the voucher for the customer's next invoices; the same voucher again (under a
    new message id) adds nothing."""
    # The customer's lock, as issuing takes it: an invoice issued meanwhile either sees
    # the voucher whole or not at all.
    await AccountRepository(uow.session, tenant_id).lock(event.customer_id)
    added = await VoucherRepository(uow.session, tenant_id).add(
        Voucher(
            voucher_id=event.voucher_id,
            customer_id=event.customer_id,
            points=event.points,
            amount_minor=event.amount_minor,
            currency=event.currency.upper(),
            issued_by=event.issued_by[:200],
        )
    )
    if not added:
        log.info("voucher %s already known; nothing to do", event.voucher_id)
    await uow.commit()


async def use_locked(uow: UnitOfWork, invoice: Invoice) -> None:
    """The customer's open vouchers in the invoice's currency taken off a draft being
    issued (the caller holds the customer's books and the invoice), at most its total."""
    if invoice.total_minor <= 0:
        return  # nothing to discount: the vouchers wait for the next invoice
    repo = VoucherRepository(uow.session, invoice.tenant_id)
    uses = to_use(
        await repo.open_of(invoice.customer_id, invoice.currency),
        invoice.currency,
        invoice.total_minor,
    )
    if not uses:
        return
    invoice.use_vouchers(uses)
    await repo.record(invoice.id, uses)


async def give_back_locked(uow: UnitOfWork, invoice: Invoice, note: CreditNote) -> None:
    """What of the vouchers a credit note took back from the invoice goes back to them."""
    if note.voucher_discount_minor <= 0:
        return
    repo = VoucherRepository(uow.session, invoice.tenant_id)
    back = to_give_back(await repo.used_on(invoice.id), note.voucher_discount_minor)
    await repo.record(invoice.id, back, credit_note_id=note.id)


# --- queries ------------------------------------------------------------------------------


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    open_only: bool | None = None,
    currency: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
) -> list[Voucher]:
    """Vouchers oldest first (one past ``limit``, to tell whether more follow), each with
    what is left of it; a customer sees its own."""
    return await VoucherRepository(uow.session, principal.tenant_id).page(
        limit + 1,
        after,
        customer_id=principal.customer_scope(customer_id),
        open_only=open_only,
        currency=currency,
    )


async def get(uow: UnitOfWork, principal: Principal, voucher_id: uuid.UUID) -> Voucher:
    found = await VoucherRepository(uow.session, principal.tenant_id).get(voucher_id)
    if found is None:
        raise NotFoundError.of("voucher")
    principal.ensure_sees(found.customer_id, "voucher")
    return found
