"""/v1/billing-profile: the seller's details, currency, language, time zone, default tax
rate, payment terms and number prefixes of the business (staff with ``manage_billing``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from frontdesk.billing.api.common import BillingManager, problem
from frontdesk.billing.api.schemas import ProfileOut, ProfilePatch
from frontdesk.billing.application import profiles
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/billing-profile", tags=["billing profile"])

NOT_NULL = (
    "currency",
    "locale",
    "timezone",
    "default_tax_rate_bp",
    "prices_include_tax",
    "payment_terms_days",
    "invoice_prefix",
    "credit_note_prefix",
)


@router.get("", response_model=ProfileOut)
async def get_profile(
    response: Response, uow: UnitOfWorkDep, principal: BillingManager
) -> ProfileOut:
    profile = await profiles.get(uow, principal)
    response.headers["ETag"] = etag(profile.version)
    return ProfileOut.of(profile)


@router.patch(
    "",
    response_model=ProfileOut,
    responses={412: problem("If-Match names an older version (current ETag sent)")},
)
async def edit_profile(
    body: ProfilePatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: BillingManager,
    if_match: IfMatch = None,
) -> ProfileOut:
    """Later documents use the new details; issued ones keep theirs."""
    profile = await profiles.update(
        uow,
        principal,
        patch_changes(body, NOT_NULL),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(profile.version)
    return ProfileOut.of(profile)
