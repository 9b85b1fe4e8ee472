"""Invoices made from other services' events, each at most once.

The inbox drops a message delivered twice; the business key does the rest: an invoice
carries its source (``package`` + package id, ``top_up`` + top-up id, ``program`` +
program id, ``booking`` +
booking id, ``membership`` + membership id and period end) under a unique index, and
the handler looks for it after locking the customer's books, so the same sale
redelivered under a new message id, even concurrently, invoices once.

Invoices from events are issued at once (the sale happened) in the business's profile
(tax rate, prices including tax); payment is recorded when it is received.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.billing.adapters.credit_notes import CreditNoteRepository
from frontdesk.billing.adapters.customers import MembershipRepository
from frontdesk.billing.adapters.invoices import InvoiceRepository
from frontdesk.billing.application import credit_notes
from frontdesk.billing.application.books import Books, profile_of, utcnow
from frontdesk.billing.application.invoices import issue_locked, membership_at
from frontdesk.billing.domain import SYSTEM
from frontdesk.billing.domain.credit_notes import Credited, credited_by
from frontdesk.billing.domain.invoices import Invoice, InvoiceStatus, Source
from frontdesk.billing.domain.memberships import period_key, period_line
from frontdesk.billing.domain.pricing import (
    Figures,
    LineKind,
    LineRequest,
    MembershipTerms,
    price_lines,
)
from frontdesk.contracts.credits import (
    MembershipAssigned,
    MembershipChanged,
    MembershipSnapshot,
    PackagePurchased,
    PackageToppedUp,
    ProgramPurchased,
)
from frontdesk.contracts.scheduling import BookingCancelled, BookingConfirmed
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _invoice_once(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    source: Source,
    key: str,
    currency: str,
    lines: list[LineRequest],
    *,
    membership: MembershipTerms | None = None,
    notes: str | None = None,
) -> Invoice | None:
    """Issue the invoice of this source unless it exists (or was closed); commits."""
    now = utcnow()
    invoices = InvoiceRepository(uow.session, tenant_id)
    books = await Books.open(uow, tenant_id, customer_id, now)
    # Looked up under the customer's lock: a concurrent delivery of the same sale under
    # another message id waits above, then finds this one's invoice.
    if await invoices.by_source(source, key) is not None or await invoices.source_closed(
        source, key
    ):
        log.info("%s %s already invoiced (or closed); nothing to do", source.value, key)
        await uow.commit()  # the inbox row
        return None
    profile = await profile_of(uow, tenant_id)
    invoice = Invoice.draft(
        tenant_id=tenant_id,
        customer_id=customer_id,
        currency=currency,
        prefix=profile.invoice_prefix,
        prices_include_tax=profile.prices_include_tax,
        lines=price_lines(
            lines,
            prices_include_tax=profile.prices_include_tax,
            membership=membership,
            default_tax_rate_bp=profile.default_tax_rate_bp,
        ),
        actor=SYSTEM,
        notes=notes,
        source=source,
        source_key=key,
    )
    await invoices.add(invoice)
    await issue_locked(uow, books, invoice, profile)
    await books.close()
    await uow.commit()
    return invoice


# --- credits ----------------------------------------------------------------------------


async def package_sold(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: PackagePurchased | PackageToppedUp
) -> Invoice | None:
    """A priced package bought, or a priced top-up: one invoice (free grants: none)."""
    if event.price_minor <= 0:
        return None
    if isinstance(event, PackageToppedUp):
        source, key, what = Source.top_up, event.top_up_id, "top-up"
    else:
        source, key, what = Source.package, event.package_id, "package"
    line = LineRequest(
        description=f"{event.name}: {event.credits} credits ({what})",
        unit_price_minor=event.price_minor,
        kind=LineKind.credits,
    )
    return await _invoice_once(
        uow, tenant_id, event.customer_id, source, str(key), event.currency, [line]
    )


async def program_sold(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: ProgramPurchased
) -> Invoice | None:
    """A priced program bought: one invoice, as a package purchase (free ones: none)."""
    if event.price_minor <= 0:
        return None
    line = LineRequest(
        description=f"{event.name}: {event.sessions} sessions (program)",
        unit_price_minor=event.price_minor,
        # Sessions sold ahead, like credits: credits priced them, no membership discount.
        kind=LineKind.credits,
    )
    return await _invoice_once(
        uow,
        tenant_id,
        event.customer_id,
        Source.program,
        str(event.program_id),
        event.currency,
        [line],
    )


def _membership_values(event: MembershipSnapshot) -> dict[str, Any]:
    return {
        "membership_id": event.membership_id,
        "customer_id": event.customer_id,
        "plan_name": event.plan_name[:200],
        "discount_percent": event.discount_percent,
        "included_services": list(event.included_services),
        "starts_at": event.starts_at,
        "expires_at": event.expires_at,
        "status": event.status,
    }


async def membership_changed(
    uow: UnitOfWork, tenant_id: uuid.UUID, version: int, event: MembershipSnapshot
) -> Invoice | None:
    """Keep the membership (its discount and included services price later lines); a
    priced assignment or renewal is invoiced once per period."""
    await MembershipRepository(uow.session, tenant_id).upsert(_membership_values(event), version)
    invoiced = isinstance(event, MembershipAssigned) or (
        isinstance(event, MembershipChanged) and event.change == "renewed"
    )
    if not invoiced or not event.price_minor or event.price_minor <= 0:
        await uow.commit()
        return None
    profile = await profile_of(uow, tenant_id)
    zone = ZoneInfo(profile.timezone)
    line = period_line(
        event.plan_name,
        event.starts_at.astimezone(zone).date(),
        event.expires_at.astimezone(zone).date(),
        event.price_minor,
        profile.default_tax_rate_bp,
    )
    return await _invoice_once(
        uow,
        tenant_id,
        event.customer_id,
        Source.membership,
        period_key(event.membership_id, event.expires_at),
        event.currency or profile.currency,
        [line],
    )


# --- scheduling -------------------------------------------------------------------------


def _session_line(event: BookingConfirmed) -> LineRequest:
    """One line per booking: the seats at the per-seat price when it divides evenly."""
    start = event.starts_at.astimezone(ZoneInfo(event.timezone))
    description = f"{event.title}, {start:%Y-%m-%d %H:%M}"
    seats = max(event.seats, 1)
    price = event.payment.price_minor
    if seats > 1 and price % seats == 0:
        quantity, unit = Decimal(seats), price // seats
    else:
        quantity, unit = Decimal(1), price
        if seats > 1:
            description += f" ({seats} seats)"
    return LineRequest(
        description=description,
        unit_price_minor=unit,
        quantity=quantity,
        kind=LineKind.service,
        service=event.service or event.title,
    )


async def booking_confirmed(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingConfirmed
) -> Invoice | None:
    """A pay-per-session booking of a known customer: invoiced at the price it was booked
    with, the membership active at the session's start applied."""
    if event.payment.method != "pay_per_session" or event.payment.price_minor <= 0:
        return None
    if event.customer_id is None:
        log.info("booking %s has no customer yet; invoiced when it has one", event.booking_id)
        return None
    membership = await membership_at(uow, tenant_id, event.customer_id, event.starts_at)
    return await _invoice_once(
        uow,
        tenant_id,
        event.customer_id,
        Source.booking,
        str(event.booking_id),
        event.payment.currency,
        [_session_line(event)],
        membership=membership,
    )


async def booking_cancelled(uow: UnitOfWork, tenant_id: uuid.UUID, event: BookingCancelled) -> None:
    """Cancelled with a refund (in time, or by the studio): an unpaid invoice is cancelled,
    a paid one credited (the money becomes the customer's credit, for the next invoice or
    a refund). Cancelled late (no refund): the invoice stands. A cancellation that comes
    before its confirmation closes the booking so the late confirmation invoices nothing."""
    if not event.refund or event.payment.method != "pay_per_session":
        return
    invoices = InvoiceRepository(uow.session, tenant_id)
    key = str(event.booking_id)
    now = utcnow()
    # The customer's lock first, as the confirmation's handler takes it: whichever runs
    # second sees what the first one did.
    books = None
    if event.customer_id is not None:
        books = await Books.open(uow, tenant_id, event.customer_id, now)
    await invoices.close_source(Source.booking, key)
    found = await invoices.by_source(Source.booking, key)
    if found is None or found.status not in (InvoiceStatus.open, InvoiceStatus.paid):
        await uow.commit()
        return
    if books is None or books.customer_id != found.customer_id:
        books = await Books.open(uow, tenant_id, found.customer_id, now)
    invoice = await invoices.require(found.id, for_update=True)
    if await _left_to_credit(uow, invoice):
        profile = await profile_of(uow, tenant_id)
        await credit_notes.credit_locked(
            uow, books, invoice, profile, None, actor=SYSTEM, reason="booking cancelled"
        )
        await books.close()
    await uow.commit()


async def _left_to_credit(uow: UnitOfWork, invoice: Invoice) -> bool:
    """Whether credit notes left anything of the invoice (an included session: nothing;
    a session a voucher paid: the voucher, to give back)."""
    notes = await CreditNoteRepository(uow.session, invoice.tenant_id).of_invoice(invoice.id)
    taken = credited_by(notes)

    def worth(f: Figures) -> int:
        return f.total_minor + f.voucher_discount_minor

    return any(
        worth(line.figures) > worth(taken.get(line.position, Credited()).figures)
        for line in invoice.priced_lines
    )
