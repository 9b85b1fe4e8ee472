"""Customers as billing knows them, and erasure.

Invoices, credit notes, payments, refunds and the journal are legal records: erasure
keeps them, with every amount, date and number, and the bill-to details the law
requires on an invoice (name, address, a business's tax id). What goes: the link to
the customer (every row points at a fresh random id instead, the same for all of the
customer's records, so the anonymous ledger still reconciles), the email on documents,
and billing's copy of the customer's contact and memberships.
"""

from __future__ import annotations

import logging
import uuid

from frontdesk.billing.adapters.accounts import AccountRepository
from frontdesk.billing.adapters.credit_notes import CreditNoteRepository
from frontdesk.billing.adapters.customers import CustomerRepository
from frontdesk.billing.adapters.invoices import InvoiceRepository
from frontdesk.billing.adapters.ledger import LedgerRepository
from frontdesk.billing.adapters.payments import PaymentRepository
from frontdesk.billing.adapters.vouchers import VoucherRepository
from frontdesk.billing.domain.customers import KnownCustomer, scrubbed
from frontdesk.contracts.customers import CustomerRegistered, CustomerUpdated
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def customer_known(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    version: int,
    event: CustomerRegistered | CustomerUpdated,
) -> None:
    """The customer's name and email, for the bill-to details of their next invoice."""
    known = KnownCustomer(
        customer_id=event.customer_id,
        first_name=event.first_name,
        last_name=event.last_name,
        email=event.email,
    )
    if not await CustomerRepository(uow.session, tenant_id).upsert(known, version):
        log.info("stale customer %s (version %d) ignored", event.customer_id, version)
    await uow.commit()


async def customer_erased(uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    accounts = AccountRepository(uow.session, tenant_id)
    await accounts.lock(customer_id)  # no change of this customer's money runs meanwhile
    pseudonym = uuid.uuid4()
    await InvoiceRepository(uow.session, tenant_id).relink(customer_id, pseudonym, scrubbed)
    await CreditNoteRepository(uow.session, tenant_id).relink(customer_id, pseudonym, scrubbed)
    await PaymentRepository(uow.session, tenant_id).relink(customer_id, pseudonym)
    await LedgerRepository(uow.session, tenant_id).relink(customer_id, pseudonym)
    await VoucherRepository(uow.session, tenant_id).relink(customer_id, pseudonym)
    await accounts.relink(customer_id, pseudonym)
    await CustomerRepository(uow.session, tenant_id).forget(customer_id)
    await uow.commit()
