"""/v1/customers: create, read, edit (If-Match), delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status

from frontdesk.contracts.customers import (
    CustomerDeleted,
    CustomerRegistered,
    CustomerStatusChanged,
    CustomerUpdated,
)
from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.customers.api.schemas import CustomerCreate, CustomerOut, CustomerPatch
from frontdesk.customers.domain.customer import (
    ContactError,
    clean_name,
    normalise_email,
    normalise_phone,
    require_contact,
)
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal, require
from frontdesk.kit.problems import (
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from frontdesk.kit.service import Runtime

router = APIRouter(prefix="/v1/customers", tags=["customers"])


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def etag(version: int) -> str:
    return f'"{version}"'


def _clean_contacts(body: dict[str, Any], region: str) -> dict[str, Any]:
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
            body["phone"] = normalise_phone(body["phone"], region)
        elif "phone" in body:
            body["phone"] = None
    except ContactError as error:
        raise InvalidInput.for_field(error.field, str(error)) from None
    if "tags" in body and body["tags"] is not None:
        body["tags"] = sorted({" ".join(t.split()).lower() for t in body["tags"] if t.strip()})
    return body


def _visible(principal: Principal, customer_id: uuid.UUID) -> None:
    """A customer token reaches only its own record; others look absent."""
    if principal.is_customer and principal.customer_id != customer_id:
        raise NotFound("No such customer.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(
    body: CustomerCreate,
    response: Response,
    rt: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Permission.add_participants))],
) -> CustomerOut:
    values = _clean_contacts(body.model_dump(), rt.settings.default_region)  # type: ignore[attr-defined]
    require_contact(values["email"], values["phone"])
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        row = await repo.add({"id": uuid.uuid4(), **values, "source": "staff"})
        uow.publish(
            CustomerRegistered(
                customer_id=row["id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=row["email"],
                phone=row["phone"],
                status=row["status"],
                tags=row["tags"],
                source="staff",
            ),
            tenant_id=principal.tenant_id,
            aggregate_id=row["id"],
            aggregate_version=row["version"],
        )
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    response.headers["Location"] = f"/v1/customers/{row['id']}"
    return CustomerOut.of(row)


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(
    customer_id: uuid.UUID, response: Response, rt: RuntimeDep, principal: CurrentPrincipal
) -> CustomerOut:
    _visible(principal, customer_id)
    async with rt.uow() as uow:
        row = await CustomerRepository(uow.session, principal.tenant_id).get(customer_id)
    if row is None:
        raise NotFound("No such customer.")
    response.headers["ETag"] = etag(row["version"])
    return CustomerOut.of(row)


@router.patch("/{customer_id}", response_model=CustomerOut)
async def patch_customer(
    customer_id: uuid.UUID,
    body: CustomerPatch,
    response: Response,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    if_match: Annotated[str | None, Header()] = None,
) -> CustomerOut:
    _visible(principal, customer_id)
    changes = _clean_contacts(body.model_dump(exclude_unset=True), rt.settings.default_region)  # type: ignore[attr-defined]
    if principal.is_customer and ({"status", "tags"} & changes.keys()):
        raise Forbidden("Customers cannot change their status or tags.")
    if not principal.is_customer and not principal.can(Permission.add_participants):
        raise Forbidden("Editing customers needs the 'add_participants' permission.")
    for field in ("first_name", "last_name", "status", "tags"):
        if field in changes and changes[field] is None:
            raise InvalidInput.for_field(field, "must not be null")
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        current = await repo.get(customer_id, for_update=True)
        if current is None:
            raise NotFound("No such customer.")
        if if_match is not None and if_match.strip() not in (etag(current["version"]), "*"):
            raise PreconditionFailed(
                f"The customer changed since you read it (now version {current['version']}).",
                headers={"ETag": etag(current["version"])},
            )
        changed = {k: v for k, v in changes.items() if current[k] != v}
        if not changed:
            response.headers["ETag"] = etag(current["version"])
            return CustomerOut.of(current)
        merged = {**current, **changed}
        require_contact(merged["email"], merged["phone"])
        row = await repo.update(customer_id, changed)
        publish = {"tenant_id": principal.tenant_id, "aggregate_id": customer_id,
                   "aggregate_version": row["version"]}
        if "status" in changed:
            uow.publish(CustomerStatusChanged(customer_id=customer_id,
                                              old_status=current["status"],
                                              new_status=row["status"]), **publish)
        if changed.keys() - {"status"}:
            uow.publish(CustomerUpdated(customer_id=customer_id, first_name=row["first_name"],
                                        last_name=row["last_name"], email=row["email"],
                                        phone=row["phone"], tags=row["tags"],
                                        changed=sorted(changed.keys() - {"status"})), **publish)
        await uow.commit()
    response.headers["ETag"] = etag(row["version"])
    return CustomerOut.of(row)


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_customer(
    customer_id: uuid.UUID,
    rt: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Permission.add_participants))],
) -> Response:
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        current = await repo.get(customer_id, for_update=True)
        if current is None:
            raise NotFound("No such customer.")
        await repo.delete(customer_id)
        uow.publish(CustomerDeleted(customer_id=customer_id), tenant_id=principal.tenant_id,
                    aggregate_id=customer_id, aggregate_version=current["version"] + 1)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
