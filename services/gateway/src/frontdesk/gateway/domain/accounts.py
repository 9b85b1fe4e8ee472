"""Accounts: staff users of a tenant, and customers' self-service accounts.

Who manages whom (the owner is the tenant's founder; there is one):
- the owner invites and changes admins and staff;
- an admin invites and changes staff only, and grants no more than staff permissions;
- staff manage nobody; nobody changes or disables themselves or the owner.
A role or permission change takes effect at the account's next access token (a refresh),
as tokens carry them; disabling an account ends its sessions at once.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Self

from frontdesk.contracts.identity import CustomerAccountCreated
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.auth import Permission, Principal, Role
from frontdesk.kit.errors import ConflictError, NotAllowed, RuleBroken

STAFF_ROLES = (Role.owner, Role.admin, Role.staff)
INVITED, ACTIVE, DISABLED = "invited", "active", "disabled"
# How a customer's session was started (``LoginSession.method``).
LINK, PASSWORD = "link", "password"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _may_manage(by: Principal, role: Role) -> bool:
    if by.role is Role.owner:
        return role in (Role.admin, Role.staff)
    if by.role is Role.admin:
        return role is Role.staff
    return False


def _permissions(role: Role, permissions: Iterable[Permission]) -> list[str]:
    """Owners and admins may do everything already; permissions are for staff."""
    return sorted({p.value for p in permissions}) if role is Role.staff else []


@dataclasses.dataclass(kw_only=True, eq=False)
class User(Aggregate):
    email: str
    name: str
    role: str
    permissions: list[str] = dataclasses.field(default_factory=list)
    password_hash: str | None = None
    status: str = INVITED
    last_login_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def founder(cls, tenant_id: uuid.UUID, email: str, name: str, password_hash: str) -> Self:
        """The owner, created with the tenant."""
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            email=normalise_email(email),
            name=name,
            role=Role.owner.value,
            password_hash=password_hash,
            status=ACTIVE,
        )

    @classmethod
    def invite(
        cls,
        by: Principal,
        *,
        email: str,
        name: str,
        role: Role,
        permissions: Iterable[Permission] = (),
    ) -> Self:
        if role not in STAFF_ROLES or role is Role.owner:
            raise RuleBroken("role", "an invitation is for an admin or a staff member")
        if not _may_manage(by, role):
            raise NotAllowed(f"A {by.role.value} cannot invite a {role.value}.")
        return cls(
            id=uuid.uuid4(),
            tenant_id=by.tenant_id,
            email=normalise_email(email),
            name=name,
            role=role.value,
            permissions=_permissions(role, permissions),
        )

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def permission_set(self) -> list[Permission]:
        return [Permission(p) for p in self.permissions]

    @property
    def can_log_in(self) -> bool:
        return self.status == ACTIVE and self.password_hash is not None

    def ensure_managed_by(self, by: Principal) -> None:
        if str(self.id) == by.sub:
            raise NotAllowed("Nobody changes their own role, permissions or access.")
        if not _may_manage(by, self.role_enum):
            raise NotAllowed(f"A {by.role.value} cannot change a {self.role}.")

    def reinvite(self, by: Principal) -> None:
        self.ensure_managed_by(by)
        if self.status != INVITED:
            raise ConflictError("This account has accepted its invitation already.")

    def accept(self, password_hash: str, name: str | None = None) -> None:
        if self.status != INVITED:
            raise ConflictError("This invitation was used already.", field="token")
        self.change(password_hash=password_hash, status=ACTIVE, **({"name": name} if name else {}))

    def set_password(self, password_hash: str) -> None:
        if self.status == DISABLED:
            raise ConflictError("This account is disabled.")
        self.change(password_hash=password_hash, status=ACTIVE)

    def assign(
        self,
        by: Principal,
        *,
        role: Role | None = None,
        permissions: Iterable[Permission] | None = None,
        name: str | None = None,
    ) -> None:
        self.ensure_managed_by(by)
        new_role = role or self.role_enum
        if role is not None and not _may_manage(by, role):
            raise NotAllowed(f"A {by.role.value} cannot make anyone a {role.value}.")
        granted = self.permission_set if permissions is None else list(permissions)
        changes: dict[str, object] = {
            "role": new_role.value,
            "permissions": _permissions(new_role, granted),
        }
        if name is not None:
            changes["name"] = name
        self.change(**{k: v for k, v in changes.items() if getattr(self, k) != v})

    def disable(self, by: Principal) -> None:
        self.ensure_managed_by(by)
        self.change(status=DISABLED)

    def logged_in(self, now: datetime) -> None:
        self.change(last_login_at=now)


@dataclasses.dataclass(kw_only=True, eq=False)
class CustomerAccount(Aggregate):
    """A customer's self-service account: signs in as that customer by emailed link, or
    by a password the customer set once signed in.

    Changing a password that is set needs the current one, except in a session a sign-in
    link started a short while ago: the link proves the email, so it is also how a
    forgotten password is reset."""

    customer_id: uuid.UUID
    email: str
    # argon2id; None: the account signs in by link only.
    password_hash: str | None = dataclasses.field(default=None, repr=False)
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def open(cls, tenant_id: uuid.UUID, customer_id: uuid.UUID, email: str) -> Self:
        account = cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            email=normalise_email(email),
        )
        account.record(CustomerAccountCreated(account_id=account.id, customer_id=customer_id))
        return account

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def needs_current_password(
        self, *, session_method: str | None, session_started: datetime | None, fresh_since: datetime
    ) -> bool:
        """Whether a new password needs the current one: always once one is set, unless
        this session was started by a sign-in link after ``fresh_since``."""
        if not self.has_password:
            return False
        fresh = session_started is not None and session_started >= fresh_since
        return not (session_method == LINK and fresh)

    def set_password(self, password_hash: str, now: datetime) -> None:
        self.change(password_hash=password_hash, password_changed_at=now)

    def rehashed(self, password_hash: str) -> None:
        """The same password under today's hashing parameters (not a change)."""
        self.change(password_hash=password_hash)

    def logged_in(self, now: datetime) -> None:
        self.change(last_login_at=now)
