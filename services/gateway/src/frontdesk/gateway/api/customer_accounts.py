"""/v1/customer-accounts: staff open a customer's self-service account, which emails a
welcome with a sign-in link (customers may also ask for a link themselves)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from frontdesk.gateway.api.common import TOO_MANY, GateDep, admitted
from frontdesk.gateway.api.schemas import CustomerAccountCreate, CustomerAccountOut
from frontdesk.gateway.application import logins
from frontdesk.kit.auth import Permission, Principal, require
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(
    prefix="/v1/customer-accounts",
    tags=["customer accounts"],
    responses=TOO_MANY,
    dependencies=[Depends(admitted)],
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerAccountOut)
async def open_customer_account(
    body: CustomerAccountCreate,
    uow: UnitOfWorkDep,
    gate: GateDep,
    principal: Principal = Depends(require(Permission.send_emails)),
) -> CustomerAccountOut:
    """Needs ``send_emails``. The customer must have an email (from the customers service)."""
    account = await logins.welcome_customer(uow, gate, principal, body.customer_id)
    return CustomerAccountOut.of(account)
