"""HTTP edge of the kit: JWT auth, roles and permissions, problem+json, health."""

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import kit_probe
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from kit_probe import probe_service
from sqlalchemy import func, select
from typer.testing import CliRunner

from frontdesk.kit.auth import (
    Permission,
    Role,
    SigningKey,
    decode_token,
    development_key,
    issue_token,
    sign,
)
from frontdesk.kit.cli import DEMO_TENANT
from frontdesk.kit.cli import app as cli
from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.service import Runtime, create_app
from frontdesk.kit.settings import Settings


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(consumer=False) as rt:
        yield rt


@pytest.fixture
async def client(runtime):
    app = create_app(runtime, start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(**over):
    now = int(time.time())
    base = {
        "iss": "frontdesk",
        "aud": "frontdesk",
        "iat": now,
        "exp": now + 600,
        "sub": "someone",
        "tid": str(uuid.uuid4()),
        "role": "admin",
        "perms": [],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


# --- auth -------------------------------------------------------------------------------


async def test_valid_token_identifies_tenant_role_and_permissions(client, tokens, tenant_id):
    r = await client.get(
        "/v1/probes/whoami", headers=tokens.headers(Role.staff, Permission.view_notes, sub="u1")
    )
    assert r.status_code == 200
    assert r.json() == {
        "sub": "u1",
        "tenant_id": str(tenant_id),
        "role": "staff",
        "permissions": ["view_notes"],
    }


def dev(settings: Settings) -> SigningKey:
    return development_key(settings)


def impostor(settings: Settings) -> SigningKey:
    """Another Ed25519 key that claims the development key's id."""
    return SigningKey(dev(settings).kid, "EdDSA", Ed25519PrivateKey.generate())


def rsa_impostor(settings: Settings) -> SigningKey:
    return SigningKey(dev(settings).kid, "RS256", generate_private_key(65537, 2048))


def hmac_token(settings: Settings, algorithm: str, secret: str | bytes | None) -> str:
    return jwt.encode(claims(), secret, algorithm, headers={"kid": dev(settings).kid})


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda s: sign(claims(exp=int(time.time()) - 5), dev(s)), id="expired"),
        pytest.param(lambda s: sign(claims(aud="someone-else"), dev(s)), id="wrong-audience"),
        pytest.param(lambda s: sign(claims(iss="evil"), dev(s)), id="wrong-issuer"),
        pytest.param(lambda s: sign(claims(), impostor(s)), id="wrong-key"),
        pytest.param(lambda s: sign(claims(), rsa_impostor(s)), id="rs256-other-key"),
        pytest.param(
            lambda s: sign(claims(), SigningKey("unknown-kid", "EdDSA", dev(s).private_key)),
            id="unknown-kid",
        ),
        # The old development format: HMAC with the shared secret is no longer accepted.
        pytest.param(lambda s: hmac_token(s, "HS256", s.jwt_secret), id="hs256-the-secret"),
        pytest.param(lambda s: hmac_token(s, "HS512", s.jwt_secret), id="hs512-same-key"),
        # Key confusion: the public key used as an HMAC secret.
        pytest.param(
            lambda s: hmac_token(s, "HS256", dev(s).public_jwk()["x"].encode()),
            id="hs256-public-key",
        ),
        pytest.param(lambda s: hmac_token(s, "none", None), id="alg-none"),
        pytest.param(lambda s: sign(claims(exp=None), dev(s)), id="no-expiry"),
        pytest.param(lambda s: sign(claims(tid=None), dev(s)), id="no-tenant"),
        pytest.param(lambda s: sign(claims(tid="not-a-uuid"), dev(s)), id="bad-tenant"),
        pytest.param(lambda s: sign(claims(role="root"), dev(s)), id="bad-role"),
        pytest.param(lambda s: "not.a.jwt", id="garbage"),
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_bad_tokens_answer_401_problem_json(client, token):
    r = await client.get("/v1/probes/whoami", headers=bearer(token(Settings())))
    body = assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    assert body["detail"].startswith("Invalid token")


async def test_missing_or_non_bearer_credentials_answer_401(client):
    assert_problem(await client.get("/v1/probes/whoami"), 401)
    assert_problem(
        await client.get("/v1/probes/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401
    )


@pytest.mark.parametrize(
    ("path", "role", "perms", "status"),
    [
        ("/v1/probes/staff", Role.customer, [], 403),
        ("/v1/probes/staff", Role.staff, [], 200),
        ("/v1/probes/notes", Role.staff, [], 403),
        ("/v1/probes/notes", Role.staff, [Permission.send_emails], 403),
        ("/v1/probes/notes", Role.staff, [Permission.view_notes], 200),
        ("/v1/probes/notes", Role.customer, [Permission.view_notes], 403),
        ("/v1/probes/notes", Role.admin, [], 200),
        ("/v1/probes/notes", Role.owner, [], 200),
        ("/v1/probes/admin", Role.staff, list(Permission), 403),
        ("/v1/probes/admin", Role.admin, [], 200),
        ("/v1/probes/admin", Role.owner, [], 200),
    ],
)
async def test_roles_and_permissions(client, tokens, path, role, perms, status):
    r = await client.get(path, headers=tokens.headers(role, *perms))
    if status == 200:
        assert r.status_code == 200, r.text
    else:
        assert_problem(r, status)


def _check_cli_token(token: str, tenant: uuid.UUID) -> None:
    principal = decode_token(Settings(), token)
    assert principal.tenant_id == tenant
    assert principal.role is Role.staff
    assert principal.permissions == {Permission.view_notes, Permission.send_emails}
    assert principal.sub == "user-7"


def test_frontdesk_token_command_decodes_to_what_was_asked():
    tenant = uuid.uuid4()
    args = [
        "token",
        "--tenant",
        str(tenant),
        "--role",
        "staff",
        "--permission",
        "view_notes",
        "--permission",
        "send_emails",
        "--sub",
        "user-7",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    _check_cli_token(result.output.strip(), tenant)

    # The installed console script, as a developer runs it.
    script = Path(sys.executable).parent / "frontdesk"
    out = subprocess.run([str(script), *args], capture_output=True, text=True, check=True)
    _check_cli_token(out.stdout.strip(), tenant)

    demo = CliRunner().invoke(cli, ["token"])
    assert decode_token(Settings(), demo.output.strip()).tenant_id == DEMO_TENANT
    assert CliRunner().invoke(cli, ["token", "--role", "root"]).exit_code != 0


async def test_issued_token_is_pinned_to_eddsa_with_a_key_id_issuer_and_audience():
    token = issue_token(Settings(), tenant_id=uuid.uuid4(), role=Role.admin)
    header = jwt.get_unverified_header(token)
    body = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"] == development_key(Settings()).kid
    assert body["iss"] == "frontdesk" and body["aud"] == "frontdesk" and body["exp"] > time.time()


# --- problem+json -----------------------------------------------------------------------


async def test_validation_errors_name_the_field_and_change_nothing(client, tokens, runtime):
    h = tokens.headers(Role.staff)
    body = assert_problem(await client.post("/v1/probes", json={}, headers=h), 422)
    assert [e["field"] for e in body["errors"]] == ["name"]
    body = assert_problem(
        await client.post("/v1/probes", json={"name": "x" * 101, "count": 0}, headers=h), 422
    )
    assert sorted(e["field"] for e in body["errors"]) == ["count", "name"]
    body = assert_problem(
        await client.post(
            "/v1/probes", content=b"{oops", headers={**h, "content-type": "application/json"}
        ),
        422,
    )
    body = assert_problem(await client.get("/v1/probes?limit=0", headers=h), 422)
    assert [e["field"] for e in body["errors"]] == ["limit"]
    body = assert_problem(await client.get("/v1/probes?limit=abc", headers=h), 422)
    assert [e["field"] for e in body["errors"]] == ["limit"]
    async with runtime.engine.connect() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(kit_probe.things))
        ).scalar_one() == 0
        assert (
            await conn.execute(select(func.count()).select_from(runtime.spec.tables.outbox))
        ).scalar_one() == 0


async def test_unknown_query_parameters_answer_400_naming_them(client, tokens):
    h = tokens.headers(Role.staff)
    body = assert_problem(await client.get("/v1/probes?limit=5&colour=red&zz=1", headers=h), 400)
    assert [e["field"] for e in body["errors"]] == ["colour", "zz"]
    assert (await client.get("/v1/probes?limit=5", headers=h)).status_code == 200


async def test_other_errors_are_problem_json_too(client, tokens):
    assert_problem(await client.get("/v1/nothing-here"), 404)
    assert_problem(await client.delete("/healthz"), 405)
    body = assert_problem(
        await client.get("/v1/probes/boom", headers=tokens.headers(Role.staff)), 500
    )
    assert "unexpected" not in str(body)  # no internals leak


async def test_created_then_listed(client, tokens):
    h = tokens.headers(Role.staff)
    r = await client.post("/v1/probes", json={"name": "Zed"}, headers=h)
    assert r.status_code == 201, r.text
    listed = (await client.get("/v1/probes", headers=h)).json()
    assert {"id": r.json()["id"], "name": "Zed"} in listed
    other = (
        await client.get("/v1/probes", headers=tokens.headers(Role.staff, tenant_id=uuid.uuid4()))
    ).json()
    assert all(t["id"] != r.json()["id"] for t in other)


# --- health -----------------------------------------------------------------------------


async def test_healthz_and_readyz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(runtime):
    settings = runtime.settings.model_copy(
        update={"database_url": runtime.settings.resolved_database_url() + "_does_not_exist"}
    )
    broken = Runtime(runtime.spec, settings)
    try:
        broken.relay.connection = runtime.relay.connection  # the broker itself is fine
        app = create_app(broken, start_relay=False)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
            r = await c.get("/readyz")
            assert r.status_code == 503
            checks = r.json()["checks"]
            assert checks["database"].startswith("error") and checks["broker"] == "ok"
            assert (await c.get("/healthz")).status_code == 200
    finally:
        broken.relay.connection = None
        await broken.engine.dispose()


async def test_a_deadlock_victim_answers_409_and_may_be_sent_again(client, tokens, runtime):
    """Two requests that lock the same rows in opposite order: PostgreSQL aborts one.
    That one must not be a 500: its transaction was rolled back and it may be sent again."""
    h = tokens.headers(Role.staff)
    for name in ("left", "right"):
        assert (await client.post("/v1/probes", json={"name": name}, headers=h)).status_code == 201
    answers = await asyncio.gather(
        client.post("/v1/probes/swap?first=left&second=right", headers=h),
        client.post("/v1/probes/swap?first=right&second=left", headers=h),
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    victim = next(r for r in answers if r.status_code == 409)
    body = assert_problem(victim, 409)
    assert body["title"] == "Concurrent change"
    assert victim.headers["Retry-After"] == "1"
    # sent again, it goes through
    again = await client.post("/v1/probes/swap?first=left&second=right", headers=h)
    assert again.status_code == 200
