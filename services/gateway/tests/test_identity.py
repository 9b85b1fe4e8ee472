"""Staff identity through the gateway's HTTP API against real PostgreSQL, RabbitMQ and
Redis: sign-up, login, refresh rotation with reuse detection, logout and log out
everywhere, invitations with roles and permissions, password resets, the tenant."""

import asyncio
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from gateway_testing import bearer, outbox, sign_up

from frontdesk.gateway.application import gate as gates
from frontdesk.gateway.application import keys
from frontdesk.kit import auth
from frontdesk.kit.auth import Role, verify_token
from frontdesk.kit.problems import PROBLEM_JSON

PASSWORD = "correct horse battery"


def link_token(envelope: dict) -> str:
    return parse_qs(urlsplit(envelope["payload"]["link"]).query)["token"][0]


async def login(client, slug: str, email: str, password: str = PASSWORD):
    return await client.post(
        "/v1/auth/login", json={"tenant": slug, "email": email, "password": password}
    )


async def test_sign_up_makes_the_tenant_and_logs_the_owner_in(client, runtime):
    made = await sign_up(client, slug="studio-mitte")
    tenant, tokens = made["tenant"], made["tokens"]
    assert tenant["slug"] == "studio-mitte" and tenant["currency"] == "EUR"
    assert tokens["token_type"] == "Bearer" and tokens["role"] == "owner"
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA" and not header["kid"].startswith("dev-")
    principal = await verify_token(runtime.settings, tokens["access_token"])
    assert principal.role is Role.owner and str(principal.tenant_id) == tenant["id"]
    assert principal.session_id == tokens["session_id"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == runtime.settings.access_token_ttl_seconds
    changed = await outbox(runtime, "identity.tenant.changed.v1")
    assert changed[-1]["payload"]["created"] is True
    assert changed[-1]["payload"]["seller"]["legal_name"] == "Studio Mitte GmbH"
    logins = await outbox(runtime, "identity.login.succeeded.v1")
    assert logins[-1]["payload"]["kind"] == "staff"
    # The slug is taken now; bad input names its field.
    r = await client.post(
        "/v1/tenants",
        json={
            "name": "Other",
            "slug": "studio-mitte",
            "default_country": "DE",
            "currency": "EUR",
            "time_zone": "Europe/Berlin",
            "owner": {"email": "o@example.com", "name": "O", "password": PASSWORD},
        },
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM_JSON)
    for field, value in [
        ("slug", "No Spaces"),
        ("default_country", "XX"),
        ("language", "zz"),
        ("currency", "EURO"),
        ("time_zone", "Mars/Olympus"),
    ]:
        body = {
            "name": "X",
            "slug": f"s-{uuid.uuid4().hex[:6]}",
            "default_country": "DE",
            "currency": "EUR",
            "time_zone": "UTC",
            "owner": {"email": "o@example.com", "name": "O", "password": PASSWORD},
            field: value,
        }
        r = await client.post("/v1/tenants", json=body)
        assert r.status_code == 422, (field, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    body["time_zone"] = "UTC"
    body["owner"]["password"] = "short"
    r = await client.post("/v1/tenants", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner.password"


async def test_login_refresh_rotates_and_a_reused_refresh_token_ends_the_family(client):
    made = await sign_up(client)
    slug = made["tenant"]["slug"]
    r = await login(client, slug, "owner@example.com", "wrong password!")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert (await login(client, "no-such-studio", "owner@example.com")).status_code == 401
    r = await login(client, slug, "OWNER@example.com")
    assert r.status_code == 200, r.text
    first = r.json()
    r = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["session_id"] == first["session_id"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        await client.get("/v1/tenant", headers=bearer(second["access_token"]))
    ).status_code == 200
    # The first refresh token again: refused, and the whole family (session) ends.
    r = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and "used before" in r.json()["detail"]
    r = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    r = await client.get("/v1/tenant", headers=bearer(second["access_token"]))
    assert r.status_code == 401 and "ended" in r.json()["detail"]
    # Another session of the same account is untouched.
    other = (await login(client, slug, "owner@example.com")).json()
    assert (
        await client.get("/v1/tenant", headers=bearer(other["access_token"]))
    ).status_code == 200
    for bad in ("", "x" * 300, "not-a-token", f"{uuid.uuid4().hex}.{'A' * 43}"):
        r = await client.post("/v1/auth/refresh", json={"refresh_token": bad})
        assert r.status_code in (401, 422), r.text


async def test_two_refreshes_racing_with_one_token_end_the_session(client):
    made = await sign_up(client)
    token = made["tokens"]["refresh_token"]
    results = await asyncio.gather(
        *(client.post("/v1/auth/refresh", json={"refresh_token": token}) for _ in range(3))
    )
    assert sorted(r.status_code for r in results) == [200, 401, 401]
    winner = next(r.json() for r in results if r.status_code == 200)
    r = await client.post("/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert r.status_code == 401


async def test_logout_and_log_out_everywhere(client):
    made = await sign_up(client)
    slug = made["tenant"]["slug"]
    a = made["tokens"]
    b = (await login(client, slug, "owner@example.com")).json()
    c = (await login(client, slug, "owner@example.com")).json()
    assert (
        await client.post("/v1/auth/logout", headers=bearer(a["access_token"]))
    ).status_code == 204
    assert (await client.get("/v1/tenant", headers=bearer(a["access_token"]))).status_code == 401
    r = await client.post("/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert r.status_code == 401
    assert (await client.get("/v1/tenant", headers=bearer(b["access_token"]))).status_code == 200
    r = await client.post("/v1/auth/logout-everywhere", headers=bearer(b["access_token"]))
    assert r.status_code == 200 and r.json() == {"sessions_ended": 2}
    for pair in (b, c):
        assert (
            await client.get("/v1/tenant", headers=bearer(pair["access_token"]))
        ).status_code == 401
        r = await client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert r.status_code == 401


async def test_an_invited_staff_member_sets_a_password_and_has_only_their_permissions(
    client, runtime
):
    made = await sign_up(client)
    slug, owner = made["tenant"]["slug"], bearer(made["tokens"]["access_token"])
    r = await client.post(
        "/v1/users",
        json={
            "email": "Sam@Example.com",
            "name": "Sam Staff",
            "role": "staff",
            "permissions": ["view_notes"],
        },
        headers=owner,
    )
    assert r.status_code == 201, r.text
    sam = r.json()
    assert sam["status"] == "invited" and sam["email"] == "sam@example.com"
    mails = await outbox(runtime, "identity.account_email.requested.v1")
    invitation = mails[-1]
    assert invitation["payload"]["kind"] == "staff_invitation"
    assert invitation["payload"]["email"] == "sam@example.com"
    assert invitation["payload"]["link"].startswith(
        f"{runtime.settings.public_url}/console/accept-invitation?token="
    )
    assert (await login(client, slug, "sam@example.com", PASSWORD)).status_code == 401
    token = link_token(invitation)
    r = await client.post("/v1/auth/invitations/accept", json={"token": token, "password": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    r = await client.post(
        "/v1/auth/invitations/accept", json={"token": token, "password": "sams own secret"}
    )
    assert r.status_code == 200, r.text
    principal = await auth.verify_token(runtime.settings, r.json()["access_token"])
    assert principal.role is Role.staff and {p.value for p in principal.permissions} == {
        "view_notes"
    }
    r = await client.post(
        "/v1/auth/invitations/accept", json={"token": token, "password": "sams own secret"}
    )
    assert r.status_code == 422  # used
    r = await login(client, slug, "sam@example.com", "sams own secret")
    assert r.status_code == 200
    staff = r.json()
    # Staff manage nobody; the owner changes permissions, effective at the next token.
    r = await client.get("/v1/users", headers=bearer(staff["access_token"]))
    assert r.status_code == 403
    me = await client.get("/v1/users/me", headers=bearer(staff["access_token"]))
    assert me.status_code == 200 and me.json()["role"] == "staff"
    r = await client.patch(
        f"/v1/users/{sam['id']}",
        json={"permissions": ["view_notes", "manage_credits"]},
        headers={**owner, "If-Match": '"99"'},
    )
    assert r.status_code == 412
    r = await client.patch(
        f"/v1/users/{sam['id']}",
        json={"permissions": ["view_notes", "manage_credits"]},
        headers={**owner, "If-Match": me.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    old = await auth.verify_token(runtime.settings, staff["access_token"])
    assert {p.value for p in old.permissions} == {"view_notes"}
    r = await client.post("/v1/auth/refresh", json={"refresh_token": staff["refresh_token"]})
    new = await auth.verify_token(runtime.settings, r.json()["access_token"])
    assert {p.value for p in new.permissions} == {"view_notes", "manage_credits"}
    # Disabled: the sessions end at once, and no new login.
    refreshed = r.json()
    assert (await client.delete(f"/v1/users/{sam['id']}", headers=owner)).status_code == 204
    assert (
        await client.get("/v1/users/me", headers=bearer(refreshed["access_token"]))
    ).status_code == 401
    assert (await login(client, slug, "sam@example.com", "sams own secret")).status_code == 401


async def test_who_may_invite_and_change_whom(client):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    r = await client.post(
        "/v1/users",
        json={"email": "a@example.com", "name": "Ada Admin", "role": "admin"},
        headers=owner,
    )
    assert r.status_code == 201
    r = await client.post(
        "/v1/users",
        json={"email": "a@example.com", "name": "Again", "role": "staff"},
        headers=owner,
    )
    assert r.status_code == 409
    r = await client.post(
        "/v1/users", json={"email": "x@example.com", "name": "X", "role": "owner"}, headers=owner
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
    users = (await client.get("/v1/users", headers=owner)).json()["items"]
    owner_row = next(u for u in users if u["role"] == "owner")
    r = await client.delete(f"/v1/users/{owner_row['id']}", headers=owner)
    assert r.status_code == 403  # nobody disables themselves (or the owner)
    admin = next(u for u in users if u["role"] == "admin")
    r = await client.patch(f"/v1/users/{admin['id']}", json={"role": "staff"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "staff"


async def test_password_reset_ends_every_session_and_logs_in(client, runtime):
    made = await sign_up(client)
    slug = made["tenant"]["slug"]
    old = made["tokens"]
    before = len(await outbox(runtime, "identity.account_email.requested.v1"))
    for email in ("owner@example.com", "nobody@example.com"):
        r = await client.post("/v1/auth/password-reset", json={"tenant": slug, "email": email})
        assert r.status_code == 202
    mails = await outbox(runtime, "identity.account_email.requested.v1")
    assert len(mails) == before + 1 and mails[-1]["payload"]["kind"] == "password_reset"
    token = link_token(mails[-1])
    r = await client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": "a new long secret"}
    )
    assert r.status_code == 200, r.text
    assert (await client.get("/v1/tenant", headers=bearer(old["access_token"]))).status_code == 401
    assert (await login(client, slug, "owner@example.com")).status_code == 401
    assert (await login(client, slug, "owner@example.com", "a new long secret")).status_code == 200


async def test_the_owner_edits_the_tenant_and_everyone_learns_it(client, runtime):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    r = await client.get("/v1/tenant", headers=owner)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    r = await client.patch(
        "/v1/tenant",
        json={"currency": "CHF", "time_zone": "Europe/Zurich"},
        headers={**owner, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["currency"] == "CHF" and r.headers["etag"] == '"2"'
    changed = (await outbox(runtime, "identity.tenant.changed.v1"))[-1]
    assert changed["payload"]["changed"] == ["currency", "time_zone"]
    assert changed["aggregate_version"] == 2 and changed["payload"]["name"] == "Studio Mitte"
    r = await client.patch("/v1/tenant", json={"name": "x"}, headers={**owner, "If-Match": '"1"'})
    assert r.status_code == 412
    r = await client.patch("/v1/tenant", json={"name": None}, headers=owner)
    assert r.status_code == 422
    # An admin reads but does not edit.
    await client.post(
        "/v1/users", json={"email": "a@example.com", "name": "Ada", "role": "admin"}, headers=owner
    )
    token = link_token((await outbox(runtime, "identity.account_email.requested.v1"))[-1])
    admin = (
        await client.post(
            "/v1/auth/invitations/accept", json={"token": token, "password": "admin secret 1"}
        )
    ).json()
    r = await client.patch(
        "/v1/tenant", json={"name": "Mine"}, headers=bearer(admin["access_token"])
    )
    assert r.status_code == 403


async def test_key_rotation_keeps_old_tokens_valid_until_they_expire(client, runtime):
    made = await sign_up(client)
    old_token = made["tokens"]["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    async with runtime.uow() as uow:
        new_kid = await keys.rotate(uow, runtime.settings)
    # The API process signs with the new key once its cached copy is older than a few
    # seconds (as if that time had passed here).
    gates.of(runtime).forget_signing_key()
    r = await client.post(
        "/v1/auth/login",
        json={"tenant": made["tenant"]["slug"], "email": "owner@example.com", "password": PASSWORD},
    )
    new_token = r.json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid != old_kid
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    assert all(k["alg"] == "EdDSA" and "d" not in k for k in jwks["keys"])
    for token in (old_token, new_token):
        assert (await client.get("/v1/tenant", headers=bearer(token))).status_code == 200
    # Once every token the old key signed has expired, the sweep drops it from the JWKS.
    later = time.time() + runtime.settings.access_token_ttl_seconds + 600
    from datetime import UTC, datetime

    async with runtime.uow() as uow:
        swept = await keys.maintain(uow, runtime.settings, datetime.fromtimestamp(later, UTC))
    assert swept["removed"] == [old_kid]


@pytest.mark.parametrize("path", ["/v1/tenant", "/v1/users", "/v1/users/me"])
async def test_own_routes_need_a_token(client, path):
    r = await client.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
