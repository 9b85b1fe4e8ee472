"""/v1/customers/{id}: create, find-or-create, read, edit (If-Match), tags, delete,
erasure and the access request."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from frontdesk.customers.api.common import Admin, CustomersRuntime, Editor, answer
from frontdesk.customers.api.schemas import (
    ActivityItem,
    BookingOut,
    CustomerCreate,
    CustomerOut,
    CustomerPatch,
    DataExport,
    FindOrCreate,
    Membership,
    NoteOut,
)
from frontdesk.customers.application import customers
from frontdesk.customers.application.customers import Detail
from frontdesk.kit.auth import CurrentPrincipal, Permission
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.problems import Forbidden, NotFound, patch_changes
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import Line

router = APIRouter(prefix="/v1/customers", tags=["customers"])

TagPath = Annotated[Line, Path(description="Trimmed and lower-cased; at most 50 characters")]


def _answer(detail: Detail, *, status_code: int = 200, location: bool = False) -> Response:
    """The record as JSON (``answer``), with its ``ETag``."""
    headers = {"ETag": etag(detail.customer.version)}
    if detail.customer.merged_into is not None:
        # A merged record answers as it was, pointing at the record that is the customer now.
        headers["Link"] = f'</v1/customers/{detail.customer.merged_into}>; rel="canonical"'
    if location:
        headers["Location"] = f"/v1/customers/{detail.customer.id}"
    return answer(CustomerOut.of(detail), status_code=status_code, headers=headers)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(
    body: CustomerCreate,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: Editor,
) -> Response:
    """Creates the customer; likely duplicates are flagged, never blocked."""
    detail = await customers.register(
        uow, principal, body.model_dump(), default_region=rt.settings.default_region
    )
    return _answer(detail, status_code=status.HTTP_201_CREATED, location=True)


@router.post(
    "/find-or-create",
    response_model=CustomerOut,
    responses={
        201: {"model": CustomerOut, "description": "Created"},
        200: {"description": "An existing customer with this email"},
    },
)
async def find_or_create_customer(
    body: FindOrCreate,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: Editor,
) -> Response:
    """The oldest customer with this email in the tenant, or a new one (201)."""
    detail, created = await customers.find_or_create(
        uow, principal, body.model_dump(), default_region=rt.settings.default_region
    )
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _answer(detail, status_code=code, location=True)


@router.get("/me", response_model=CustomerOut)
async def get_me(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> Response:
    """A customer's own profile (customer tokens only)."""
    if principal.customer_id is None:
        raise NotFound("Only a customer token has a profile here.")
    return _answer(await customers.get(uow, principal, principal.customer_id))


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    return _answer(await customers.get(uow, principal, customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
async def patch_customer(
    customer_id: uuid.UUID,
    body: CustomerPatch,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Staff with ``add_participants`` edit any field; a customer its own name and contact."""
    principal.ensure_sees(customer_id, "customer")
    if principal.is_customer and ({"status", "tags"} & body.model_fields_set):
        raise Forbidden("Customers cannot change their status or tags.")
    if not principal.is_customer and not principal.can(Permission.add_participants):
        raise Forbidden("Editing customers needs the 'add_participants' permission.")
    detail = await customers.update(
        uow,
        principal,
        customer_id,
        patch_changes(body, ("first_name", "last_name", "status", "tags")),
        default_region=rt.settings.default_region,
        expected_version=expected_version(if_match),
    )
    return _answer(detail)


@router.put("/{customer_id}/tags/{tag:path}", response_model=CustomerOut)
async def add_tag(
    customer_id: uuid.UUID, tag: TagPath, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    """Adds the tag (trimmed, lower-cased); adding it twice changes nothing."""
    return _answer(await customers.tag(uow, principal, customer_id, tag, add=True))


@router.delete("/{customer_id}/tags/{tag:path}", response_model=CustomerOut)
async def remove_tag(
    customer_id: uuid.UUID, tag: TagPath, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    return _answer(await customers.tag(uow, principal, customer_id, tag, add=False))


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_customer(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    """Deletes the record with its notes, summary, bookings and activity; others learn of it."""
    await customers.delete(uow, principal, customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{customer_id}/erasure", response_model=CustomerOut)
async def erase_customer(customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admin) -> Response:
    """GDPR erasure: personal data scrubbed, notes deleted; the anonymous record and its
    numbers stay. Every other service scrubs on the published event."""
    return _answer(await customers.erase(uow, principal, customer_id))


@router.get("/{customer_id}/data", response_model=DataExport)
async def access_request(
    customer_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admin
) -> DataExport:
    """Everything this service holds about the customer, private notes included."""
    held = await customers.held(uow, principal, customer_id)
    return DataExport(
        customer=CustomerOut.of(held.detail),
        notes=[NoteOut.of(n) for n in held.notes],
        bookings=[BookingOut(**{k: b[k] for k in BookingOut.model_fields}) for b in held.bookings],
        memberships=[
            Membership(**{k: m[k] for k in Membership.model_fields}) for m in held.memberships
        ],
        activity=[ActivityItem(**a) for a in held.activity],
    )
