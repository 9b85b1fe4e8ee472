"""Tables of the gateway database. Every tenant's table has ``tenant_id`` and its indexes
lead with it.

Two tables belong to the deployment, not to a tenant: ``signing_keys`` (one key signs for
every tenant) and the slug index of ``tenants`` (a login names its tenant by slug). The
webhook worker claims due deliveries across tenants, as the outbox relay does.

Held by the database: one account per email per tenant, one self-service account per
customer, secrets stored only as SHA-256 digests (unique per tenant), at most one active
signing key, one delivery per endpoint and event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from frontdesk.kit.db import messaging_tables, new_metadata

metadata = new_metadata()
messaging = messaging_tables(metadata)


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),  # the same as id: the tenant is its own
    Column("slug", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_country", String(2), nullable=False),
    Column("language", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("seller", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("id = tenant_id", name="own_tenant"),
    UniqueConstraint("slug", name="uq_tenants_slug"),
    Index("ix_tenants_tenant_id", "tenant_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("email", String(320), nullable=False),  # lower-cased
    Column("name", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("permissions", ARRAY(String(40)), nullable=False, server_default=text("'{}'")),
    Column("password_hash", Text),
    Column("status", String(10), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("role IN ('owner', 'admin', 'staff')", name="role_known"),
    CheckConstraint("status IN ('invited', 'active', 'disabled')", name="status_known"),
    CheckConstraint("status <> 'active' OR password_hash IS NOT NULL", name="active_has_password"),
    UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    Index("ix_users_tenant_created", "tenant_id", "created_at", "id"),
)

customer_accounts = Table(
    "customer_accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text),  # argon2id; NULL: signs in by link only
    Column("password_changed_at", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    UniqueConstraint("tenant_id", "customer_id", name="uq_customer_accounts_tenant_customer"),
    # A password login finds the account by its email.
    Index("ix_customer_accounts_tenant_email", "tenant_id", "email"),
)

# What customers' events told about each customer: enough to send a sign-in link.
customer_contacts = Table(
    "customer_contacts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("email", String(320)),  # lower-cased
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    # The customers service's aggregate version last applied (older events lose).
    Column("source_version", Integer, nullable=False, server_default=text("0")),
    Column("gone", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
    Index("ix_customer_contacts_tenant_email", "tenant_id", "email"),
)

# A login session is a family of refresh tokens: revoking it ends every one of them and
# the access tokens that name it (``sid``).
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("method", String(20), nullable=False),
    Column("user_agent", String(300)),
    Column("address", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", String(40)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    CheckConstraint("kind IN ('staff', 'customer')", name="kind_known"),
    Index("ix_login_sessions_tenant_account", "tenant_id", "account_id"),
    # The worker repeats recent revocations to Redis (across tenants, like the relay).
    Index(
        "ix_login_sessions_revoked",
        "revoked_at",
        postgresql_where=text("revoked_at IS NOT NULL"),
    ),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("session_id", Uuid, ForeignKey("login_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "token_hash", name="uq_refresh_tokens_tenant_hash"),
    Index("ix_refresh_tokens_tenant_session", "tenant_id", "session_id"),
)

# Invitations, password resets and sign-in links: one-time secrets, stored as digests.
one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    CheckConstraint(
        "purpose IN ('invitation', 'password_reset', 'login_link')", name="purpose_known"
    ),
    UniqueConstraint("tenant_id", "token_hash", name="uq_one_time_tokens_tenant_hash"),
    Index("ix_one_time_tokens_tenant_account", "tenant_id", "account_id", "purpose"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(10), nullable=False),
    Column("private_pem", Text, nullable=False),  # encrypted (PKCS#8, passphrase)
    Column("public_jwk", JSONB, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("retired_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('active', 'retired')", name="status_known"),
    Index(
        "uq_signing_keys_one_active",
        "status",
        unique=True,
        postgresql_where=text("status = 'active'"),
    ),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(500)),
    Column("event_types", ARRAY(String(200)), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    Index("ix_webhook_endpoints_tenant_created", "tenant_id", "created_at", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),  # the webhook-id header: the same on every retry
    Column("tenant_id", Uuid, nullable=False),
    Column(
        "endpoint_id",
        Uuid,
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # Failed attempts since the delivery was (re)started: which retry delay comes next.
    Column("round_attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    UniqueConstraint(
        "tenant_id", "endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"
    ),
    Index(
        "ix_webhook_deliveries_tenant_endpoint_created",
        "tenant_id",
        "endpoint_id",
        "created_at",
        "id",
    ),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column(
        "delivery_id",
        Uuid,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status_code", Integer),
    Column("error", String(500)),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_webhook_attempts_tenant_delivery", "tenant_id", "delivery_id", "id"),
)
