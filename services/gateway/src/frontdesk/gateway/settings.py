"""The gateway's settings: the edge (routes, timeouts, rate limits), logins and tokens, and
outgoing webhooks. Every field is read from FRONTDESK_<NAME>."""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from frontdesk.kit.settings import Settings

# Which service owns each top-level path under /v1, known before any service answers (a
# service that is down is then 503, not 404); what the services' OpenAPI documents add to
# it is found at run time; FRONTDESK_ROUTES (JSON) replaces it. tests/test_shape.py
# checks it names every path the services serve.
DECLARED_ROUTES = {
    "customers": "customers",
    "custom-fields": "customers",
    "imports": "customers",
    "merges": "customers",
    "credit-products": "credits",
    "credit-packages": "credits",
    "credit-history": "credits",
    "membership-plans": "credits",
    "memberships": "credits",
    "loyalty": "credits",
    "program-products": "credits",
    "programs": "credits",
    "appointments": "scheduling",
    "booking-policy": "scheduling",
    "bookings": "scheduling",
    "calendar": "scheduling",
    "calendar-feeds": "scheduling",
    "locations": "scheduling",
    "rooms": "scheduling",
    "sessions": "scheduling",
    "staff": "scheduling",
    "bulk-messages": "notifications",
    "contact-preferences": "notifications",
    "messages": "notifications",
    "notification-settings": "notifications",
    "templates": "notifications",
    "twilio": "notifications",
    "billing-kpis": "billing",
    "billing-profile": "billing",
    "credit-notes": "billing",
    "invoices": "billing",
    "ledger": "billing",
    "payments": "billing",
    "vouchers": "billing",
}


# scheme://host[:port] (an IPv6 host in brackets), nothing after it.
ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class GatewaySettings(Settings):
    # --- the edge ------------------------------------------------------------------------
    routes: dict[str, str] = Field(default_factory=lambda: dict(DECLARED_ROUTES))
    # How long the merged OpenAPI document (and the prefixes read from it) is kept.
    openapi_refresh_seconds: float = Field(default=30.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    # A service that has not answered within this answers 504 (Prefer: wait stays well under).
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    upstream_max_keepalive: int = Field(default=50, ge=0)
    # Bodies pass through streamed; each service applies its own limit as well.
    max_body_bytes: int = Field(default=10 * 1_048_576, ge=1_024)
    # A folder with Swagger UI's files to serve instead of the installed package's (never
    # a CDN).
    docs_assets_dir: str | None = None
    # The address HTTP clients reach the gateway at, for links in emails.
    public_url: str = "http://127.0.0.1:8000"
    # The staff console (/console/) and customer self-service (/me/) in the browser.
    console_enabled: bool = True
    # Web apps on other origins that may call the API from a browser (CORS): exact
    # origins such as https://app.example.com, comma-separated or a JSON list; "*" for any.
    # None by default: the console and self-service are served from this origin.
    cors_origins: Annotated[list[str], NoDecode] = []
    # How long a browser may keep a preflight's answer.
    cors_max_age_seconds: int = Field(default=600, ge=0, le=86400)

    # --- rate limits (Redis, shared by every gateway replica) ----------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    rate_limit_per_tenant: int = Field(default=6000, ge=1)
    rate_limit_per_address: int = Field(default=1200, ge=1)
    # Logins, sign-up, password resets and sign-in links: far fewer, per address and per
    # account (tenant and email), so guessing passwords from many addresses is slow too.
    login_limit_per_address: int = Field(default=20, ge=1)
    login_limit_per_account: int = Field(default=10, ge=1)
    login_limit_window_seconds: int = Field(default=300, ge=1)

    # --- identity ------------------------------------------------------------------------
    access_token_ttl_seconds: int = Field(default=900, ge=10, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    invitation_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # A staff reset link lives this long; for as long after a customer's sign-in link, a
    # new password needs no current one (the link is the customer's reset).
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    login_link_ttl_seconds: int = Field(default=15 * 60, ge=60)
    # Anyone may create a tenant (with its owner) at POST /v1/tenants.
    signup_open: bool = True
    signing_algorithm: Literal["EdDSA", "RS256"] = "EdDSA"
    # The worker makes a new signing key when the current one is this old; the old one
    # stays in the JWKS until every token it signed has expired.
    signing_key_rotate_days: float = Field(default=30.0, gt=0)
    # Private keys are stored encrypted with this passphrase (default: derived from
    # FRONTDESK_JWT_SECRET, which production requires to be long and random).
    signing_key_passphrase: str | None = None
    signing_key_sweep_seconds: float = Field(default=3600.0, gt=0)

    # --- outgoing webhooks ---------------------------------------------------------------
    # Delays before each retry; after the last the delivery is marked failed (about a day).
    webhook_retry_delays_seconds: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_batch_size: int = Field(default=50, ge=1)
    # Plain http and private addresses (localhost, 10.x ...) as endpoints: unset means
    # allowed outside production only.
    webhook_allow_insecure: bool | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        # An origin is scheme://host[:port]; a path or a trailing slash would never match.
        for origin in origins:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return [o.lower() for o in origins]

    @property
    def insecure_webhooks_allowed(self) -> bool:
        if self.webhook_allow_insecure is None:
            return self.env != "production"
        return self.webhook_allow_insecure
