"""/v1/users: the tenant's staff accounts. The owner invites admins and staff, admins
invite staff; each sets a password from the emailed invitation. A change of role or
permissions takes effect at the user's next access token; ``DELETE`` disables the user
and ends their sessions. (Scheduling's ``/v1/staff`` are the people sessions are booked
with; these are the people who log in.)"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from frontdesk.gateway.api.common import TOO_MANY, Admitted, GateDep, created_after, created_page
from frontdesk.gateway.api.schemas import UserInvite, UserOut, UserPage, UserPatch
from frontdesk.gateway.application import users
from frontdesk.kit.auth import Role
from frontdesk.kit.etags import IfMatch, etag, expected_version
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import patch_changes
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/users", tags=["users"], responses=TOO_MANY)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def invite_user(
    body: UserInvite, response: Response, uow: UnitOfWorkDep, gate: GateDep, principal: Admitted
) -> UserOut:
    """Invites by email (``identity.account_email.requested``, kind ``staff_invitation``)."""
    user = await users.invite(
        uow,
        gate,
        principal,
        email=body.email,
        name=body.name,
        role=Role(body.role),
        permissions=body.permissions,
    )
    response.headers["ETag"] = etag(user.version)
    response.headers["Location"] = f"{router.prefix}/{user.id}"
    return UserOut.of(user)


@router.get("", response_model=UserPage)
async def list_users(
    uow: UnitOfWorkDep,
    principal: Admitted,
    cursor: str | None = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> UserPage:
    found = await users.page(uow, principal, after=created_after(cursor), limit=limit)
    items, next_cursor = created_page(found, limit)
    return UserPage(items=[UserOut.of(u) for u in items], next_cursor=next_cursor)


@router.get("/me", response_model=UserOut)
async def get_me(response: Response, uow: UnitOfWorkDep, principal: Admitted) -> UserOut:
    user = await users.me(uow, principal)
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(
    user_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: Admitted
) -> UserOut:
    user = await users.get(uow, principal, user_id)
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.patch("/{user_id}", response_model=UserOut)
async def patch_user(
    user_id: uuid.UUID,
    body: UserPatch,
    response: Response,
    uow: UnitOfWorkDep,
    principal: Admitted,
    if_match: IfMatch = None,
) -> UserOut:
    changes = patch_changes(body, ("name", "role", "permissions"))
    user = await users.assign(
        uow,
        principal,
        user_id,
        role=Role(changes["role"]) if "role" in changes else None,
        permissions=body.permissions if "permissions" in changes else None,
        name=changes.get("name"),
        expected_version=expected_version(if_match),
    )
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.post("/{user_id}/invitation", response_model=UserOut)
async def reinvite_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, gate: GateDep, principal: Admitted
) -> UserOut:
    """Sends the invitation again (the earlier link stops working)."""
    return UserOut.of(await users.reinvite(uow, gate, principal, user_id))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def disable_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, gate: GateDep, principal: Admitted
) -> Response:
    """Disables the user (kept for the record) and ends their sessions at once."""
    await users.disable(uow, gate, principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
