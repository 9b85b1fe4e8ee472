"""Tokens are strictly typed (a claim of the wrong type is a 401, never a 500 or a silent
coercion), and one visibility policy: staff see the tenant, a customer only itself."""

import time
import uuid

import pytest
from kit_probe import SPEC

from frontdesk.kit.auth import (
    Permission,
    Principal,
    Role,
    decode_token,
    development_key,
    sign,
)
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.problems import PROBLEM_JSON, Problem
from frontdesk.kit.service import Runtime
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import app_client


@pytest.fixture(scope="module")
async def client():
    runtime = Runtime(SPEC)  # whoami needs no database
    try:
        async with app_client(runtime) as c:
            yield c
    finally:
        await runtime.engine.dispose()


def token(**over: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "frontdesk",
        "aud": "frontdesk",
        "iat": now,
        "exp": now + 600,
        "sub": "someone",
        "tid": str(uuid.uuid4()),
        "role": "staff",
        "perms": [],
    }
    claims.update(over)
    return sign(claims, development_key(Settings()))


CUSTOMER = uuid.UUID("7a1c0d5e-2b0e-4f7c-9a43-4f6f1f0e2a11")


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"tid": 12345}, id="tid-number"),
        pytest.param({"tid": [str(uuid.uuid4())]}, id="tid-list"),
        pytest.param({"tid": {"id": str(uuid.uuid4())}}, id="tid-object"),
        pytest.param({"tid": ""}, id="tid-empty"),
        pytest.param({"perms": "view_notes"}, id="perms-string"),
        pytest.param({"perms": [1]}, id="perms-number"),
        pytest.param({"perms": ["view_notes", None]}, id="perms-null"),
        pytest.param({"perms": ["root"]}, id="perms-unknown"),
        pytest.param({"perms": {"view_notes": True}}, id="perms-object"),
        pytest.param({"role": 1}, id="role-number"),
        pytest.param({"role": ["admin"]}, id="role-list"),
        pytest.param({"role": "Admin"}, id="role-case"),
        pytest.param({"sub": 42}, id="sub-number"),
        pytest.param({"sub": ""}, id="sub-empty"),
        pytest.param({"sub": "x" * 201}, id="sub-too-long"),
        pytest.param({"name": 5}, id="name-number"),
        pytest.param({"name": "x" * 201}, id="name-too-long"),
        pytest.param({"role": "customer", "sub": "someone"}, id="customer-sub-not-uuid"),
        pytest.param({"role": "customer", "sub": "123"}, id="customer-sub-number-text"),
        pytest.param({"exp": "tomorrow"}, id="exp-text"),
    ],
)
async def test_a_claim_of_the_wrong_type_answers_401(client, claims):
    r = await client.get(
        "/v1/probes/whoami", headers={"Authorization": f"Bearer {token(**claims)}"}
    )
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert body["status"] == 401 and body["detail"].startswith("Invalid token")
    with pytest.raises(Problem) as caught:
        decode_token(Settings(), token(**claims))
    assert caught.value.status == 401


async def test_well_typed_claims_are_read_as_given(client):
    tenant = uuid.uuid4()
    r = await client.get(
        "/v1/probes/whoami",
        headers={
            "Authorization": "Bearer "
            + token(tid=str(tenant), role="staff", perms=["view_notes", "send_emails"], sub="u-1")
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "sub": "u-1",
        "tenant_id": str(tenant),
        "role": "staff",
        "permissions": ["send_emails", "view_notes"],
    }
    r = await client.get(
        "/v1/probes/whoami",
        headers={"Authorization": "Bearer " + token(role="customer", sub=str(CUSTOMER))},
    )
    assert r.status_code == 200 and r.json()["sub"] == str(CUSTOMER)
    principal = decode_token(Settings(), token(role="customer", sub=str(CUSTOMER), name="Ada"))
    assert principal.customer_id == CUSTOMER and principal.name == "Ada"


# --- one visibility policy --------------------------------------------------------------


def principal(role: Role, sub: str = "staff-1") -> Principal:
    return Principal(sub=sub, tenant_id=uuid.uuid4(), role=role)


@pytest.mark.parametrize("role", [Role.owner, Role.admin, Role.staff])
def test_staff_see_the_whole_tenant(role):
    someone = uuid.uuid4()
    p = principal(role)
    assert p.customer_id is None and not p.is_customer
    assert p.customer_scope(None) is None
    assert p.customer_scope(someone) == someone
    p.ensure_sees(someone, "booking")
    p.ensure_sees(None, "booking")


def test_a_customer_sees_only_itself_and_anyone_else_is_not_found():
    me, other = CUSTOMER, uuid.uuid4()
    p = principal(Role.customer, sub=str(me))
    assert p.is_customer and p.customer_id == me
    assert p.customer_scope(None) == me  # "everyone" means "me"
    assert p.customer_scope(me) == me
    with pytest.raises(NotFoundError) as caught:
        p.customer_scope(other)
    assert caught.value.status == 404 and "customer" in caught.value.message

    p.ensure_sees(me, "booking")
    for whose in (other, None):
        with pytest.raises(NotFoundError) as caught:
            p.ensure_sees(whose, "booking")
        assert caught.value.status == 404 and "booking" in caught.value.message


def test_a_customer_principal_without_a_uuid_sees_nothing():
    p = principal(Role.customer, sub="not-a-uuid")
    assert p.customer_id is None
    with pytest.raises(NotFoundError):
        p.customer_scope(None)
    with pytest.raises(NotFoundError):
        p.customer_scope(uuid.uuid4())
    with pytest.raises(NotFoundError):
        p.ensure_sees(uuid.uuid4(), "booking")
    with pytest.raises(NotFoundError):
        p.ensure_sees(None, "booking")


def test_permissions_are_for_staff_and_implied_for_admins():
    staff = Principal(
        sub="s", tenant_id=uuid.uuid4(), role=Role.staff, permissions={Permission.view_notes}
    )
    assert staff.can(Permission.view_notes) and not staff.can(Permission.manage_credits)
    assert principal(Role.admin).can(Permission.manage_billing)
    assert principal(Role.owner).can(Permission.manage_billing)
    customer = Principal(
        sub=str(CUSTOMER),
        tenant_id=uuid.uuid4(),
        role=Role.customer,
        permissions={Permission.view_notes},
    )
    assert not customer.can(Permission.view_notes)
