"""Configuration from the environment only (pydantic-settings), with developer defaults."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "frontdesk-development-secret-change-me-please"
MIN_SECRET_LENGTH = 32
# Where each service answers on a developer machine (FRONTDESK_SERVICE_URLS overrides, as JSON).
DEVELOPMENT_SERVICE_URLS = {
    "gateway": "http://127.0.0.1:8000",
    "customers": "http://127.0.0.1:8001",
    "credits": "http://127.0.0.1:8002",
    "scheduling": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
    "billing": "http://127.0.0.1:8005",
}


class Settings(BaseSettings):
    """Settings every service shares. Services subclass to add their own fields.

    ``FRONTDESK_DATABASE_URL`` names one database outright; otherwise the
    service's database is ``<pg_url>/<database_prefix><service>``, so one
    environment serves every process of a development run.
    """

    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    service: str = "frontdesk"
    pg_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432"
    database_prefix: str = "frontdesk_"
    database_url: str | None = None
    # PostgreSQL itself, when pg_url goes through PgBouncer in transaction mode: migrations
    # and the notice listener (LISTEN) need a session of their own there.
    direct_pg_url: str | None = None
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefixes every exchange and queue name, so test runs never share names.
    bus_prefix: str = ""

    # ``production`` refuses to start with the development secret, a placeholder or a short
    # one (a token could be minted by anyone who read this file).
    env: Literal["development", "test", "production"] = "development"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_issuer: str = "frontdesk"
    jwt_audience: str = "frontdesk"
    jwt_ttl_seconds: int = 12 * 3600
    # Access tokens are signed with an asymmetric key (EdDSA or RS256, pinned per key) and
    # verified against the JWKS of the gateway (or of an external OpenID Connect provider:
    # FRONTDESK_JWKS_URL, with its issuer and audience), cached and fetched again when a
    # token names a key not seen yet, so a key rotation needs no restart.
    jwks_url: str | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    # An unknown key id fetches the JWKS again at most this often (forged key ids cannot
    # turn every request into a fetch).
    jwks_min_refetch_seconds: float = Field(default=1.0, ge=0)
    jwks_timeout_seconds: float = Field(default=3.0, gt=0)
    jwt_algorithms: list[Literal["EdDSA", "RS256"]] = ["EdDSA", "RS256"]
    # Custom claims (tid, role, perms, name) under a namespace, as some OpenID Connect
    # providers require ("https://frontdesk.dev/" reads "https://frontdesk.dev/tid").
    jwt_claim_prefix: str = ""
    # The development key pair (derived from jwt_secret, so every process of a development
    # run has the same one without a file): ``frontdesk token`` and the test helpers sign
    # with it and services trust it. Unset: on everywhere but production, where it is
    # refused.
    jwt_development_key: bool | None = None
    # Where each service answers (the gateway routes to them; the kit finds the gateway's
    # JWKS here when FRONTDESK_JWKS_URL is unset).
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEVELOPMENT_SERVICE_URLS))

    otlp_endpoint: str | None = None
    log_level: str = "INFO"

    host: str = "127.0.0.1"
    port: int = 8000

    # Connections are a budget: each process holds at most pool + overflow connections to its
    # database (plus one listener for the API's waits): six services of two processes each
    # stay at 72 of PostgreSQL's 100; production puts PgBouncer (transaction mode) in front.
    # All kept open (no overflow by default): one opened in a burst and closed when it
    # idles costs a server process, the driver's type introspection and every statement
    # prepared again, the next burst (a rush opened ~170 a minute on scheduling's API).
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=0, ge=0, le=100)
    # A request that waits longer than this for a connection answers 503 with Retry-After.
    db_pool_timeout_seconds: float = Field(default=15.0, gt=0)
    # And so does one that finds this many already waiting: under overload the queue in
    # front of the pool stays short instead of growing without bound.
    db_pool_max_waiting: int = Field(default=256, ge=1)
    # Behind PgBouncer in transaction mode asyncpg must not keep prepared statements.
    db_statement_cache: bool = True

    # Requests one process works on at once; the next is answered 503 with Retry-After at
    # once (health checks excepted), so a rush beyond its means is refused, not queued.
    max_requests_in_flight: int = Field(default=256, ge=1)

    # Request bodies larger than this answer 413 before any of it is parsed.
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)

    relay_batch_size: int = 500
    # An outbox row the broker refused this many times is parked (see frontdesk parked).
    relay_max_attempts: int = Field(default=5, ge=1)
    relay_poll_seconds: float = 1.0
    # A publication not confirmed within this time counts as failed (the row stays unsent).
    relay_publish_timeout_seconds: float = 10.0
    # Messages the broker lets a consumer hold unacked: room for two full batches under
    # way and the next two arriving meanwhile.
    consumer_prefetch: int = 64
    # Batches a consumer handles at once. Two keep the database busy while the process
    # works; more only make the process and PostgreSQL fight over a small machine's cores.
    consumer_concurrency: int = Field(default=2, ge=1)
    # Messages that arrived together are handled in one transaction, up to this many.
    consumer_batch_max: int = Field(default=16, ge=1)
    # How long a consumer lets a batch fill after its first message arrived: 0 for the
    # saga's steps (each message at once); a projection that may lag a little takes
    # bigger batches, so fewer transactions and statements per message.
    consumer_linger_ms: int = Field(default=0, ge=0, le=5_000)
    # Delays before each retry of a failed message; after the last, it is parked.
    retry_delays_ms: list[int] = [1_000, 10_000, 60_000]

    @model_validator(mode="after")
    def _refuse_weak_secret_in_production(self) -> Self:
        if self.env == "production":
            secret = self.jwt_secret
            if (
                secret == DEVELOPMENT_JWT_SECRET
                or len(secret) < MIN_SECRET_LENGTH
                or "change-me" in secret.lower()
            ):
                raise ValueError(
                    "FRONTDESK_JWT_SECRET must be a random secret of at least "
                    f"{MIN_SECRET_LENGTH} characters in production (not the development default "
                    "or a placeholder)"
                )
            if self.jwt_development_key:
                raise ValueError(
                    "FRONTDESK_JWT_DEVELOPMENT_KEY cannot be on in production: tokens come from "
                    "the gateway (or an OpenID Connect provider) and are verified from its JWKS"
                )
            if self.resolved_jwks_url() is None:
                raise ValueError(
                    "production needs FRONTDESK_JWKS_URL or the gateway in FRONTDESK_SERVICE_URLS "
                    "to verify tokens"
                )
        return self

    @property
    def development_key_allowed(self) -> bool:
        """Whether the development key signs and is trusted (never in production)."""
        if self.jwt_development_key is None:
            return self.env != "production"
        return self.jwt_development_key and self.env != "production"

    def resolved_jwks_url(self) -> str | None:
        """The JWKS tokens are verified against: the setting, else the gateway's."""
        if self.jwks_url:
            return self.jwks_url
        gateway = self.service_urls.get("gateway")
        return f"{gateway.rstrip('/')}/.well-known/jwks.json" if gateway else None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"{self.pg_url.rstrip('/')}/{self.database_prefix}{self.service}"

    def resolved_direct_database_url(self) -> str:
        """This service's database on PostgreSQL itself (not through a pooler)."""
        if self.direct_pg_url is None:
            return self.resolved_database_url()
        return f"{self.direct_pg_url.rstrip('/')}/{self.database_prefix}{self.service}"
