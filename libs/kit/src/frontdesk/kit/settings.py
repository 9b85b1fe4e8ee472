"""Configuration from the environment only (pydantic-settings), with developer defaults."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefixes every exchange and queue name, so test runs never share names.
    bus_prefix: str = ""
    # Idle queues of a test run vanish after this many ms; unset in production.
    queue_expires_ms: int | None = None

    jwt_secret: str = "frontdesk-development-secret-change-me-please"
    jwt_issuer: str = "frontdesk"
    jwt_audience: str = "frontdesk"
    jwt_ttl_seconds: int = 12 * 3600

    otlp_endpoint: str | None = None
    log_level: str = "INFO"

    host: str = "127.0.0.1"
    port: int = 8000

    relay_batch_size: int = 500
    relay_poll_seconds: float = 1.0
    # A publication not confirmed within this time counts as failed (the row stays unsent).
    relay_publish_timeout_seconds: float = 10.0
    consumer_prefetch: int = 32
    # Delays before each retry of a failed message; after the last, it is parked.
    retry_delays_ms: list[int] = [1_000, 10_000, 60_000]

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"{self.pg_url.rstrip('/')}/{self.database_prefix}{self.service}"
