"""Households (C14): /v1/customers/{payer}/household."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.customers.api.common import Editor
from frontdesk.customers.api.schemas import Household, HouseholdLink
from frontdesk.customers.application import households
from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/customers", tags=["households"])


@router.get("/{customer_id}/household", response_model=Household)
async def get_household(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Household:
    """Who pays for this customer, and whom this customer pays for."""
    return Household.of(await households.show(uow, principal, customer_id))


@router.post(
    "/{customer_id}/household", status_code=status.HTTP_201_CREATED, response_model=Household
)
async def link_member(
    customer_id: uuid.UUID, body: HouseholdLink, uow: UnitOfWorkDep, principal: Editor
) -> Household:
    """Links ``member_id`` to this customer as their payer (one payer each, no cycles)."""
    rows = await households.link(uow, principal, customer_id, body.member_id, body.relation)
    return Household.of(rows)


@router.delete("/{customer_id}/household/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_member(
    customer_id: uuid.UUID, member_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    await households.unlink(uow, principal, customer_id, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
