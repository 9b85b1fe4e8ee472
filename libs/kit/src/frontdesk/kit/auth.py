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
import orjson
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from frontdesk.kit.errors import NotFoundError
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
        """For a customer token, the customer it belongs to (its ``sub``, checked to be a
        UUID when the token was read)."""
        if not self.is_customer:
            return None
        try:
            return uuid.UUID(self.sub)
        except ValueError:
            return None

    # The one visibility policy: staff see the whole tenant, a customer only itself, and
    # anything of another customer looks as if it were not there (404, never 403).

    def customer_scope(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        """The customer a read is limited to: what was asked for (None: everyone) for
        staff; for a customer token its own id, and asking for anyone else is not found."""
        if not self.is_customer:
            return customer_id
        own = self.customer_id
        if own is None or (customer_id is not None and customer_id != own):
            raise NotFoundError.of("customer")
        return own

    def ensure_sees(self, customer_id: uuid.UUID | None, what: str) -> None:
        """``NotFoundError`` naming ``what`` when a customer token reaches another's data."""
        if self.is_customer and (customer_id is None or customer_id != self.customer_id):
            raise NotFoundError.of(what)


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


class _Claims(BaseModel):
    """What a token must carry, strictly typed: a wrong type is an invalid token (401)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    sub: str = Field(min_length=1, max_length=200)
    tid: uuid.UUID
    role: Role
    perms: list[Permission] = []
    name: str | None = Field(default=None, max_length=200)


def decode_token(settings: Settings, token: str) -> Principal:
    try:
        raw = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        # JSON mode: the UUID and the enums arrive as text, strictly checked.
        claims = _Claims.model_validate_json(orjson.dumps(raw))
        principal = Principal(
            sub=claims.sub,
            tenant_id=claims.tid,
            role=claims.role,
            permissions=frozenset(claims.perms),
            name=claims.name,
        )
        if principal.is_customer and principal.customer_id is None:
            raise ValueError("a customer token's sub must be the customer's id")
        return principal
    except (jwt.PyJWTError, ValidationError, ValueError, TypeError) as error:
        reason = "claims of the wrong type" if isinstance(error, ValidationError) else error
        raise Unauthorized(
            f"Invalid token: {reason}", headers={"WWW-Authenticate": "Bearer"}
        ) from None


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):  # read by the request guard before the body
        return known
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
