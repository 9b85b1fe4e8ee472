"""JWT bearer auth: roles and permissions as FastAPI dependencies.

The tenant always comes from the token, never from the request.

Access tokens are signed with an asymmetric key: EdDSA (Ed25519) or RS256, the algorithm
pinned by the key that verifies (a token whose header names another algorithm than its key
is refused, so neither ``none`` nor an HMAC made with a public key gets through). Keys are
found by the token's ``kid``:

- the development key, derived from ``jwt_secret`` so every process of a development run
  shares it without a file; ``frontdesk token`` and the test helpers (``issue_token``) sign
  with it. Never in production.
- the JWKS of the gateway (``/.well-known/jwks.json``) or of an external OpenID Connect
  provider (``FRONTDESK_JWKS_URL``): fetched once, cached for ``jwks_cache_seconds``, and
  fetched again at once when a token names a key not seen yet (so a rotation needs no
  restart; at most every ``jwks_min_refetch_seconds``, so forged key ids cannot turn every
  request into a fetch). A key the JWKS no longer lists verifies nothing.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import HTTPConnection

from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.problems import Forbidden, Unauthorized
from frontdesk.kit.settings import Settings

log = logging.getLogger(__name__)

# The development key's algorithm; tokens verify only with EdDSA or RS256 keys.
ALGORITHM = "EdDSA"
ASYMMETRIC = frozenset({"EdDSA", "RS256"})


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    staff = "staff"
    customer = "customer"


class Permission(StrEnum):
    add_participants = "add_participants"
    send_emails = "send_emails"
    view_notes = "view_notes"
    manage_credits = "manage_credits"
    manage_billing = "manage_billing"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str
    tenant_id: uuid.UUID
    role: Role
    permissions: frozenset[Permission] = frozenset()
    name: str | None = None
    # The login session a gateway token belongs to (logout revokes it); None otherwise.
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.owner, Role.admin)

    @property
    def is_customer(self) -> bool:
        return self.role is Role.customer

    def can(self, permission: Permission) -> bool:
        return self.is_admin or (self.role is Role.staff and permission in self.permissions)

    @property
    def customer_id(self) -> uuid.UUID | None:
        """For a customer token, the customer it belongs to (its ``sub``, checked to be a
        UUID when the token was read)."""
        if not self.is_customer:
            return None
        try:
            return uuid.UUID(self.sub)
        except ValueError:
            return None

    # The one visibility policy: staff see the whole tenant, a customer only itself, and
    # anything of another customer looks as if it were not there (404, never 403).

    def customer_scope(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        """The customer a read is limited to: what was asked for (None: everyone) for
        staff; for a customer token its own id, and asking for anyone else is not found."""
        if not self.is_customer:
            return customer_id
        own = self.customer_id
        if own is None or (customer_id is not None and customer_id != own):
            raise NotFoundError.of("customer")
        return own

    def ensure_sees(self, customer_id: uuid.UUID | None, what: str) -> None:
        """``NotFoundError`` naming ``what`` when a customer token reaches another's data."""
        if self.is_customer and (customer_id is None or customer_id != self.customer_id):
            raise NotFoundError.of(what)


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs access tokens, named by ``kid`` in their header."""

    kid: str
    algorithm: str  # "EdDSA" or "RS256"
    private_key: Any  # cryptography's Ed25519PrivateKey or RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (for a JWKS document)."""
        if self.algorithm == "EdDSA":
            jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@functools.lru_cache(maxsize=8)
def _development_key(secret: str) -> SigningKey:
    seed = hmac.new(secret.encode(), b"frontdesk-development-signing-key", hashlib.sha256)
    private = Ed25519PrivateKey.from_private_bytes(seed.digest())
    public = private.public_key().public_bytes_raw()
    return SigningKey(f"dev-{hashlib.sha256(public).hexdigest()[:16]}", ALGORITHM, private)


def development_key(settings: Settings) -> SigningKey:
    """The development key pair every process of a development run derives alike."""
    if not settings.development_key_allowed:
        raise RuntimeError(
            "no development key here (production, or FRONTDESK_JWT_DEVELOPMENT_KEY=false): "
            "tokens come from the gateway's login"
        )
    return _development_key(settings.jwt_secret)


def token_claims(
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    role: Role,
    permissions: list[Permission] | None = None,
    sub: str | None = None,
    name: str | None = None,
    ttl_seconds: int | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """The claims of an access token (what ``decode_token`` reads back)."""
    now = int(time.time())
    prefix = settings.jwt_claim_prefix
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + (ttl_seconds or settings.jwt_ttl_seconds),
        "jti": uuid.uuid4().hex,
        "sub": sub or str(uuid.uuid4()),
        f"{prefix}tid": str(tenant_id),
        f"{prefix}role": role.value,
        f"{prefix}perms": [p.value for p in permissions or []],
    }
    if name:
        claims[f"{prefix}name"] = name
    if session_id:
        claims["sid"] = session_id
    return claims


def sign(claims: Mapping[str, Any], key: SigningKey) -> str:
    return jwt.encode(
        dict(claims), key.private_key, algorithm=key.algorithm, headers={"kid": key.kid}
    )


def issue_token(
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    role: Role,
    permissions: list[Permission] | None = None,
    sub: str | None = None,
    name: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """A token signed with the development key (developer command, tests, demo data);
    refused in production, where tokens come from the gateway's login."""
    claims = token_claims(
        settings,
        tenant_id=tenant_id,
        role=role,
        permissions=permissions,
        sub=sub,
        name=name,
        ttl_seconds=ttl_seconds,
    )
    return sign(claims, development_key(settings))


# --- the keys that verify ----------------------------------------------------------------

JwksLoader = Callable[[], Awaitable[Mapping[str, Any]]]


class KeySet:
    """The verifying keys one JWKS URL lists, by ``kid``: fetched on first use, again when
    older than the cache time or when a token names a key not seen yet (at most every
    ``min_refetch`` seconds). A failed fetch keeps the keys known so far."""

    def __init__(self, url: str, loader: JwksLoader | None = None) -> None:
        self.url = url
        self.loader = loader
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None
        self.attempted_at: float | None = None
        self.fetches = 0
        self._lock: asyncio.Lock | None = None

    async def get(self, kid: str, settings: Settings) -> jwt.PyJWK | None:
        now = time.monotonic()
        seen = self.attempted_at
        if self.fetched_at is None or now - self.fetched_at > settings.jwks_cache_seconds:
            await self.refresh(settings, seen)
        elif kid not in self.keys:
            # A key not seen yet (a rotation): fetch again, but not sooner than the pause
            # after the last fetch; requests arriving meanwhile share that one fetch.
            if seen is not None:
                wait = seen + settings.jwks_min_refetch_seconds - now
                if wait > 0:
                    await asyncio.sleep(wait)
            await self.refresh(settings, seen)
        return self.keys.get(kid)

    async def refresh(self, settings: Settings, seen: float | bool | None = True) -> None:
        """Fetch the JWKS, unless another request did since ``seen`` (the last attempt the
        caller knew of; ``True``: fetch in any case)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if seen is not True and self.attempted_at != seen:
                return
            self.attempted_at = time.monotonic()
            try:
                document = await self._load(settings)
                keys = _parse_jwks(document, settings)
            except Exception as error:
                log.warning("could not fetch the JWKS at %s: %r", self.url, error)
                return
            self.keys = keys
            self.fetched_at = time.monotonic()
            self.fetches += 1

    async def _load(self, settings: Settings) -> Mapping[str, Any]:
        if self.loader is not None:
            return await self.loader()
        async with httpx.AsyncClient(timeout=settings.jwks_timeout_seconds) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document: Mapping[str, Any] = response.json()
            return document


def _parse_jwks(document: Mapping[str, Any], settings: Settings) -> dict[str, jwt.PyJWK]:
    allowed = set(settings.jwt_algorithms) & ASYMMETRIC
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue  # a key of a kind we do not verify with (an HMAC "oct" key, say)
        if key.algorithm_name in allowed:
            keys[entry["kid"]] = key
    return keys


_KEYSETS: dict[str, KeySet] = {}


def keyset(url: str) -> KeySet:
    """The process's cache of the keys ``url`` lists."""
    found = _KEYSETS.get(url)
    if found is None:
        found = _KEYSETS[url] = KeySet(url)
    return found


def serve_keys_locally(url: str, loader: JwksLoader) -> KeySet:
    """The process that serves the JWKS at ``url`` (the gateway) reads it from ``loader``
    rather than over HTTP from itself."""
    found = keyset(url)
    found.loader = loader
    return found


class _Claims(BaseModel):
    """What a token must carry, strictly typed: a wrong type is an invalid token (401)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    sub: str = Field(min_length=1, max_length=200)
    tid: uuid.UUID
    role: Role
    perms: list[Permission] = []
    name: str | None = Field(default=None, max_length=200)
    sid: str | None = Field(default=None, max_length=200)


def _invalid(reason: object) -> Unauthorized:
    return Unauthorized(f"Invalid token: {reason}", headers={"WWW-Authenticate": "Bearer"})


def _header(token: str, settings: Settings) -> tuple[str, str]:
    """The token's key id and algorithm, checked against what may sign at all."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _invalid(error) from None
    kid, algorithm = header.get("kid"), header.get("alg")
    if algorithm not in ASYMMETRIC or algorithm not in settings.jwt_algorithms:
        raise _invalid(f"the algorithm {algorithm!r} is not accepted")
    if not isinstance(kid, str) or not kid:
        raise _invalid("no key id (kid)")
    return kid, algorithm


@dataclass(frozen=True)
class _Signer:
    """The key that verifies a key id: ``source`` is the object it came from (the
    development key or a JWKS entry), whose identity tells whether it is still current."""

    source: object
    public: Any
    algorithm: str


@functools.lru_cache(maxsize=8)
def _development_signer(secret: str) -> tuple[str, _Signer]:
    """The development key's id and signer, once per secret (deriving its public key costs
    microseconds that every request would pay)."""
    dev = _development_key(secret)
    return dev.kid, _Signer(dev, dev.private_key.public_key(), dev.algorithm)


def _known_signer(settings: Settings, kid: str) -> _Signer | None:
    """The key for ``kid`` known without a fetch: the development key, or a JWKS entry
    fetched before."""
    if settings.development_key_allowed:
        dev_kid, dev = _development_signer(settings.jwt_secret)
        if kid == dev_kid:
            return dev
    url = settings.resolved_jwks_url()
    if url is not None and url in _KEYSETS:
        found = _KEYSETS[url].keys.get(kid)
        if found is not None:
            return _Signer(found, found.key, found.algorithm_name)
    return None


# Tokens verified lately, so that a client's every request does not check the signature
# again: for at most a minute, never past the token's own expiry, per verifying
# configuration, and only while the key that verified it is still current (a key the JWKS
# withdraws stops verifying its tokens at once).
_VERIFIED_TTL_SECONDS = 60.0
_VERIFIED_MAX = 10_000


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    valid_until: float
    kid: str
    source: object


_verified: dict[tuple[str, ...], _Verified] = {}


def _verified_key(settings: Settings, token: str) -> tuple[str, ...]:
    return (
        token,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.resolved_jwks_url() or "",
        ",".join(settings.jwt_algorithms),
        settings.jwt_claim_prefix,
        settings.jwt_secret if settings.development_key_allowed else "",
    )


def _recalled(settings: Settings, token: str) -> Principal | None:
    hit = _verified.get(_verified_key(settings, token))
    if hit is None or hit.valid_until <= time.time():
        return None
    signer = _known_signer(settings, hit.kid)
    return hit.principal if signer is not None and signer.source is hit.source else None


def decode_token(settings: Settings, token: str) -> Principal:
    """The principal a token names, verified with a key known without a fetch (the
    development key, or one of the JWKS fetched before); ``verify_token`` fetches the JWKS
    when needed."""
    known = _recalled(settings, token)
    if known is not None:
        return known
    kid, algorithm = _header(token, settings)
    return _decode(settings, token, algorithm, kid, _known_signer(settings, kid))


async def verify_token(settings: Settings, token: str) -> Principal:
    """The principal a token names, verified with the key its ``kid`` names (fetching the
    JWKS when that key is not known yet or the cached copy is old)."""
    known = _recalled(settings, token)
    if known is not None:
        return known
    kid, algorithm = _header(token, settings)
    signer = _known_signer(settings, kid)
    url = settings.resolved_jwks_url()
    if signer is None and url is not None:
        found = await keyset(url).get(kid, settings)
        signer = None if found is None else _Signer(found, found.key, found.algorithm_name)
    return _decode(settings, token, algorithm, kid, signer)


def _decode(
    settings: Settings, token: str, algorithm: str, kid: str, signer: _Signer | None
) -> Principal:
    if signer is None:
        raise _invalid("signed by an unknown key")
    if algorithm != signer.algorithm:
        raise _invalid(f"the key signs with {signer.algorithm}, not {algorithm}")
    try:
        raw = jwt.decode(
            token,
            signer.public,
            algorithms=[signer.algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        prefix = settings.jwt_claim_prefix
        if prefix:
            raw = {**raw, **{k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}}
        # JSON mode: the UUID and the enums arrive as text, strictly checked.
        claims = _Claims.model_validate_json(orjson.dumps(raw))
        principal = Principal(
            sub=claims.sub,
            tenant_id=claims.tid,
            role=claims.role,
            permissions=frozenset(claims.perms),
            name=claims.name,
            session_id=claims.sid,
        )
        if principal.is_customer and principal.customer_id is None:
            raise ValueError("a customer token's sub must be the customer's id")
        expires_at = float(raw["exp"])
    except (jwt.PyJWTError, ValidationError, ValueError, TypeError) as error:
        reason = "claims of the wrong type" if isinstance(error, ValidationError) else error
        raise _invalid(reason) from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()  # a burst of distinct tokens: start over rather than track age
    valid_until = min(expires_at, time.time() + _VERIFIED_TTL_SECONDS)
    remembered = _Verified(principal, valid_until, kid, signer.source)
    _verified[_verified_key(settings, token)] = remembered
    return principal


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):  # read by the request guard before the body
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    settings: Settings = request.app.state.runtime.settings
    return await verify_token(settings, credentials.credentials)


class BearerPrincipal(HTTPBearer):
    """``current_principal`` as one dependency instead of two (every route that asks who
    calls pays for each dependency it resolves): the principal the request guard verified
    before the body was read, else the bearer token's, verified here. OpenAPI documents it
    as the same ``HTTPBearer`` scheme."""

    def __init__(self) -> None:
        super().__init__(scheme_name="HTTPBearer", auto_error=False)

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        known = request.scope.get("state", {}).get("principal")
        if isinstance(known, Principal):
            return known
        credentials = await super().__call__(request)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized(
                "A bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
            )
        settings: Settings = request.app.state.runtime.settings
        return await verify_token(settings, credentials.credentials)


bearer_principal = BearerPrincipal()
CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


async def staff_principal(principal: CurrentPrincipal) -> Principal:
    """Owner, admin or staff: anyone working for the tenant, never a customer."""
    if principal.is_customer:
        raise Forbidden("This action is for staff.")
    return principal


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: admins and owners pass; staff need ``permission``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"This action needs the '{permission.value}' permission.")
        return principal

    return dependency


def require_admin() -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_admin:
            raise Forbidden("This action is for owners and admins.")
        return principal

    return dependency
