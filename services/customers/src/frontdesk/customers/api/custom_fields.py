"""Custom field definitions per tenant (C16): /v1/custom-fields."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.customers.api.common import Admin, answer
from frontdesk.customers.api.schemas import CustomFieldCreate, CustomFieldOut, CustomFieldPatch
from frontdesk.customers.application import custom_fields
from frontdesk.kit.auth import StaffPrincipal
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/custom-fields", tags=["custom fields"])


def _answer(field: CustomFieldOut, *, status_code: int = 200) -> Response:
    return answer(field, status_code=status_code, headers={"ETag": etag(field.version)})


@router.get("", response_model=list[CustomFieldOut])
async def list_fields(uow: UnitOfWorkDep, principal: StaffPrincipal) -> list[CustomFieldOut]:
    return [CustomFieldOut.of(d) for d in await custom_fields.all_of(uow, principal)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomFieldOut)
async def define_field(body: CustomFieldCreate, uow: UnitOfWorkDep, principal: Admin) -> Response:
    """A field every customer of the business can hold (its key unique, never changed)."""
    definition = await custom_fields.define(uow, principal, body.model_dump())
    return _answer(CustomFieldOut.of(definition), status_code=status.HTTP_201_CREATED)


@router.patch("/{field_id}", response_model=CustomFieldOut)
async def edit_field(
    field_id: uuid.UUID,
    body: CustomFieldPatch,
    uow: UnitOfWorkDep,
    principal: Admin,
    if_match: IfMatch = None,
) -> Response:
    """Label, required, choices, position; the key and type stay."""
    definition = await custom_fields.edit(
        uow,
        principal,
        field_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return _answer(CustomFieldOut.of(definition))


@router.delete("/{field_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_field(field_id: uuid.UUID, uow: UnitOfWorkDep, principal: Admin) -> Response:
    """The field and every customer's value of it."""
    await custom_fields.delete(uow, principal, field_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
