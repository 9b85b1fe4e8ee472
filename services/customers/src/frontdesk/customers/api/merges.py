"""Duplicates and merges (C13): /v1/customers/{id}/duplicates, /merge, /merges and
/v1/merges/{id} (/undo)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from frontdesk.customers.api.common import CustomersRuntime, Editor
from frontdesk.customers.api.schemas import DuplicateOut, MergeOut, MergeRequest
from frontdesk.customers.application import merges
from frontdesk.kit.auth import StaffPrincipal
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(tags=["merges"])


@router.get("/v1/customers/{customer_id}/duplicates", response_model=list[DuplicateOut])
async def duplicates(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal
) -> list[DuplicateOut]:
    """Likely the same person, best first, each with a score and its reasons."""
    found = await merges.duplicates(uow, principal, customer_id)
    return [
        DuplicateOut(
            customer_id=c.customer_id,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            score=c.score,
            reasons=c.reasons,  # type: ignore[arg-type]
        )
        for c in found
    ]


@router.post(
    "/v1/customers/{customer_id}/merge",
    status_code=status.HTTP_201_CREATED,
    response_model=MergeOut,
)
async def merge(
    customer_id: uuid.UUID,
    body: MergeRequest,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: Editor,
) -> MergeOut:
    """Merges ``merged_id`` into this customer (the survivor). The merged record stays,
    marked, and can be restored with ``POST /v1/merges/{id}/undo`` within the set period."""
    log = await merges.merge(
        uow, principal, customer_id, body.merged_id, undo_days=rt.settings.merge_undo_days
    )
    return MergeOut.of(log)


@router.get("/v1/customers/{customer_id}/merges", response_model=list[MergeOut])
async def customer_merges(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal
) -> list[MergeOut]:
    """The merges this record took part in, newest first."""
    return [MergeOut.of(m) for m in await merges.of_customer(uow, principal, customer_id)]


@router.get("/v1/merges/{merge_id}", response_model=MergeOut)
async def get_merge(merge_id: uuid.UUID, uow: UnitOfWorkDep, principal: StaffPrincipal) -> MergeOut:
    return MergeOut.of(await merges.get(uow, principal, merge_id))


@router.post("/v1/merges/{merge_id}/undo", response_model=MergeOut)
async def undo_merge(merge_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor) -> MergeOut:
    """Restores both records and what each held; 409 once undone or past the period."""
    return MergeOut.of(await merges.undo(uow, principal, merge_id))
