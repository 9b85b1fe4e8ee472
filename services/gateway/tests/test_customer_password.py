"""Customers' own passwords (issue 12: "a one-time link sent by email (or a password they
set)"): a customer signed in by link sets one, then signs in with studio, email and
password for the same tokens and login event a link gives; changing it needs the current
one (except right after a link: that is the reset) and ends the account's other
sessions; logins by password are limited like staff logins; staff tokens have no
customer password."""

import re
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from gateway_testing import bearer, gateway_client, outbox, publish, sign_up
from test_customer_sign_in import link_token

from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.gateway.adapters.tables import customer_accounts, metadata
from frontdesk.gateway.app import repeat_revocations
from frontdesk.kit import auth
from frontdesk.kit.auth import Role
from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.testing import wait_for

MAILS = "identity.account_email.requested.v1"
LOGINS = "identity.login.succeeded.v1"
SECRET = "purple monkey dishwasher"


async def customer_by_link(client, runtime, email: str = "cleo@example.com"):
    """A studio with a customer the gateway knows (from customers' event), signed in by
    an emailed link: (slug, customer id, tokens)."""
    made = await sign_up(client)
    slug, tenant_id = made["tenant"]["slug"], uuid.UUID(made["tenant"]["id"])
    customer_id = uuid.uuid4()
    await publish(
        runtime,
        CustomerRegistered(customer_id=customer_id, first_name="Cleo", last_name="C", email=email),
        tenant_id,
        customer_id,
    )
    return slug, customer_id, await redeem_link(client, runtime, slug, email)


async def redeem_link(client, runtime, slug: str, email: str) -> dict:
    async def mailed():
        before = len(await outbox(runtime, MAILS))
        r = await client.post("/v1/auth/sign-in-link", json={"tenant": slug, "email": email})
        assert r.status_code == 202
        return (await outbox(runtime, MAILS))[before:]

    sent = await wait_for(mailed)  # once the consumer has the customer's email
    r = await client.post("/v1/auth/sign-in-link/redeem", json={"token": link_token(sent[-1])})
    assert r.status_code == 200, r.text
    return r.json()


async def password_login(client, slug: str, email: str, password: str = SECRET):
    return await client.post(
        "/v1/auth/customer-login", json={"tenant": slug, "email": email, "password": password}
    )


async def test_a_customer_sets_a_password_and_signs_in_with_it(client, runtime):
    slug, customer_id, link = await customer_by_link(client, runtime)
    me = bearer(link["access_token"])
    r = await client.get("/v1/auth/customer-password", headers=me)
    assert r.status_code == 200 and r.json()["password_set"] is False
    # Before one is set, the email alone signs nobody in.
    assert (await password_login(client, slug, "cleo@example.com")).status_code == 401

    # Right after a link no current password is asked for.
    r = await client.put("/v1/auth/customer-password", json={"password": SECRET}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["password_set"] is True and r.json()["changed_at"]
    async with runtime.engine.connect() as conn:
        stored = (await conn.execute(customer_accounts.select())).mappings().one()
    assert stored["password_hash"].startswith("$argon2id$") and SECRET not in str(stored)

    r = await password_login(client, slug, "Cleo@Example.com")
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["role"] == "customer" and tokens["token_type"] == "Bearer"
    assert set(tokens) == set(link)  # the same shape as the link's answer
    principal = await auth.verify_token(runtime.settings, tokens["access_token"])
    assert principal.role is Role.customer and principal.customer_id == customer_id
    assert principal.name == "Cleo"
    login = (await outbox(runtime, LOGINS))[-1]["payload"]
    assert login["kind"] == "customer" and login["customer_id"] == str(customer_id)
    assert login["method"] == "password" and login["session_id"] == tokens["session_id"]
    # The refresh token rotates like a link's.
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and r.json()["role"] == "customer"
    # The customer's own data only: nothing of the gateway's staff side.
    assert (
        await client.get("/v1/users", headers=bearer(tokens["access_token"]))
    ).status_code == 403


async def test_a_wrong_password_tells_nothing_about_who_exists(client, runtime):
    slug, _, link = await customer_by_link(client, runtime)
    await client.put(
        "/v1/auth/customer-password",
        json={"password": SECRET},
        headers=bearer(link["access_token"]),
    )
    before = len(await outbox(runtime, LOGINS))
    answers = [
        await password_login(client, slug, "cleo@example.com", "wrong password here"),
        await password_login(client, slug, "nobody@example.com"),
        await password_login(client, "no-such-studio", "cleo@example.com"),
    ]
    for r in answers:
        assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM_JSON)
        assert r.json()["detail"] == answers[0].json()["detail"]
    assert len(await outbox(runtime, LOGINS)) == before
    # A staff member's password is no customer's (and the reverse).
    assert (
        await password_login(client, slug, "owner@example.com", "correct horse battery")
    ).status_code == 401
    r = await client.post(
        "/v1/auth/login", json={"tenant": slug, "email": "cleo@example.com", "password": SECRET}
    )
    assert r.status_code == 401


async def test_changing_it_needs_the_current_one_and_ends_other_sessions(client, runtime):
    slug, _, link = await customer_by_link(client, runtime)
    await client.put(
        "/v1/auth/customer-password",
        json={"password": SECRET},
        headers=bearer(link["access_token"]),
    )
    # The link's session was kept when the password was set; a password session now.
    tokens = (await password_login(client, slug, "cleo@example.com")).json()
    me = bearer(tokens["access_token"])
    new = "a brand new secret"
    r = await client.put("/v1/auth/customer-password", json={"password": new}, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "current_password"
    r = await client.put(
        "/v1/auth/customer-password",
        json={"password": new, "current_password": "not the one"},
        headers=me,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "current_password"
    r = await client.put(
        "/v1/auth/customer-password", json={"password": new, "current_password": SECRET}, headers=me
    )
    assert r.status_code == 200, r.text
    assert r.json()["other_sessions_ended"] == 1  # the link's
    # The old password no longer works, the new one does; this session goes on.
    assert (await password_login(client, slug, "cleo@example.com")).status_code == 401
    assert (await password_login(client, slug, "cleo@example.com", new)).status_code == 200
    assert (await client.get("/v1/auth/customer-password", headers=me)).status_code == 200
    # The other session's tokens are ended at the edge.
    await repeat_revocations(runtime)
    r = await client.get("/v1/auth/customer-password", headers=bearer(link["access_token"]))
    assert r.status_code == 401
    r = await client.post("/v1/auth/refresh", json={"refresh_token": link["refresh_token"]})
    assert r.status_code == 401


async def test_a_forgotten_password_is_reset_by_signing_in_with_a_link(client, runtime):
    slug, _, link = await customer_by_link(client, runtime)
    await client.put(
        "/v1/auth/customer-password",
        json={"password": SECRET},
        headers=bearer(link["access_token"]),
    )
    # Forgotten: a fresh link signs the customer in, and a new password needs no old one.
    fresh = await redeem_link(client, runtime, slug, "cleo@example.com")
    r = await client.put(
        "/v1/auth/customer-password",
        json={"password": "remembered at last"},
        headers=bearer(fresh["access_token"]),
    )
    assert r.status_code == 200, r.text
    assert (await password_login(client, slug, "cleo@example.com")).status_code == 401
    r = await password_login(client, slug, "cleo@example.com", "remembered at last")
    assert r.status_code == 200


async def test_the_password_rule_is_the_staffs_and_bad_input_names_the_field(client, runtime):
    _, _, link = await customer_by_link(client, runtime)
    me = bearer(link["access_token"])
    for password, words in [
        ("short", "at least 10"),
        ("1234567890", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("cleo@example.com", "email"),
        ("x" * 201, None),
    ]:
        r = await client.put("/v1/auth/customer-password", json={"password": password}, headers=me)
        assert r.status_code == 422, (password, r.text)
        assert r.headers["content-type"].startswith(PROBLEM_JSON)
        error = r.json()["errors"][0]
        assert error["field"] == "password", r.text
        assert words is None or words in error["message"], r.text
    for body, field in [
        ({}, "password"),
        ({"password": SECRET, "extra": 1}, "extra"),
        ({"password": 12345678901}, "password"),
    ]:
        r = await client.put("/v1/auth/customer-password", json=body, headers=me)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = await client.post("/v1/auth/customer-login", json={"tenant": "x", "email": "not-an-email"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"email", "password"}
    # Nothing was set by the refused attempts.
    r = await client.get("/v1/auth/customer-password", headers=me)
    assert r.json()["password_set"] is False


async def test_staff_tokens_and_strangers_have_no_customer_password(client, runtime):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    r = await client.put("/v1/auth/customer-password", json={"password": SECRET}, headers=owner)
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert (await client.get("/v1/auth/customer-password", headers=owner)).status_code == 403
    r = await client.put("/v1/auth/customer-password", json={"password": SECRET})
    assert r.status_code == 401


async def test_password_logins_are_limited_per_account(runtime, monkeypatch):
    async with gateway_client(runtime) as client:
        slug, _, link = await customer_by_link(client, runtime)
        await client.put(
            "/v1/auth/customer-password",
            json={"password": SECRET},
            headers=bearer(link["access_token"]),
        )
    # The account's window already holds the link's request(s) of the set-up.
    monkeypatch.setattr(runtime.settings, "login_limit_per_account", 3)
    async with gateway_client(runtime) as client:
        # Spaces around the studio's slug (which the login ignores) are the same account.
        codes = [
            (
                await password_login(client, variant, "cleo@example.com", "guess number one")
            ).status_code
            for variant in (slug, f" {slug}", f"{slug} ", f"  {slug.upper()}")
        ]
        first = codes.index(429)
        assert set(codes[:first]) <= {401} and set(codes[first:]) == {429}, codes
    # From another address too, and even the right password waits out the window.
    async with gateway_client(runtime) as elsewhere:
        r = await password_login(elsewhere, slug, "cleo@example.com")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


async def test_the_migrations_create_the_tables_the_code_uses(runtime):
    async with runtime.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


async def test_the_sign_in_page_signs_in_by_password_and_returns_where_the_customer_was(
    client, runtime
):
    slug, _, link = await customer_by_link(client, runtime)
    await client.put(
        "/v1/auth/customer-password",
        json={"password": SECRET},
        headers=bearer(link["access_token"]),
    )
    # Signed out, a self-service page sends the customer to sign in (and back after).
    r = await client.get("/me/profile")
    assert r.status_code == 303 and r.headers["location"] == "/me/sign-in?next=%2Fme%2Fprofile"
    r = await client.get(r.headers["location"])
    assert r.status_code == 200 and "Sign in with your password" in r.text
    r = await client.get("/me/sign-in?method=password&next=%2Fme%2Fprofile")
    assert 'action="/me/sign-in/password"' in r.text
    assert 'name="next" value="/me/profile"' in r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    form = {"csrf": csrf, "tenant": slug, "email": "cleo@example.com", "next": "/me/profile"}
    r = await client.post("/me/sign-in/password", data={**form, "password": "wrong password!"})
    assert r.status_code == 401 and "password is wrong" in r.text
    assert "wrong password!" not in r.text and 'value="cleo@example.com"' in r.text
    r = await client.post("/me/sign-in/password", data={**form, "password": SECRET})
    assert r.status_code == 303 and r.headers["location"] == "/me/profile"
    # Only a self-service page is a place to return to.
    for elsewhere in ("https://evil.example.com/", "//evil.example.com/me/", "/console/"):
        r = await client.get("/me/sign-in", params={"method": "password", "next": elsewhere})
        assert 'name="next" value="/me/"' in r.text
