"""/v1/vouchers: loyalty vouchers (points redeemed at credits for a discount) and what
is left of each for the customer's next invoices. Read only: credits issues them,
issuing invoices uses them, credit notes give them back.

Staff need ``manage_billing``; a customer token reads its own (anyone else's: 404).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from frontdesk.billing.api.common import BillingReader, created_after
from frontdesk.billing.api.schemas import VoucherOut, VoucherPage
from frontdesk.billing.application import vouchers
from frontdesk.billing.domain.vouchers import Voucher
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, encode_cursor, split_page
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/vouchers", tags=["vouchers"])


def _out(voucher: Voucher) -> VoucherOut:
    return VoucherOut.of(voucher)


@router.get("", response_model=VoucherPage)
async def list_vouchers(
    uow: UnitOfWorkDep,
    principal: BillingReader,
    customer_id: uuid.UUID | None = None,
    open_: Annotated[
        bool | None,
        Query(alias="open", description="true: something left; false: used up"),
    ] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> VoucherPage:
    """Oldest first (the order they are used in), each with what is left of it."""
    found = await vouchers.page(
        uow,
        principal,
        customer_id=customer_id,
        open_only=open_,
        currency=currency,
        after=created_after(cursor),
        limit=limit,
    )
    items, next_cursor = split_page(
        found, limit, lambda v: encode_cursor([v.issued_at, v.voucher_id])
    )
    return VoucherPage(items=[_out(v) for v in items], next_cursor=next_cursor)


@router.get("/{voucher_id}", response_model=VoucherOut)
async def get_voucher(
    voucher_id: uuid.UUID, uow: UnitOfWorkDep, principal: BillingReader
) -> VoucherOut:
    return _out(await vouchers.get(uow, principal, voucher_id))
