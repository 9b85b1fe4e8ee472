"""JWT bearer auth: roles and permissions as FastAPI dependencies.

The tenant always comes from the token, never from the request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from frontdesk.kit.problems import Forbidden, Unauthorized
from frontdesk.kit.settings import Settings

ALGORITHM = "HS256"


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    staff = "staff"
    customer = "customer"


class Permission(StrEnum):
    add_participants = "add_participants"
    send_emails = "send_emails"
    view_notes = "view_notes"
    manage_credits = "manage_credits"
    manage_billing = "manage_billing"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str
    tenant_id: uuid.UUID
    role: Role
    permissions: frozenset[Permission] = frozenset()
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.owner, Role.admin)

    @property
    def is_customer(self) -> bool:
        return self.role is Role.customer

    def can(self, permission: Permission) -> bool:
        return self.is_admin or (self.role is Role.staff and permission in self.permissions)

    @property
    def customer_id(self) -> uuid.UUID | None:
        """For a customer token, the customer it belongs to."""
        if not self.is_customer:
            return None
        try:
            return uuid.UUID(self.sub)
        except ValueError:
            return None


def issue_token(
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    role: Role,
    permissions: list[Permission] | None = None,
    sub: str | None = None,
    name: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + (ttl_seconds or settings.jwt_ttl_seconds),
        "sub": sub or str(uuid.uuid4()),
        "tid": str(tenant_id),
        "role": role.value,
        "perms": [p.value for p in permissions or []],
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return Principal(
            sub=claims["sub"],
            tenant_id=uuid.UUID(claims["tid"]),
            role=Role(claims["role"]),
            permissions=frozenset(Permission(p) for p in claims.get("perms", [])),
            name=claims.get("name"),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as error:
        raise Unauthorized(
            f"Invalid token: {error}", headers={"WWW-Authenticate": "Bearer"}
        ) from None


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    settings: Settings = request.app.state.runtime.settings
    return decode_token(settings, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def staff_principal(principal: CurrentPrincipal) -> Principal:
    """Owner, admin or staff: anyone working for the tenant, never a customer."""
    if principal.is_customer:
        raise Forbidden("This action is for staff.")
    return principal


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: admins and owners pass; staff need ``permission``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"This action needs the '{permission.value}' permission.")
        return principal

    return dependency


def require_admin() -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_admin:
            raise Forbidden("This action is for owners and admins.")
        return principal

    return dependency
