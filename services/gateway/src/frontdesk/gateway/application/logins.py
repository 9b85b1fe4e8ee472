"""Logins: password logins of staff, sign-in links of customers, invitations and password
resets, refresh with rotation and reuse detection, logout and "log out everywhere".

Every login starts a session and gives a short-lived access token (signed with the active
key, carrying the role and permissions as they are now) and a refresh token. Ending a
session commits first and then tells Redis, so the gateway refuses the session's access
tokens at once for every service behind it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from frontdesk.contracts.identity import AccountEmailKind, AccountEmailRequested, LoginSucceeded
from frontdesk.gateway.adapters.accounts import (
    ContactRepository,
    CustomerAccountRepository,
    UserRepository,
)
from frontdesk.gateway.adapters.passwords import hash_password, needs_rehash, verify_password
from frontdesk.gateway.adapters.sessions import (
    OneTimeTokenRepository,
    RefreshTokenRepository,
    SessionRepository,
    revoked_since,
)
from frontdesk.gateway.adapters.tenants import TenantsRepository, tenant_by_slug
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.domain.accounts import (
    LINK,
    PASSWORD,
    CustomerAccount,
    User,
    normalise_email,
)
from frontdesk.gateway.domain.passwords import check_password
from frontdesk.gateway.domain.secrets import digest, new_secret, read_secret
from frontdesk.gateway.domain.sessions import CUSTOMER, STAFF, LoginSession, Refresh
from frontdesk.gateway.domain.tenants import Tenant
from frontdesk.kit.auth import Permission, Principal, Role, sign, token_claims
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.problems import Unauthorized
from frontdesk.kit.uow import UnitOfWork

# Where the console and self-service pages take the secrets links carry.
INVITATION_PAGE = "/console/accept-invitation"
RESET_PAGE = "/console/reset-password"
SIGN_IN_PAGE = "/me/sign-in"

INVITATION, PASSWORD_RESET, LOGIN_LINK = "invitation", "password_reset", "login_link"


@dataclasses.dataclass(frozen=True)
class Client:
    """Who is logging in, as far as the request tells (kept on the session)."""

    address: str | None = None
    user_agent: str | None = None


@dataclasses.dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role


def utcnow() -> datetime:
    return datetime.now(UTC)


def refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers={"WWW-Authenticate": "Bearer"})


async def find_tenant(uow: UnitOfWork, ref: str) -> Tenant | None:
    """A tenant named by its slug or its id."""
    try:
        tenant_id = uuid.UUID(ref)
    except ValueError:
        return await tenant_by_slug(uow.session, ref.strip().lower())
    return await TenantsRepository(uow.session, tenant_id).get(tenant_id)


async def require_tenant(uow: UnitOfWork, tenant_id: uuid.UUID) -> Tenant:
    return await TenantsRepository(uow.session, tenant_id).require(tenant_id)


# --- tokens ------------------------------------------------------------------------------


async def _grant(
    uow: UnitOfWork,
    gate: Gate,
    session: LoginSession,
    *,
    sub: str,
    role: Role,
    permissions: Sequence[Permission] = (),
    name: str | None = None,
) -> TokenPair:
    settings = gate.settings
    secret = new_secret(session.tenant_id)
    refresh_ttl = settings.refresh_token_ttl_seconds
    await RefreshTokenRepository(uow.session, session.tenant_id).add(
        session.id, digest(secret), utcnow() + timedelta(seconds=refresh_ttl)
    )
    claims = token_claims(
        settings,
        tenant_id=session.tenant_id,
        role=role,
        permissions=list(permissions),
        sub=sub,
        name=name,
        ttl_seconds=settings.access_token_ttl_seconds,
        session_id=str(session.id),
    )
    return TokenPair(
        access_token=sign(claims, await gate.signing_key()),
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=secret,
        refresh_expires_in=refresh_ttl,
        session_id=session.id,
        tenant_id=session.tenant_id,
        role=role,
    )


async def _staff_login(
    uow: UnitOfWork, gate: Gate, user: User, *, method: str, client: Client
) -> TokenPair:
    now = utcnow()
    user.logged_in(now)
    await UserRepository(uow.session, user.tenant_id).save(user)
    session = LoginSession.start(
        user.tenant_id, user.id, kind=STAFF, method=method, **dataclasses.asdict(client)
    )
    await SessionRepository(uow.session, user.tenant_id).add(session)
    pair = await _grant(
        uow,
        gate,
        session,
        sub=str(user.id),
        role=user.role_enum,
        permissions=user.permission_set,
        name=user.name,
    )
    uow.publish(
        LoginSucceeded(
            account_id=user.id,
            kind="staff",
            role=user.role,
            method=method,  # type: ignore[arg-type]
            session_id=session.id,
        ),
        tenant_id=user.tenant_id,
        aggregate_id=user.id,
        aggregate_version=user.version,
    )
    return pair


async def _customer_login(
    uow: UnitOfWork, gate: Gate, account: CustomerAccount, *, method: str, client: Client
) -> TokenPair:
    now = utcnow()
    account.logged_in(now)
    await CustomerAccountRepository(uow.session, account.tenant_id).save(account)
    session = LoginSession.start(
        account.tenant_id, account.id, kind=CUSTOMER, method=method, **dataclasses.asdict(client)
    )
    await SessionRepository(uow.session, account.tenant_id).add(session)
    contact = await ContactRepository(uow.session, account.tenant_id).get(account.customer_id)
    pair = await _grant(
        uow,
        gate,
        session,
        sub=str(account.customer_id),
        role=Role.customer,
        name=contact["first_name"] if contact else None,
    )
    uow.publish(
        LoginSucceeded(
            account_id=account.id,
            kind="customer",
            customer_id=account.customer_id,
            role=Role.customer.value,
            method=method,  # type: ignore[arg-type]
            session_id=session.id,
        ),
        tenant_id=account.tenant_id,
        aggregate_id=account.id,
        aggregate_version=account.version,
    )
    return pair


# --- staff -------------------------------------------------------------------------------


async def login(
    uow: UnitOfWork, gate: Gate, *, tenant: str, email: str, password: str, client: Client
) -> TokenPair:
    """A staff login; one answer for a wrong tenant, email or password (and equally slow)."""
    found = await find_tenant(uow, tenant)
    user = (
        None
        if found is None
        else await UserRepository(uow.session, found.id).by_email(
            normalise_email(email), for_update=True
        )
    )
    usable = user is not None and user.can_log_in
    if not await verify_password(user.password_hash if usable and user else None, password):
        raise refused("The tenant, email or password is wrong.")
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.change(password_hash=await hash_password(password))
    pair = await _staff_login(uow, gate, user, method="password", client=client)
    await uow.commit()
    return pair


async def create_owner(
    uow: UnitOfWork, tenant: Tenant, *, email: str, name: str, password: str
) -> User:
    check_password(password, email, "owner.password")
    user = User.founder(tenant.id, email, name, await hash_password(password))
    return await UserRepository(uow.session, tenant.id).add(user)


async def login_founder(uow: UnitOfWork, gate: Gate, user: User, client: Client) -> TokenPair:
    return await _staff_login(uow, gate, user, method="password", client=client)


async def issue_invitation(uow: UnitOfWork, gate: Gate, tenant: Tenant, user: User) -> None:
    """A new invitation link for ``user`` (earlier ones stop working), sent by email."""
    await _email_link(
        uow,
        gate,
        tenant,
        purpose=INVITATION,
        kind="staff_invitation",
        account_id=user.id,
        email=user.email,
        name=user.name,
        page=INVITATION_PAGE,
        ttl=gate.settings.invitation_ttl_seconds,
        version=user.version,
    )


async def accept_invitation(
    uow: UnitOfWork, gate: Gate, *, token: str, password: str, name: str | None, client: Client
) -> TokenPair:
    user = await _take(uow, INVITATION, token)
    check_password(password, user.email)
    user.accept(await hash_password(password), name)
    pair = await _staff_login(uow, gate, user, method="invitation", client=client)
    await uow.commit()
    return pair


async def request_password_reset(uow: UnitOfWork, gate: Gate, *, tenant: str, email: str) -> None:
    """Sends a reset link if such an active account exists; the answer is the same either
    way (nobody learns which emails have accounts)."""
    found = await find_tenant(uow, tenant)
    if found is None:
        return
    user = await UserRepository(uow.session, found.id).by_email(normalise_email(email))
    if user is None or not user.can_log_in:
        return
    await _email_link(
        uow,
        gate,
        found,
        purpose=PASSWORD_RESET,
        kind="password_reset",
        account_id=user.id,
        email=user.email,
        name=user.name,
        page=RESET_PAGE,
        ttl=gate.settings.password_reset_ttl_seconds,
        version=user.version,
    )
    await uow.commit()


async def reset_password(
    uow: UnitOfWork, gate: Gate, *, token: str, password: str, client: Client
) -> TokenPair:
    """A new password ends every session of the account, then logs in afresh. A password
    that breaks the rule keeps the link usable (nothing commits)."""
    user = await _take(uow, PASSWORD_RESET, token)
    check_password(password, user.email)
    user.set_password(await hash_password(password))
    ended = await _end_sessions(uow, user.tenant_id, user.id, "password reset")
    pair = await _staff_login(uow, gate, user, method="password_reset", client=client)
    await uow.commit()
    await _tell_revoked(gate, ended)
    return pair


async def _take(uow: UnitOfWork, purpose: str, token: str) -> User:
    parsed = read_secret(token)
    if parsed is None:
        raise RuleBroken("token", "is not a valid link")
    tenant_id, token_hash = parsed
    account_id = await OneTimeTokenRepository(uow.session, tenant_id).take(
        purpose, token_hash, utcnow()
    )
    user = (
        None
        if account_id is None
        else await UserRepository(uow.session, tenant_id).get(account_id, for_update=True)
    )
    if user is None:
        raise RuleBroken("token", "this link is unknown, used or expired")
    return user


async def _email_link(
    uow: UnitOfWork,
    gate: Gate,
    tenant: Tenant,
    *,
    purpose: str,
    kind: AccountEmailKind,
    account_id: uuid.UUID,
    email: str,
    name: str | None,
    page: str,
    ttl: int,
    version: int,
    customer_id: uuid.UUID | None = None,
) -> None:
    secret = new_secret(tenant.id)
    expires_at = utcnow() + timedelta(seconds=ttl)
    await OneTimeTokenRepository(uow.session, tenant.id).replace(
        purpose, account_id, digest(secret), expires_at
    )
    uow.publish(
        AccountEmailRequested(
            request_id=uuid.uuid4(),
            kind=kind,
            email=email,
            name=name,
            account_id=account_id,
            customer_id=customer_id,
            link=f"{gate.settings.public_url.rstrip('/')}{page}?token={secret}",
            expires_at=expires_at,
            language=tenant.language,
            tenant_name=tenant.name,
        ),
        tenant_id=tenant.id,
        aggregate_id=account_id,
        aggregate_version=version,
    )


# --- customers ---------------------------------------------------------------------------


async def request_sign_in_link(uow: UnitOfWork, gate: Gate, *, tenant: str, email: str) -> None:
    """Emails a one-time sign-in link to a customer of the tenant with this email (the
    account is opened on first use); the answer is the same whether or not there is one."""
    found = await find_tenant(uow, tenant)
    if found is None:
        return
    contacts = await ContactRepository(uow.session, found.id).by_email(normalise_email(email))
    if not contacts:
        return
    account = await open_account(uow, found.id, contacts[0]["customer_id"], contacts[0]["email"])
    await _email_link(
        uow,
        gate,
        found,
        purpose=LOGIN_LINK,
        kind="login_link",
        account_id=account.id,
        email=account.email,
        name=contacts[0]["first_name"],
        page=SIGN_IN_PAGE,
        ttl=gate.settings.login_link_ttl_seconds,
        version=account.version,
        customer_id=account.customer_id,
    )
    await uow.commit()


async def open_account(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, email: str
) -> CustomerAccount:
    """The customer's account, opened (and announced) if it has none."""
    repo = CustomerAccountRepository(uow.session, tenant_id)
    account = await repo.by_customer(customer_id, for_update=True)
    if account is None:
        account = await repo.add(CustomerAccount.open(tenant_id, customer_id, email))
        uow.publish_recorded(account)
    elif account.email != normalise_email(email):
        account.change(email=normalise_email(email))
        await repo.save(account)
    return account


async def welcome_customer(
    uow: UnitOfWork, gate: Gate, principal: Principal, customer_id: uuid.UUID
) -> CustomerAccount:
    """Staff open a customer's account: a welcome email with a sign-in link."""
    tenant = await require_tenant(uow, principal.tenant_id)
    contact = await ContactRepository(uow.session, tenant.id).get(customer_id)
    if contact is None:
        raise NotFoundError.of("customer")
    if not contact["email"]:
        raise RuleBroken("customer_id", "this customer has no email address")
    account = await open_account(uow, tenant.id, customer_id, contact["email"])
    await _email_link(
        uow,
        gate,
        tenant,
        purpose=LOGIN_LINK,
        kind="welcome",
        account_id=account.id,
        email=account.email,
        name=contact["first_name"],
        page=SIGN_IN_PAGE,
        ttl=gate.settings.invitation_ttl_seconds,
        version=account.version,
        customer_id=customer_id,
    )
    await uow.commit()
    return account


async def redeem_sign_in_link(
    uow: UnitOfWork, gate: Gate, *, token: str, client: Client
) -> TokenPair:
    parsed = read_secret(token)
    if parsed is None:
        raise RuleBroken("token", "is not a valid link")
    tenant_id, token_hash = parsed
    account_id = await OneTimeTokenRepository(uow.session, tenant_id).take(
        LOGIN_LINK, token_hash, utcnow()
    )
    account = (
        None
        if account_id is None
        else await CustomerAccountRepository(uow.session, tenant_id).get(
            account_id, for_update=True
        )
    )
    if account is None:
        raise RuleBroken("token", "this link is unknown, used or expired")
    pair = await _customer_login(uow, gate, account, method=LINK, client=client)
    await uow.commit()
    return pair


# At most this many accounts share one email in a tenant's password login (each costs a
# hash check; customers sharing an email each have their own account and password).
SHARED_EMAIL_LIMIT = 5


async def customer_login(
    uow: UnitOfWork, gate: Gate, *, tenant: str, email: str, password: str, client: Client
) -> TokenPair:
    """A customer's password login: the same tokens and login event as a sign-in link.
    One answer for a wrong tenant, email or password, or an account without a password
    (and equally slow)."""
    found = await find_tenant(uow, tenant)
    accounts = (
        []
        if found is None
        else await CustomerAccountRepository(uow.session, found.id).with_password(
            normalise_email(email), limit=SHARED_EMAIL_LIMIT
        )
    )
    account = None
    for candidate in accounts:
        if await verify_password(candidate.password_hash, password):
            account = candidate
            break
    if not accounts:
        await verify_password(None, password)  # as slow as a wrong password
    if account is None:
        raise refused("The studio, email or password is wrong.")
    assert account.password_hash is not None
    if needs_rehash(account.password_hash):
        account.rehashed(await hash_password(password))
    pair = await _customer_login(uow, gate, account, method=PASSWORD, client=client)
    await uow.commit()
    return pair


async def _own_account(
    uow: UnitOfWork, principal: Principal, *, for_update: bool = False
) -> CustomerAccount:
    customer_id = principal.customer_id
    account = (
        None
        if customer_id is None
        else await CustomerAccountRepository(uow.session, principal.tenant_id).by_customer(
            customer_id, for_update=for_update
        )
    )
    if account is None:
        raise NotFoundError.of("customer account")
    return account


async def customer_password(uow: UnitOfWork, principal: Principal) -> CustomerAccount:
    """The signed-in customer's account (whether a password is set, and since when)."""
    return await _own_account(uow, principal)


async def _session_of(uow: UnitOfWork, principal: Principal) -> LoginSession | None:
    """The login session the token belongs to (None for a token of no session)."""
    try:
        sid = uuid.UUID(principal.session_id) if principal.session_id else None
    except ValueError:
        return None
    return (
        None if sid is None else await SessionRepository(uow.session, principal.tenant_id).get(sid)
    )


async def set_customer_password(
    uow: UnitOfWork,
    gate: Gate,
    principal: Principal,
    *,
    password: str,
    current_password: str | None,
) -> tuple[CustomerAccount, int]:
    """The signed-in customer sets or changes their password; every other session of the
    account ends (a changed password shuts out whoever knew the old one), this one goes
    on. The account and how many sessions ended."""
    account = await _own_account(uow, principal, for_update=True)
    session = await _session_of(uow, principal)
    now = utcnow()
    fresh_since = now - timedelta(seconds=gate.settings.password_reset_ttl_seconds)
    if account.needs_current_password(
        session_method=session.method if session else None,
        session_started=session.created_at if session else None,
        fresh_since=fresh_since,
    ):
        if not current_password:
            raise RuleBroken(
                "current_password",
                "is needed to change your password (or sign in by an emailed link first)",
            )
        if not await verify_password(account.password_hash, current_password):
            raise RuleBroken("current_password", "is not your current password")
    check_password(password, account.email)
    account.set_password(await hash_password(password), now)
    await CustomerAccountRepository(uow.session, account.tenant_id).save(account)
    ended = await _end_sessions(
        uow, account.tenant_id, account.id, "password changed", keep=session.id if session else None
    )
    await uow.commit()
    await _tell_revoked(gate, ended)
    return account, len(ended)


# --- refresh and logout ------------------------------------------------------------------


async def refresh(uow: UnitOfWork, gate: Gate, *, refresh_token: str, client: Client) -> TokenPair:
    """The next tokens of the session. A refresh token used a second time revokes its
    whole session (its family) and is refused."""
    parsed = read_secret(refresh_token)
    if parsed is None:
        raise refused("Not a refresh token.")
    tenant_id, token_hash = parsed
    tokens = RefreshTokenRepository(uow.session, tenant_id)
    row = await tokens.by_hash(token_hash)
    if row is None:
        raise refused("Unknown refresh token.")
    sessions = SessionRepository(uow.session, tenant_id)
    session = await sessions.require(row["session_id"], for_update=True)
    now = utcnow()
    outcome = session.judge_refresh(used_at=row["used_at"], expires_at=row["expires_at"], now=now)
    if outcome is Refresh.REUSED:
        session.revoke("refresh token reused", now)
        await sessions.save(session)
        await uow.commit()
        await _tell_revoked(gate, [session])
        raise refused("This refresh token was used before: its session is ended. Log in again.")
    if outcome is not Refresh.ROTATE:
        raise refused(f"The session is {'ended' if outcome is Refresh.REVOKED else 'expired'}.")
    await tokens.mark_used(row["id"], now)
    session.used(now)
    if session.kind == STAFF:
        user = await UserRepository(uow.session, tenant_id).get(session.account_id)
        if user is None or not user.can_log_in:
            return await _refuse_ended(uow, gate, sessions, session, "account disabled")
        await sessions.save(session)
        pair = await _grant(
            uow,
            gate,
            session,
            sub=str(user.id),
            role=user.role_enum,
            permissions=user.permission_set,
            name=user.name,
        )
    else:
        account = await CustomerAccountRepository(uow.session, tenant_id).get(session.account_id)
        if account is None:
            return await _refuse_ended(uow, gate, sessions, session, "account closed")
        await sessions.save(session)
        contact = await ContactRepository(uow.session, tenant_id).get(account.customer_id)
        pair = await _grant(
            uow,
            gate,
            session,
            sub=str(account.customer_id),
            role=Role.customer,
            name=contact["first_name"] if contact else None,
        )
    await uow.commit()
    return pair


async def _refuse_ended(
    uow: UnitOfWork, gate: Gate, sessions: SessionRepository, session: LoginSession, reason: str
) -> TokenPair:
    session.revoke(reason, utcnow())
    await sessions.save(session)
    await uow.commit()
    await _tell_revoked(gate, [session])
    raise refused("This account can no longer log in.")


def account_of(principal: Principal) -> tuple[str, str]:
    """The kind of account a principal's token was given to, and the sub naming it."""
    return (CUSTOMER if principal.is_customer else STAFF), principal.sub


async def logout(uow: UnitOfWork, gate: Gate, principal: Principal) -> None:
    """Ends the session of the token used (its refresh tokens and access tokens)."""
    if principal.session_id is None:
        return  # a development token belongs to no session
    sessions = SessionRepository(uow.session, principal.tenant_id)
    session = await sessions.get(uuid.UUID(principal.session_id), for_update=True)
    if session is None or not session.revoke("logout", utcnow()):
        return
    await sessions.save(session)
    await uow.commit()
    await _tell_revoked(gate, [session])


async def logout_everywhere(uow: UnitOfWork, gate: Gate, principal: Principal) -> int:
    """Ends every session of the principal's account; how many there were."""
    account_id = await _account_id(uow, principal)
    if account_id is None:
        return 0
    ended = await _end_sessions(uow, principal.tenant_id, account_id, "logout everywhere")
    await uow.commit()
    await _tell_revoked(gate, ended)
    return len(ended)


async def end_account_sessions(
    uow: UnitOfWork, tenant_id: uuid.UUID, account_id: uuid.UUID, reason: str
) -> list[LoginSession]:
    """For callers that commit themselves (then ``tell_revoked``)."""
    return await _end_sessions(uow, tenant_id, account_id, reason)


async def _account_id(uow: UnitOfWork, principal: Principal) -> uuid.UUID | None:
    if principal.is_customer:
        account = await CustomerAccountRepository(uow.session, principal.tenant_id).by_customer(
            uuid.UUID(principal.sub)
        )
        return None if account is None else account.id
    try:
        return uuid.UUID(principal.sub)
    except ValueError:
        return None


async def _end_sessions(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    reason: str,
    keep: uuid.UUID | None = None,
) -> list[LoginSession]:
    sessions = SessionRepository(uow.session, tenant_id)
    now = utcnow()
    ended = []
    for session in await sessions.active_of(account_id):
        if session.id != keep and session.revoke(reason, now):
            await sessions.save(session)
            ended.append(session)
    return ended


async def tell_revoked(gate: Gate, sessions: Sequence[LoginSession]) -> None:
    await _tell_revoked(gate, sessions)


async def _tell_revoked(gate: Gate, sessions: Sequence[LoginSession]) -> None:
    """After the commit: the gateway refuses these sessions' access tokens from now on
    (kept in Redis as long as such a token can live)."""
    await gate.redis.revoke(
        [str(s.id) for s in sessions], gate.settings.access_token_ttl_seconds + 60
    )


async def session_revoked(uow: UnitOfWork, gate: Gate, principal: Principal) -> bool:
    """Whether the token's session was ended (Redis first, the database when it is away)."""
    if principal.session_id is None:
        return False
    _, revoked = await gate.redis.admit([], principal.session_id)
    if revoked is None:
        return await session_revoked_in_database(uow, principal)
    return revoked


async def session_revoked_in_database(uow: UnitOfWork, principal: Principal) -> bool:
    if principal.session_id is None:
        return False
    try:
        sid = uuid.UUID(principal.session_id)
    except ValueError:
        return True
    found = await SessionRepository(uow.session, principal.tenant_id).revoked_ids([sid])
    return sid in found


async def repeat_revocations(gate: Gate, since: datetime) -> datetime:
    """Tell Redis again of every session ended after ``since`` (the database is the truth:
    this covers revocations made while Redis was away, and those of the worker's own
    handlers); the time to start from next."""
    async with gate.runtime.uow() as uow:
        rows = await revoked_since(uow.session, since)
    if rows and await gate.redis.revoke(
        [str(r["id"]) for r in rows], gate.settings.access_token_ttl_seconds + 60
    ):
        latest: datetime = max(r["revoked_at"] for r in rows)
        return latest
    return since
