"""Tokens verified from a JWKS served over real HTTP: found by ``kid``, cached, fetched again
when a new key appears (a rotation needs no restart), never fetched for every forged key id,
an RSA key as well as an Ed25519 one, and a JWKS that is down refuses its tokens (401) while
the development key goes on working."""

import asyncio
import socket
import time
import uuid
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from kit_probe import SPEC
from pydantic import ValidationError

from frontdesk.kit import auth
from frontdesk.kit.auth import (
    Role,
    SigningKey,
    decode_token,
    development_key,
    issue_token,
    sign,
    token_claims,
    verify_token,
)
from frontdesk.kit.problems import Problem
from frontdesk.kit.service import Runtime
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import app_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JwksServer:
    """A JWKS endpoint over HTTP whose keys a test changes, counting the fetches."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.fetches = 0
        self.extra: list[dict[str, Any]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/.well-known/jwks.json"
        self._runner: web.AppRunner | None = None

    async def _jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response({"keys": [k.public_jwk() for k in self.keys] + self.extra})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def ed25519(kid: str | None = None) -> SigningKey:
    return SigningKey(kid or f"k-{uuid.uuid4().hex[:8]}", "EdDSA", Ed25519PrivateKey.generate())


@pytest.fixture
async def server():
    s = JwksServer()
    await s.start()
    try:
        yield s
    finally:
        await s.stop()
        auth._KEYSETS.pop(s.url, None)


def settings_for(server: JwksServer, **over: Any) -> Settings:
    return Settings(**{"jwks_url": server.url, "jwks_min_refetch_seconds": 0.5, **over})


def token_for(settings: Settings, key: SigningKey, **over: Any) -> str:
    claims = token_claims(settings, tenant_id=uuid.uuid4(), role=Role.staff, sub="s-1")
    claims.update(over)
    return sign(claims, key)


async def test_a_token_verifies_from_the_jwks_and_the_keys_are_cached(server):
    settings = settings_for(server)
    key = ed25519()
    server.keys = [key]
    for _ in range(5):
        principal = await verify_token(settings, token_for(settings, key))
        assert principal.role is Role.staff and principal.sub == "s-1"
    assert server.fetches == 1
    # Once fetched, the synchronous decode knows the key as well.
    assert decode_token(settings, token_for(settings, key)).sub == "s-1"


async def test_a_rotated_key_is_fetched_at_once_and_old_tokens_stay_valid(server):
    settings = settings_for(server)
    old, new = ed25519(), ed25519()
    server.keys = [old]
    old_token = token_for(settings, old)
    await verify_token(settings, old_token)
    server.keys = [new, old]  # rotation: the new key signs, the old one still verifies
    await asyncio.sleep(0.6)
    assert (await verify_token(settings, token_for(settings, new))).sub == "s-1"
    assert (await verify_token(settings, old_token)).sub == "s-1"
    assert server.fetches == 2
    # Retired for good: once the JWKS no longer lists it, the old key verifies nothing.
    server.keys = [new]
    await asyncio.sleep(0.6)
    await auth.keyset(server.url).refresh(settings)
    with pytest.raises(Problem) as caught:
        await verify_token(settings, old_token)
    assert caught.value.status == 401


async def test_forged_key_ids_do_not_fetch_the_jwks_on_every_request(server):
    settings = settings_for(server, jwks_min_refetch_seconds=0.5)
    key = ed25519()
    server.keys = [key]
    await verify_token(settings, token_for(settings, key))

    async def forged() -> int:
        with pytest.raises(Problem) as caught:
            await verify_token(settings, token_for(settings, ed25519()))
        return caught.value.status

    started = time.monotonic()
    assert set(await asyncio.gather(*(forged() for _ in range(20)))) == {401}
    # The unknown key ids waited for the pause after the last fetch, then shared one fetch.
    assert server.fetches == 2
    assert 0.4 < time.monotonic() - started < 3


async def test_an_rsa_key_verifies_rs256_and_the_algorithm_is_pinned_by_the_key(server):
    settings = settings_for(server)
    rsa = SigningKey("rsa-1", "RS256", generate_private_key(65537, 2048))
    server.keys = [rsa]
    assert (await verify_token(settings, token_for(settings, rsa))).sub == "s-1"
    # The same key id with another algorithm (an Ed25519 key claiming to be rsa-1).
    with pytest.raises(Problem) as caught:
        await verify_token(
            settings,
            sign(token_claims(settings, tenant_id=uuid.uuid4(), role=Role.admin), ed25519("rsa-1")),
        )
    assert caught.value.status == 401 and "RS256" in str(caught.value.detail)


async def test_hmac_keys_in_a_jwks_are_ignored(server):
    settings = settings_for(server)
    secret = "a-shared-secret-that-is-long-enough-for-hs256"
    server.extra = [
        {
            "kty": "oct",
            "kid": "hmac",
            "k": jwt.utils.base64url_encode(secret.encode()).decode(),
            "alg": "HS256",
        }
    ]
    token = jwt.encode(
        token_claims(settings, tenant_id=uuid.uuid4(), role=Role.admin),
        secret,
        "HS256",
        headers={"kid": "hmac"},
    )
    with pytest.raises(Problem) as caught:
        await verify_token(settings, token)
    assert caught.value.status == 401


async def test_a_jwks_that_is_down_refuses_its_tokens_and_the_development_key_still_works(
    server,
):
    settings = settings_for(server)
    key = ed25519()
    server.keys = [key]
    await server.stop()
    started = time.monotonic()
    with pytest.raises(Problem) as caught:
        await verify_token(settings, token_for(settings, key))
    assert caught.value.status == 401 and time.monotonic() - started < 3
    dev = issue_token(settings, tenant_id=uuid.uuid4(), role=Role.admin)
    assert (await verify_token(settings, dev)).role is Role.admin
    # Back up: the key is found (a failed fetch is tried again after the pause).
    await server.start()
    await asyncio.sleep(0.6)
    assert (await verify_token(settings, token_for(settings, key))).sub == "s-1"


async def test_namespaced_claims_of_an_external_provider(server):
    settings = settings_for(
        server,
        jwt_claim_prefix="https://frontdesk.dev/",
        jwt_issuer="https://id.example.com/",
        jwt_audience="frontdesk-api",
    )
    key = SigningKey("provider-1", "RS256", generate_private_key(65537, 2048))
    server.keys = [key]
    tenant = uuid.uuid4()
    now = int(time.time())
    claims = {
        "iss": "https://id.example.com/",
        "aud": "frontdesk-api",
        "iat": now,
        "exp": now + 60,
        "sub": "auth0|123",
        "https://frontdesk.dev/tid": str(tenant),
        "https://frontdesk.dev/role": "staff",
        "https://frontdesk.dev/perms": ["view_notes"],
    }
    principal = await verify_token(settings, sign(claims, key))
    assert principal.tenant_id == tenant and principal.sub == "auth0|123"
    assert {p.value for p in principal.permissions} == {"view_notes"}


async def test_the_guard_verifies_from_the_jwks(server):
    settings = SPEC.settings(jwks_url=server.url)
    key = ed25519()
    server.keys = [key]
    runtime = Runtime(SPEC, settings)  # whoami needs no database
    try:
        async with app_client(runtime) as client:
            good = {"Authorization": f"Bearer {token_for(settings, key)}"}
            r = await client.get("/v1/probes/whoami", headers=good)
            assert r.status_code == 200, r.text
            bad = {"Authorization": f"Bearer {token_for(settings, ed25519())}"}
            r = await client.get("/v1/probes/whoami", headers=bad)
            assert r.status_code == 401
    finally:
        await runtime.engine.dispose()


def test_production_has_no_development_key():
    strong = "s" * 40
    settings = Settings(env="production", jwt_secret=strong)
    assert not settings.development_key_allowed
    with pytest.raises(RuntimeError):
        development_key(settings)
    with pytest.raises(RuntimeError):
        issue_token(settings, tenant_id=uuid.uuid4(), role=Role.admin)
    with pytest.raises(ValidationError) as caught:
        Settings(env="production", jwt_secret=strong, jwt_development_key=True)
    assert "DEVELOPMENT_KEY" in str(caught.value)
    with pytest.raises(ValidationError):
        Settings(env="production", jwt_secret=strong, service_urls={})
    # A development-key token is refused by a production service.
    dev_token = issue_token(Settings(jwt_secret=strong), tenant_id=uuid.uuid4(), role=Role.admin)
    with pytest.raises(Problem):
        decode_token(settings, dev_token)
    # Outside production it can be switched off as well.
    assert not Settings(jwt_development_key=False).development_key_allowed
