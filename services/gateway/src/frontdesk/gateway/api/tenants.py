"""/v1/tenants (sign-up) and /v1/tenant (the caller's own tenant: everyone in it reads
it, the owner edits it with ``If-Match``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from frontdesk.gateway.api.common import (
    TOO_MANY,
    Admitted,
    ClientDep,
    GateDep,
    LoginGate,
    problem,
)
from frontdesk.gateway.api.schemas import SignedUp, TenantCreate, TenantOut, TenantPatch, TokenOut
from frontdesk.gateway.application import tenants
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep

signup_router = APIRouter(prefix="/v1/tenants", tags=["tenant"], responses=TOO_MANY)
router = APIRouter(prefix="/v1/tenant", tags=["tenant"], responses=TOO_MANY)

PUBLIC = (r"/v1/tenants",)
NOT_NULL = ("name", "slug", "default_country", "language", "currency", "time_zone", "seller")


@signup_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SignedUp,
    responses={403: problem("Sign-up is closed"), 409: problem("The slug is taken")},
)
async def sign_up(
    body: TenantCreate, response: Response, uow: UnitOfWorkDep, gate: LoginGate, client: ClientDep
) -> SignedUp:
    """A new tenant and its owner, logged in."""
    values = body.model_dump(exclude={"owner"})
    tenant, pair = await tenants.sign_up(uow, gate, values, body.owner.model_dump(), client)
    response.headers["ETag"] = etag(tenant.version)
    response.headers["Location"] = router.prefix
    return SignedUp(tenant=TenantOut.of(tenant), tokens=TokenOut.of(pair))


@router.get("", response_model=TenantOut)
async def get_tenant(response: Response, uow: UnitOfWorkDep, principal: Admitted) -> TenantOut:
    tenant = await tenants.get(uow, principal)
    response.headers["ETag"] = etag(tenant.version)
    return TenantOut.of(tenant)


@router.patch("", response_model=TenantOut, responses={409: problem("The slug is taken")})
async def patch_tenant(
    body: TenantPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: Admitted,
    gate: GateDep,
    if_match: IfMatch = None,
) -> TenantOut:
    """The owner changes the tenant; every service learns it (``identity.tenant.changed``)."""
    tenant = await tenants.edit(
        uow,
        principal,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(tenant.version)
    return TenantOut.of(tenant)
