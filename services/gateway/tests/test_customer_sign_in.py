"""Customers sign in by a one-time emailed link: the gateway knows their emails from
customers' events (through the real broker), asks notifications to send the link
(``identity.account_email.requested``), and the link gives a ``customer`` token for the
customer's own id. An erased customer's account and sessions end."""

import uuid
from urllib.parse import parse_qs, urlsplit

from gateway_testing import bearer, outbox, publish, sign_up

from frontdesk.contracts.customers import CustomerErased, CustomerRegistered, CustomerUpdated
from frontdesk.gateway.app import repeat_revocations
from frontdesk.kit import auth
from frontdesk.kit.auth import Role
from frontdesk.kit.testing import wait_for

MAILS = "identity.account_email.requested.v1"


def link_token(envelope: dict) -> str:
    return parse_qs(urlsplit(envelope["payload"]["link"]).query)["token"][0]


async def known_customer(client, runtime, email: str = "cleo@example.com"):
    made = await sign_up(client)
    tenant_id = uuid.UUID(made["tenant"]["id"])
    customer_id = uuid.uuid4()
    await publish(
        runtime,
        CustomerRegistered(customer_id=customer_id, first_name="Cleo", last_name="C", email=email),
        tenant_id,
        customer_id,
    )
    return made, tenant_id, customer_id


async def ask_for_link(client, runtime, slug: str, email: str) -> list[dict]:
    before = len(await outbox(runtime, MAILS))
    r = await client.post("/v1/auth/sign-in-link", json={"tenant": slug, "email": email})
    assert r.status_code == 202
    return (await outbox(runtime, MAILS))[before:]


async def test_a_customer_signs_in_by_link_and_gets_a_token_for_themselves(client, runtime):
    made, tenant_id, customer_id = await known_customer(client, runtime)
    slug = made["tenant"]["slug"]

    async def mailed():
        return await ask_for_link(client, runtime, slug, "Cleo@Example.com")

    sent = await wait_for(mailed)  # once the consumer has the customer's email
    assert len(sent) == 1
    mail = sent[0]["payload"]
    assert mail["kind"] == "login_link" and mail["email"] == "cleo@example.com"
    assert mail["customer_id"] == str(customer_id) and mail["name"] == "Cleo"
    assert mail["language"] == "de" and mail["tenant_name"] == "Studio Mitte"
    assert mail["link"].startswith(f"{runtime.settings.public_url}/me/sign-in?token=")
    created = await outbox(runtime, "identity.customer_account.created.v1")
    assert [e["payload"]["customer_id"] for e in created] == [str(customer_id)]
    r = await client.post("/v1/auth/sign-in-link/redeem", json={"token": link_token(sent[0])})
    assert r.status_code == 200, r.text
    tokens = r.json()
    principal = await auth.verify_token(runtime.settings, tokens["access_token"])
    assert principal.role is Role.customer and principal.customer_id == customer_id
    assert principal.tenant_id == tenant_id and principal.name == "Cleo"
    login = (await outbox(runtime, "identity.login.succeeded.v1"))[-1]["payload"]
    assert login["kind"] == "customer" and login["customer_id"] == str(customer_id)
    assert login["method"] == "link"
    # A link works once.
    r = await client.post("/v1/auth/sign-in-link/redeem", json={"token": link_token(sent[0])})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "token"
    # The customer refreshes like staff do.
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert (
        await auth.verify_token(runtime.settings, r.json()["access_token"])
    ).customer_id == customer_id
    # A customer token manages nothing of the gateway.
    r = await client.get("/v1/users", headers=bearer(tokens["access_token"]))
    assert r.status_code == 403
    # A second link: no second account.
    again = await ask_for_link(client, runtime, slug, "cleo@example.com")
    assert (
        len(again) == 1 and len(await outbox(runtime, "identity.customer_account.created.v1")) == 1
    )


async def test_nobody_learns_which_emails_are_customers(client, runtime):
    made, _, _ = await known_customer(client, runtime)
    assert await ask_for_link(client, runtime, made["tenant"]["slug"], "who@example.com") == []
    assert await ask_for_link(client, runtime, "no-such-tenant", "cleo@example.com") == []
    for token in ("x", f"{uuid.uuid4().hex}.{'A' * 43}"):
        r = await client.post("/v1/auth/sign-in-link/redeem", json={"token": token})
        assert r.status_code == 422


async def test_a_changed_email_is_followed_and_an_older_event_loses(client, runtime):
    made, tenant_id, customer_id = await known_customer(client, runtime)
    slug = made["tenant"]["slug"]
    await wait_for(lambda: ask_for_link(client, runtime, slug, "cleo@example.com"))
    await publish(
        runtime,
        CustomerUpdated(
            customer_id=customer_id, first_name="Cleo", last_name="C", email="new@example.com"
        ),
        tenant_id,
        customer_id,
        version=3,
    )
    await publish(  # late and stale: version 2
        runtime,
        CustomerUpdated(
            customer_id=customer_id, first_name="Cleo", last_name="C", email="old@example.com"
        ),
        tenant_id,
        customer_id,
        version=2,
    )
    sent = await wait_for(lambda: ask_for_link(client, runtime, slug, "new@example.com"))
    assert sent[0]["payload"]["email"] == "new@example.com"
    assert await ask_for_link(client, runtime, slug, "old@example.com") == []


async def test_an_erased_customer_can_no_longer_sign_in(client, runtime):
    made, tenant_id, customer_id = await known_customer(client, runtime)
    slug = made["tenant"]["slug"]
    sent = await wait_for(lambda: ask_for_link(client, runtime, slug, "cleo@example.com"))
    tokens = (
        await client.post("/v1/auth/sign-in-link/redeem", json={"token": link_token(sent[0])})
    ).json()
    await publish(runtime, CustomerErased(customer_id=customer_id), tenant_id, customer_id, 5)

    async def refused():
        await repeat_revocations(runtime)  # the worker's job: ended sessions reach Redis
        r = await client.get("/v1/tenant", headers=bearer(tokens["access_token"]))
        return r.status_code == 401

    await wait_for(refused)
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    assert await ask_for_link(client, runtime, slug, "cleo@example.com") == []


async def test_staff_open_a_customer_account_with_a_welcome(client, runtime):
    made, _, customer_id = await known_customer(client, runtime)
    owner = bearer(made["tokens"]["access_token"])

    async def opened():
        r = await client.post(
            "/v1/customer-accounts", json={"customer_id": str(customer_id)}, headers=owner
        )
        return r if r.status_code == 201 else None

    r = await wait_for(opened)
    assert r.json()["customer_id"] == str(customer_id)
    welcome = (await outbox(runtime, MAILS))[-1]["payload"]
    assert welcome["kind"] == "welcome" and "/me/sign-in?token=" in welcome["link"]
    r = await client.post(
        "/v1/customer-accounts", json={"customer_id": str(uuid.uuid4())}, headers=owner
    )
    assert r.status_code == 404
