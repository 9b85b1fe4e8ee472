"""Staff users: the owner (and admins, for staff) invite by email with a role and
permissions; changes take effect at the user's next access token; disabling a user ends
their sessions at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from frontdesk.gateway.adapters.accounts import UserRepository
from frontdesk.gateway.adapters.common import CreatedKey
from frontdesk.gateway.application import logins
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.domain.accounts import User, normalise_email
from frontdesk.kit.auth import Permission, Principal, Role
from frontdesk.kit.errors import ConflictError, NotAllowed, NotFoundError
from frontdesk.kit.uow import UnitOfWork


def _managers_only(principal: Principal) -> None:
    if not principal.is_admin:
        raise NotAllowed("Only the owner and admins manage users.")


async def invite(
    uow: UnitOfWork,
    gate: Gate,
    principal: Principal,
    *,
    email: str,
    name: str,
    role: Role,
    permissions: Iterable[Permission],
) -> User:
    _managers_only(principal)
    tenant = await logins.require_tenant(uow, principal.tenant_id)
    repo = UserRepository(uow.session, principal.tenant_id)
    if await repo.by_email(normalise_email(email)) is not None:
        raise ConflictError("A user with this email exists in this tenant.", field="email")
    user = User.invite(principal, email=email, name=name, role=role, permissions=permissions)
    await repo.add(user)
    await logins.issue_invitation(uow, gate, tenant, user)
    await uow.commit()
    return user


async def reinvite(uow: UnitOfWork, gate: Gate, principal: Principal, user_id: uuid.UUID) -> User:
    _managers_only(principal)
    tenant = await logins.require_tenant(uow, principal.tenant_id)
    user = await UserRepository(uow.session, principal.tenant_id).require(user_id, for_update=True)
    user.reinvite(principal)
    await logins.issue_invitation(uow, gate, tenant, user)
    await uow.commit()
    return user


async def page(
    uow: UnitOfWork, principal: Principal, *, after: CreatedKey | None, limit: int
) -> list[User]:
    _managers_only(principal)
    return list(await UserRepository(uow.session, principal.tenant_id).page(limit + 1, after))


async def get(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID) -> User:
    if not principal.is_admin and principal.sub != str(user_id):
        raise NotFoundError.of("user")
    return await UserRepository(uow.session, principal.tenant_id).require(user_id)


async def me(uow: UnitOfWork, principal: Principal) -> User:
    try:
        user_id = uuid.UUID(principal.sub)
    except ValueError:
        raise NotFoundError.of("user") from None
    return await UserRepository(uow.session, principal.tenant_id).require(user_id)


async def assign(
    uow: UnitOfWork,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    role: Role | None,
    permissions: list[Permission] | None,
    name: str | None,
    expected_version: int | None,
) -> User:
    _managers_only(principal)
    repo = UserRepository(uow.session, principal.tenant_id)
    user = await repo.require(user_id, for_update=True)
    user.require_version(expected_version, "user")
    user.assign(principal, role=role, permissions=permissions, name=name)
    await repo.save(user)
    await uow.commit()
    return user


async def disable(uow: UnitOfWork, gate: Gate, principal: Principal, user_id: uuid.UUID) -> None:
    _managers_only(principal)
    repo = UserRepository(uow.session, principal.tenant_id)
    user = await repo.require(user_id, for_update=True)
    user.disable(principal)
    await repo.save(user)
    ended = await logins.end_account_sessions(uow, principal.tenant_id, user.id, "disabled")
    await uow.commit()
    await logins.tell_revoked(gate, ended)
