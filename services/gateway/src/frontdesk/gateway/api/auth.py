"""/v1/auth: logins, refresh, logout, invitations, password resets, customers' sign-in
links and customers' own passwords. Everything that checks a password or sends an email
(login, sign-up, asking for a reset or a sign-in link, changing a password) is limited
harder, per address and per account, than the rest of the API; what takes an unguessable
secret (refresh, redeeming a link) is limited like any request."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from frontdesk.gateway.api.common import (
    TOO_MANY,
    Admitted,
    Answers,
    ClientDep,
    GateDep,
    LoginGate,
    PublicGate,
    count_account_attempt,
    problem,
)
from frontdesk.gateway.api.schemas import (
    AccountRef,
    CustomerPasswordIn,
    CustomerPasswordOut,
    InvitationAcceptIn,
    LoggedOut,
    LoginIn,
    PasswordResetIn,
    RedeemIn,
    RefreshIn,
    TokenOut,
)
from frontdesk.gateway.application import logins
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotAllowed
from frontdesk.kit.service import UnitOfWorkDep

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=TOO_MANY)

# Paths served without a token (each checks what it is given instead).
PUBLIC = (
    r"/v1/auth/login",
    r"/v1/auth/refresh",
    r"/v1/auth/password-reset(/confirm)?",
    r"/v1/auth/invitations/accept",
    r"/v1/auth/sign-in-link(/redeem)?",
    r"/v1/auth/customer-login",
)

REFUSED: Answers = {401: problem("Wrong credentials, or a token that is unknown, used or ended")}


@router.post("/login", response_model=TokenOut, responses=REFUSED)
async def login(body: LoginIn, uow: UnitOfWorkDep, gate: LoginGate, client: ClientDep) -> TokenOut:
    """A staff member logs in with the tenant's slug, email and password: a short-lived
    access token and a refresh token (which works once: ``/refresh`` gives the next)."""
    await count_account_attempt(gate, body.tenant, body.email)
    pair = await logins.login(
        uow, gate, tenant=body.tenant, email=body.email, password=body.password, client=client
    )
    return TokenOut.of(pair)


@router.post("/refresh", response_model=TokenOut, responses=REFUSED)
async def refresh(
    body: RefreshIn, uow: UnitOfWorkDep, gate: LoginGate, client: ClientDep
) -> TokenOut:
    """The next access and refresh tokens, with the account's role and permissions as
    they are now. A refresh token presented twice ends its whole session (401)."""
    return TokenOut.of(
        await logins.refresh(uow, gate, refresh_token=body.refresh_token, client=client)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(uow: UnitOfWorkDep, gate: GateDep, principal: Admitted) -> Response:
    """Ends this token's session: its refresh token and its access tokens stop working."""
    await logins.logout(uow, gate, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-everywhere", response_model=LoggedOut)
async def logout_everywhere(uow: UnitOfWorkDep, gate: GateDep, principal: Admitted) -> LoggedOut:
    """Ends every session of this account, on every device."""
    return LoggedOut(sessions_ended=await logins.logout_everywhere(uow, gate, principal))


@router.post("/invitations/accept", response_model=TokenOut, responses=REFUSED)
async def accept_invitation(
    body: InvitationAcceptIn, uow: UnitOfWorkDep, gate: PublicGate, client: ClientDep
) -> TokenOut:
    """An invited staff member sets a password (and may correct their name), and is
    logged in with the role and permissions the invitation gave."""
    pair = await logins.accept_invitation(
        uow, gate, token=body.token, password=body.password, name=body.name, client=client
    )
    return TokenOut.of(pair)


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(body: AccountRef, uow: UnitOfWorkDep, gate: LoginGate) -> Response:
    """Emails a reset link if the account exists; the answer is 202 either way."""
    await count_account_attempt(gate, body.tenant, body.email)
    await logins.request_password_reset(uow, gate, tenant=body.tenant, email=body.email)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/password-reset/confirm", response_model=TokenOut, responses=REFUSED)
async def reset_password(
    body: PasswordResetIn, uow: UnitOfWorkDep, gate: PublicGate, client: ClientDep
) -> TokenOut:
    """Sets the new password from an emailed link: every other session of the account
    ends, and this one is logged in."""
    pair = await logins.reset_password(
        uow, gate, token=body.token, password=body.password, client=client
    )
    return TokenOut.of(pair)


@router.post("/sign-in-link", status_code=status.HTTP_202_ACCEPTED)
async def request_sign_in_link(body: AccountRef, uow: UnitOfWorkDep, gate: LoginGate) -> Response:
    """A customer asks for a one-time sign-in link by email; 202 whether or not the tenant
    has a customer with that email."""
    await count_account_attempt(gate, body.tenant, body.email)
    await logins.request_sign_in_link(uow, gate, tenant=body.tenant, email=body.email)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/sign-in-link/redeem", response_model=TokenOut, responses=REFUSED)
async def redeem_sign_in_link(
    body: RedeemIn, uow: UnitOfWorkDep, gate: PublicGate, client: ClientDep
) -> TokenOut:
    """The link's secret, once: a ``customer`` token for the customer's own data."""
    return TokenOut.of(await logins.redeem_sign_in_link(uow, gate, token=body.token, client=client))


@router.post("/customer-login", response_model=TokenOut, responses=REFUSED)
async def customer_login(
    body: LoginIn, uow: UnitOfWorkDep, gate: LoginGate, client: ClientDep
) -> TokenOut:
    """A customer signs in with the studio's slug, email and the password they set: the
    same ``customer`` token and refresh token a sign-in link gives. Forgot it? A sign-in
    link signs them in, and they set a new one."""
    await count_account_attempt(gate, body.tenant, body.email)
    pair = await logins.customer_login(
        uow, gate, tenant=body.tenant, email=body.email, password=body.password, client=client
    )
    return TokenOut.of(pair)


FOR_CUSTOMERS: Answers = {403: problem("Not a customer token"), 404: problem("No account")}


def _customer(principal: Principal) -> Principal:
    if not principal.is_customer:
        raise NotAllowed("This is for customers; staff change passwords by a reset link.")
    return principal


@router.get("/customer-password", response_model=CustomerPasswordOut, responses=FOR_CUSTOMERS)
async def customer_password(uow: UnitOfWorkDep, principal: Admitted) -> CustomerPasswordOut:
    """Whether the signed-in customer has set a password, and when."""
    return CustomerPasswordOut.of(await logins.customer_password(uow, _customer(principal)))


@router.put("/customer-password", response_model=CustomerPasswordOut, responses=FOR_CUSTOMERS)
async def set_customer_password(
    body: CustomerPasswordIn, uow: UnitOfWorkDep, gate: LoginGate, principal: Admitted
) -> CustomerPasswordOut:
    """The signed-in customer sets or changes their password (limited like a login: it
    may check the current one). Every other session of the account ends."""
    customer = _customer(principal)
    await count_account_attempt(gate, str(customer.tenant_id), customer.sub)
    account, ended = await logins.set_customer_password(
        uow,
        gate,
        customer,
        password=body.password,
        current_password=body.current_password,
    )
    return CustomerPasswordOut.of(account, ended)
