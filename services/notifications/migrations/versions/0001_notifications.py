"""messages, contacts and opt-outs, bookings, sender settings, templates, bulk requests,
send slots, idempotency keys; outbox and inbox

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from frontdesk.kit.migrations import create_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "bookings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("event_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("session_type", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("location_name", sa.String(length=300), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=20), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bookings")),
    )
    op.create_index(
        "ix_bookings_tenant_customer", "bookings", ["tenant_id", "customer_id"], unique=False
    )
    op.create_index(
        "ix_bookings_tenant_session", "bookings", ["tenant_id", "session_id"], unique=False
    )
    op.create_table(
        "bulk_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bulk_requests")),
    )
    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("event_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("sms_consent", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("email_consent", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("erased", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_tenant_phone", "contacts", ["tenant_id", "phone"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=10), server_default="outbound", nullable=False),
        sa.Column("status", sa.String(length=12), server_default="queued", nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("bulk_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("written_body", sa.Text(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("outcome_unknown", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("erased", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_messages_channel_known")),
        sa.CheckConstraint(
            "direction IN ('outbound', 'inbound')", name=op.f("ck_messages_direction_known")
        ),
        sa.CheckConstraint(
            "status <> 'sending' OR (recipient IS NOT NULL AND body IS NOT NULL)",
            name=op.f("ck_messages_sending_has_words"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'cancelled', 'received')",
            name=op.f("ck_messages_status_known"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_messages_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_due",
        "messages",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_messages_tenant_booking", "messages", ["tenant_id", "booking_id"], unique=False
    )
    op.create_index(
        "ix_messages_tenant_bulk_status",
        "messages",
        ["tenant_id", "bulk_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_messages_tenant_created", "messages", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_messages_tenant_customer_created",
        "messages",
        ["tenant_id", "customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_messages_tenant_unknown",
        "messages",
        ["tenant_id", "sending_at"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        "uq_messages_tenant_dedupe",
        "messages",
        ["tenant_id", "dedupe_key"],
        unique=True,
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.create_index(
        "uq_messages_tenant_provider",
        "messages",
        ["tenant_id", "provider_id"],
        unique=True,
        postgresql_where=sa.text("provider_id IS NOT NULL"),
    )
    op.create_table(
        "send_slots",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sender", name=op.f("pk_send_slots")),
    )
    op.create_table(
        "sender_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("twilio_account_sid", sa.String(length=34), nullable=True),
        sa.Column("twilio_auth_token", sa.Text(), nullable=True),
        sa.Column("twilio_messaging_service_sid", sa.String(length=34), nullable=True),
        sa.Column("twilio_from", sa.String(length=20), nullable=True),
        sa.Column("sms_per_second", sa.Float(), nullable=True),
        sa.Column("email_from", sa.String(length=320), nullable=True),
        sa.Column("email_reply_to", sa.String(length=320), nullable=True),
        sa.Column("venue_name", sa.String(length=200), nullable=True),
        sa.Column("venue_phone", sa.String(length=40), nullable=True),
        sa.Column("venue_email", sa.String(length=320), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "sms_per_second IS NULL OR sms_per_second > 0",
            name=op.f("ck_sender_settings_rate_positive"),
        ),
        sa.CheckConstraint("tenant_id = id", name=op.f("ck_sender_settings_one_per_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_sender_settings"),
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "phone", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_templates")),
    )
    op.create_index(
        "uq_templates_tenant_kind_channel",
        "templates",
        ["tenant_id", "kind", "channel"],
        unique=True,
    )


def downgrade() -> None:
    for table in (
        "send_slots",
        "bulk_requests",
        "templates",
        "sender_settings",
        "bookings",
        "sms_opt_outs",
        "contacts",
        "messages",
        "idempotency_keys",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
