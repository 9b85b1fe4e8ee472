"""/v1/customers/{id}: create, find-or-create, read, edit (If-Match), tags, delete,
erasure and the access request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerErased,
    CustomerStatusChanged,
    CustomerUpdated,
)
from frontdesk.customers import actions
from frontdesk.customers.adapters.notes import NoteRepository
from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.customers.api.common import detail, existing, region, visible
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
from frontdesk.customers.domain.customer import (
    ContactError,
    clean_name,
    clean_tag,
    normalise_email,
    normalise_phone,
    require_contact,
)
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal, require, require_admin
from frontdesk.kit.etags import IfMatch, check_if_match, etag
from frontdesk.kit.problems import (
    Forbidden,
    InvalidInput,
    NotFound,
    patch_changes,
)
from frontdesk.kit.service import RuntimeDep
from frontdesk.kit.uow import UnitOfWork

router = APIRouter(prefix="/v1/customers", tags=["customers"])

Editor = Annotated[Principal, Depends(require(Permission.add_participants))]
Admin = Annotated[Principal, Depends(require_admin())]


def _clean_contacts(body: dict[str, Any], default_region: str) -> dict[str, Any]:
    """Normalise names, email and phone in place; a bad one answers 422 naming the field."""
    try:
        for field in ("first_name", "last_name"):
            if body.get(field) is not None:
                body[field] = clean_name(field, body[field])
        if body.get("email"):
            body["email"] = normalise_email(body["email"])
        elif "email" in body:
            body["email"] = None
        if body.get("phone"):
            body["phone"] = normalise_phone(body["phone"], default_region)
        elif "phone" in body:
            body["phone"] = None
        if "tags" in body and body["tags"] is not None:
            body["tags"] = sorted({clean_tag(t) for t in body["tags"] if t.strip()})
    except ContactError as error:
        field = "tags" if error.field == "tag" else error.field
        raise InvalidInput.for_field(field, str(error)) from None
    return body


def _publish_changes(
    uow: UnitOfWork, tenant_id: uuid.UUID, current: Any, row: Any, changed: set[str]
) -> None:
    """The same events for a single edit, a tag change and a bulk action."""
    publish = {
        "tenant_id": tenant_id,
        "aggregate_id": row["id"],
        "aggregate_version": row["version"],
    }
    if "status" in changed:
        uow.publish(
            CustomerStatusChanged(
                customer_id=row["id"], old_status=current["status"], new_status=row["status"]
            ),
            **publish,
        )
    if changed - {"status"}:
        uow.publish(
            CustomerUpdated(
                customer_id=row["id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=row["email"],
                phone=row["phone"],
                tags=list(row["tags"]),
                changed=sorted(changed - {"status"}),
            ),
            **publish,
        )


async def apply_changes(
    uow: UnitOfWork, tenant_id: uuid.UUID, current: Any, changes: dict[str, Any]
) -> Any:
    """Update what differs and publish; returns the current row if nothing did."""
    changed = {k: v for k, v in changes.items() if current[k] != v}
    if not changed:
        return current
    row = await CustomerRepository(uow.session, tenant_id).update(current["id"], changed)
    _publish_changes(uow, tenant_id, current, row, set(changed))
    return row


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(
    body: CustomerCreate, response: Response, rt: RuntimeDep, principal: Editor
) -> CustomerOut:
    """Creates the customer; likely duplicates are flagged, never blocked."""
    values = _clean_contacts(body.model_dump(), region(rt))
    require_contact(values["email"], values["phone"])
    async with rt.uow() as uow:
        row = await actions.create(uow, principal.tenant_id, {**values, "source": "staff"})
        out = await detail(CustomerRepository(uow.session, principal.tenant_id), row, principal)
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    response.headers["Location"] = f"/v1/customers/{row['id']}"
    return out


@router.post(
    "/find-or-create",
    response_model=CustomerOut,
    responses={
        201: {"model": CustomerOut, "description": "Created"},
        200: {"description": "An existing customer with this email"},
    },
)
async def find_or_create_customer(
    body: FindOrCreate, response: Response, rt: RuntimeDep, principal: Editor
) -> CustomerOut:
    """The oldest customer with this email in the tenant, or a new one (201)."""
    values = _clean_contacts(body.model_dump(), region(rt))
    async with rt.uow() as uow:
        row, created = await actions.find_or_create(
            uow, principal.tenant_id, {**values, "source": "staff"}
        )
        out = await detail(CustomerRepository(uow.session, principal.tenant_id), row, principal)
        await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = etag(row["version"])
    response.headers["Location"] = f"/v1/customers/{row['id']}"
    return out


@router.get("/me", response_model=CustomerOut)
async def get_me(response: Response, rt: RuntimeDep, principal: CurrentPrincipal) -> CustomerOut:
    """A customer's own profile (customer tokens only)."""
    if principal.customer_id is None:
        raise NotFound("Only a customer token has a profile here.")
    return await get_customer(principal.customer_id, response, rt, principal)


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(
    customer_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> CustomerOut:
    visible(principal, customer_id)
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        row = await existing(repo, customer_id)
        out = await detail(repo, row, principal)
    response.headers["ETag"] = etag(row["version"])
    return out


@router.patch("/{customer_id}", response_model=CustomerOut)
async def patch_customer(
    customer_id: uuid.UUID,
    body: CustomerPatch,
    response: Response,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> CustomerOut:
    visible(principal, customer_id)
    if principal.is_customer and ({"status", "tags"} & body.model_fields_set):
        raise Forbidden("Customers cannot change their status or tags.")
    if not principal.is_customer and not principal.can(Permission.add_participants):
        raise Forbidden("Editing customers needs the 'add_participants' permission.")
    changes = _clean_contacts(
        patch_changes(body, ("first_name", "last_name", "status", "tags")), region(rt)
    )
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        current = await existing(repo, customer_id, for_update=True, editable=True)
        check_if_match(if_match, current["version"], "customer")
        merged = {**current, **changes}
        require_contact(merged["email"], merged["phone"])
        row = await apply_changes(uow, principal.tenant_id, current, changes)
        out = await detail(repo, row, principal)
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return out


async def _tag(
    customer_id: uuid.UUID, tag: str, add: bool, rt: Any, principal: Principal, response: Response
) -> CustomerOut:
    try:
        cleaned = clean_tag(tag)
    except ContactError as error:
        raise InvalidInput.for_field("tag", str(error)) from None
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        current = await existing(repo, customer_id, for_update=True, editable=True)
        tags = set(current["tags"])
        tags = tags | {cleaned} if add else tags - {cleaned}
        row = await apply_changes(uow, principal.tenant_id, current, {"tags": sorted(tags)})
        out = await detail(repo, row, principal)
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return out


@router.put("/{customer_id}/tags/{tag:path}", response_model=CustomerOut)
async def add_tag(
    customer_id: uuid.UUID, tag: str, response: Response, rt: RuntimeDep, principal: Editor
) -> CustomerOut:
    """Adds the tag (trimmed, lower-cased); adding it twice changes nothing."""
    return await _tag(customer_id, tag, True, rt, principal, response)


@router.delete("/{customer_id}/tags/{tag:path}", response_model=CustomerOut)
async def remove_tag(
    customer_id: uuid.UUID, tag: str, response: Response, rt: RuntimeDep, principal: Editor
) -> CustomerOut:
    return await _tag(customer_id, tag, False, rt, principal, response)


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_customer(customer_id: uuid.UUID, rt: RuntimeDep, principal: Editor) -> Response:
    """Deletes the record with its notes, summary, bookings and activity; others learn of it."""
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        current = await existing(repo, customer_id, for_update=True)
        await repo.delete(customer_id)
        uow.publish(
            CustomerDeleted(customer_id=customer_id),
            tenant_id=principal.tenant_id,
            aggregate_id=customer_id,
            aggregate_version=current["version"] + 1,
        )
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{customer_id}/erasure", response_model=CustomerOut)
async def erase_customer(
    customer_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: Admin
) -> CustomerOut:
    """GDPR erasure: personal data scrubbed, notes deleted; the anonymous record and its
    numbers stay. Every other service scrubs on the published event."""
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        await existing(repo, customer_id, for_update=True, editable=True)
        row = await repo.update(
            customer_id,
            {
                "first_name": "Erased",
                "last_name": "Customer",
                "email": None,
                "phone": None,
                "tags": [],
                "erased_at": datetime.now(UTC),
            },
        )
        await NoteRepository(uow.session, principal.tenant_id).delete_all(customer_id)
        uow.publish(
            CustomerErased(customer_id=customer_id),
            tenant_id=principal.tenant_id,
            aggregate_id=customer_id,
            aggregate_version=row["version"],
        )
        out = await detail(repo, row, principal)
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return out


@router.get("/{customer_id}/data", response_model=DataExport)
async def access_request(customer_id: uuid.UUID, rt: RuntimeDep, principal: Admin) -> DataExport:
    """Everything this service holds about the customer, private notes included."""
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        row = await existing(repo, customer_id)
        customer = await detail(repo, row, principal)
        note_repo = NoteRepository(uow.session, principal.tenant_id)
        notes = await note_repo.timeline(customer_id, None)
        bookings = await repo.bookings(customer_id)
        memberships = await repo.memberships(customer_id)
        activity = await note_repo.activity(
            customer_id, notes_for=None, include_notes=False, after=None, limit=100_000
        )
    return DataExport(
        customer=customer,
        notes=[NoteOut.of(n) for n in notes],
        bookings=[BookingOut(**{k: b[k] for k in BookingOut.model_fields}) for b in bookings],
        memberships=[Membership(**{k: m[k] for k in Membership.model_fields}) for m in memberships],
        activity=[ActivityItem(**a) for a in activity],
    )
