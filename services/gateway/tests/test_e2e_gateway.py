"""Through the gateway only, with every service a real process (tests/e2e/running_stack):
an owner signs up and logs in, invites a staff member who sets a password and has only
their permissions at every service; a customer signs in by emailed link and sees only
their own data; a refresh token used twice is refused and ends its family; revoked and
expired tokens are refused for every service; a key rotation keeps old tokens valid;
logins are limited (429 with the headers); a stopped service answers 503.

The emails' links are read from the local SMTP server (notifications' stand-in) when
notifications runs in the stack, else from the gateway's outbox
(``identity.account_email.requested``, what notifications is asked to send)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from running_stack import SERVICES
from sqlalchemy import select

from frontdesk.gateway.adapters.tables import messaging
from frontdesk.gateway.application import keys
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit import db
from frontdesk.kit.auth import Role, issue_token
from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.testing import wait_for
from frontdesk.kit.uow import UnitOfWork

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
TOKEN = re.compile(r"token=([0-9a-f]{32}\.[A-Za-z0-9_-]{43})")
PAGES = {"staff_invitation": "/console/accept-invitation", "login_link": "/me/sign-in"}
# One path of each service behind the gateway (read with an admin token).
READS = {
    "customers": "/v1/customers",
    "credits": "/v1/credit-products",
    "scheduling": "/v1/locations",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class GatewayDatabase:
    """The gateway's own database in the stack: its outbox (the emails asked for) and
    its signing keys (an operator's rotation)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.settings = GatewaySettings(
            service="gateway",
            database_prefix=env["FRONTDESK_DATABASE_PREFIX"],
            **({"pg_url": env["FRONTDESK_PG_URL"]} if "FRONTDESK_PG_URL" in env else {}),
            **(
                {"jwt_secret": env["FRONTDESK_JWT_SECRET"]} if "FRONTDESK_JWT_SECRET" in env else {}
            ),
        )
        self.engine = db.create_engine(self.settings.resolved_database_url(), pool_size=1)
        # Where notifications' SMTP stand-in tells what it received (when it runs).
        self.mail_url = env.get("FRONTDESK_STANDINS_URL") if "notifications" in SERVICES else None

    async def emails(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(messaging.outbox.c.envelope)
                        .where(
                            messaging.outbox.c.routing_key == "identity.account_email.requested.v1"
                        )
                        .order_by(messaging.outbox.c.seq)
                    )
                )
                .scalars()
                .all()
            )
        return list(rows)

    async def link_for(self, email: str, kind: str) -> str:
        """The secret of the newest link of ``kind`` mailed to ``email``: from the SMTP
        server when notifications sends mail in this stack, else from the request."""
        if self.mail_url is not None:
            return await self._mailed(email, kind)

        async def found() -> str | None:
            for mail in reversed(await self.emails()):
                payload = mail["payload"]
                if payload["email"] == email and payload["kind"] == kind:
                    return str(parse_qs(urlsplit(payload["link"]).query)["token"][0])
            return None

        token: str = await wait_for(found, timeout=20)
        return token

    async def _mailed(self, email: str, kind: str) -> str:
        async with httpx.AsyncClient(base_url=str(self.mail_url), timeout=30) as fake:

            async def found() -> str | None:
                mails = (await fake.get("/_fake/mails", params={"to": email})).json()
                for mail in reversed(mails):
                    text = mail.get("text", "")
                    if PAGES[kind] in text and (match := TOKEN.search(text)):
                        return match.group(1)
                return None

            token: str = await wait_for(found, timeout=60, interval=0.5)
            return token

    async def rotate(self) -> str:
        async with UnitOfWork(db.sessionmaker(self.engine), messaging) as uow:
            return await keys.rotate(uow, self.settings)


@pytest.fixture
async def gateway(stack) -> AsyncIterator[httpx.AsyncClient]:
    # Each test is a client of its own address (the gateway trusts X-Forwarded-For from
    # 127.0.0.1, as it would from its load balancer).
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    async with httpx.AsyncClient(
        base_url=stack.url("gateway"), timeout=30, headers={"X-Forwarded-For": address}
    ) as client:
        yield client


@pytest.fixture
async def gateway_db(stack) -> AsyncIterator[GatewayDatabase]:
    found = GatewayDatabase(stack.env)
    yield found
    await found.engine.dispose()


async def ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json() if response.content else None


async def sign_up(gateway: httpx.AsyncClient) -> dict[str, Any]:
    slug = f"e2e-{uuid.uuid4().hex[:10]}"
    return await ok(
        await gateway.post(
            "/v1/tenants",
            json={
                "name": "Studio E2E",
                "slug": slug,
                "default_country": "DE",
                "currency": "EUR",
                "time_zone": "Europe/Berlin",
                "owner": {"email": "owner@example.com", "name": "Olga", "password": PASSWORD},
            },
        )
    )


async def login(gateway: httpx.AsyncClient, slug: str, email: str, password: str) -> Any:
    return await gateway.post(
        "/v1/auth/login", json={"tenant": slug, "email": email, "password": password}
    )


async def refused_everywhere(gateway: httpx.AsyncClient, token: str) -> None:
    for service, path in READS.items():
        r = await gateway.get(path, headers=bearer(token))
        assert r.status_code == 401, (service, r.text)
        assert r.headers["content-type"].startswith(PROBLEM_JSON)


async def accepted_everywhere(gateway: httpx.AsyncClient, token: str) -> None:
    for service, path in READS.items():
        r = await gateway.get(path, headers=bearer(token))
        assert r.status_code == 200, (service, r.text)


async def test_staff_and_customers_log_in_through_the_gateway_alone(gateway, gateway_db):
    assert {"gateway", "customers", "credits", "scheduling"} <= set(SERVICES)
    made = await sign_up(gateway)
    slug = made["tenant"]["slug"]
    owner_login = await ok(await login(gateway, slug, "owner@example.com", PASSWORD))
    owner = bearer(owner_login["access_token"])
    await accepted_everywhere(gateway, owner_login["access_token"])

    # A staff member with only view_notes: notes yes, the credit catalogue's edits no.
    await ok(
        await gateway.post(
            "/v1/users",
            json={
                "email": "sam@example.com",
                "name": "Sam",
                "role": "staff",
                "permissions": ["view_notes"],
            },
            headers=owner,
        )
    )
    invitation = await gateway_db.link_for("sam@example.com", "staff_invitation")
    await ok(
        await gateway.post(
            "/v1/auth/invitations/accept", json={"token": invitation, "password": "sams secret 1"}
        )
    )
    sam = await ok(await login(gateway, slug, "sam@example.com", "sams secret 1"))
    staff = bearer(sam["access_token"])

    cleo = await ok(
        await gateway.post(
            "/v1/customers",
            json={"first_name": "Cleo", "last_name": "C", "email": "cleo@example.com"},
            headers=owner,
        )
    )
    dora = await ok(
        await gateway.post(
            "/v1/customers",
            json={"first_name": "Dora", "last_name": "D", "email": "dora@example.com"},
            headers=owner,
        )
    )
    r = await gateway.get(f"/v1/customers/{cleo['id']}/notes", headers=staff)
    assert r.status_code == 200, r.text
    r = await gateway.post(
        "/v1/credit-products",
        json={"name": "10 classes", "credits": 10, "price_minor": 9900, "currency": "EUR"},
        headers=staff,
    )
    assert r.status_code == 403, r.text
    r = await gateway.post(
        "/v1/credit-products",
        json={"name": "10 classes", "credits": 10, "price_minor": 9900, "currency": "EUR"},
        headers=owner,
    )
    assert r.status_code == 201, r.text

    # The customer signs in by emailed link (the gateway learnt the email from customers).
    async def link_sent() -> bool:
        before = len(await gateway_db.emails())
        r = await gateway.post(
            "/v1/auth/sign-in-link", json={"tenant": slug, "email": "cleo@example.com"}
        )
        assert r.status_code == 202
        return len(await gateway_db.emails()) > before

    await wait_for(link_sent, timeout=20, interval=0.5)
    link = await gateway_db.link_for("cleo@example.com", "login_link")
    if gateway_db.mail_url is not None:  # the link arrived by email, over SMTP
        assert link in {
            parse_qs(urlsplit(m["payload"]["link"]).query)["token"][0]
            for m in await gateway_db.emails()
        }
    me = await ok(await gateway.post("/v1/auth/sign-in-link/redeem", json={"token": link}))
    customer = bearer(me["access_token"])
    own = await ok(await gateway.get("/v1/customers/me", headers=customer))
    assert own["id"] == cleo["id"]
    assert (await gateway.get(f"/v1/customers/{cleo['id']}", headers=customer)).status_code == 200
    r = await gateway.get(f"/v1/customers/{dora['id']}", headers=customer)
    assert r.status_code == 404
    r = await gateway.get(f"/v1/credit-packages?customer_id={dora['id']}", headers=customer)
    assert r.status_code == 404, r.text
    r = await gateway.get("/v1/users", headers=customer)
    assert r.status_code == 403


async def test_refresh_reuse_logout_and_expiry_are_refused_by_every_service(gateway):
    made = await sign_up(gateway)
    first = made["tokens"]
    second = await ok(
        await gateway.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    )
    await accepted_everywhere(gateway, second["access_token"])
    r = await gateway.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401
    await refused_everywhere(gateway, second["access_token"])
    r = await gateway.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401

    other = await ok(await login(gateway, made["tenant"]["slug"], "owner@example.com", PASSWORD))
    await accepted_everywhere(gateway, other["access_token"])
    await ok(await gateway.post("/v1/auth/logout", headers=bearer(other["access_token"])), 204)
    await refused_everywhere(gateway, other["access_token"])

    # Expired: a development token (which services trust outside production) of one second.
    from frontdesk.kit.settings import Settings

    short = issue_token(Settings(), tenant_id=uuid.uuid4(), role=Role.admin, ttl_seconds=1)
    await accepted_everywhere(gateway, short)
    await asyncio.sleep(2.1)
    await refused_everywhere(gateway, short)


async def test_a_key_rotation_keeps_old_tokens_valid(gateway, gateway_db):
    made = await sign_up(gateway)
    old = made["tokens"]["access_token"]
    await accepted_everywhere(gateway, old)
    new_kid = await gateway_db.rotate()

    async def new_key_signs() -> str | None:
        r = await login(gateway, made["tenant"]["slug"], "owner@example.com", PASSWORD)
        token = r.json()["access_token"]
        return token if jwt.get_unverified_header(token)["kid"] == new_kid else None

    new = await wait_for(new_key_signs, timeout=20, interval=1.0)
    await accepted_everywhere(gateway, new)  # every service fetched the JWKS again
    await accepted_everywhere(gateway, old)  # and still verifies the old key's tokens
    kids = {k["kid"] for k in (await gateway.get("/.well-known/jwks.json")).json()["keys"]}
    assert {jwt.get_unverified_header(old)["kid"], new_kid} <= kids


async def test_logins_are_limited_and_say_so(gateway):
    made = await sign_up(gateway)
    body = {"tenant": made["tenant"]["slug"], "email": "owner@example.com", "password": "wrong!"}
    codes = []
    for _ in range(12):
        r = await gateway.post("/v1/auth/login", json=body)
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    assert codes[-1] == 429 and set(codes[:-1]) == {401}
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(r.headers["retry-after"]) > 0 and r.headers["ratelimit-remaining"] == "0"
    assert r.headers["ratelimit-limit"] and r.headers["ratelimit-policy"]


async def test_a_stopped_service_answers_503_through_the_gateway(stack, gateway):
    made = await sign_up(gateway)
    token = made["tokens"]["access_token"]
    stack.kill("credits", "api")
    try:
        r = await gateway.get("/v1/credit-products", headers=bearer(token))
        assert r.status_code == 503 and r.headers["content-type"].startswith(PROBLEM_JSON)
        assert r.json()["status"] == 503 and r.headers["retry-after"]
        # The others go on.
        assert (await gateway.get("/v1/customers", headers=bearer(token))).status_code == 200
    finally:
        stack.start("credits", "api")
        await stack.wait_api("credits")
    assert (await gateway.get("/v1/credit-products", headers=bearer(token))).status_code == 200


async def test_one_document_for_the_whole_api(gateway):
    doc = (await gateway.get("/openapi.json")).json()
    for path in ("/v1/auth/login", "/v1/customers", "/v1/credit-products", "/v1/bookings"):
        assert path in doc["paths"], path
    page = (await gateway.get("/docs")).text
    assert "cdn" not in page.lower() and "SwaggerUIBundle(" in page
    assert (await gateway.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
    # OPTIONS of a proxied path is its service's answer (it was a 404 at the gateway).
    r = await gateway.options("/v1/customers")
    assert r.status_code == 204 and "POST" in r.headers["allow"]
