"""Tables of the notifications database. Every table has ``tenant_id`` and every index
leads with it, except ``ix_messages_due``: the worker's one query across tenants (which
senders have due messages), like the relay's index on the outbox.

Held by the database, not only by code: one message per business fact
(``uq_messages_tenant_dedupe``: a booking's confirmation on a channel, a reminder of one
start time, a bulk request's message to one customer); one message per provider id
(``uq_messages_tenant_provider``: Twilio retrying a webhook records one reply); a status
the domain knows; a message being sent has its recipient and body.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from frontdesk.kit.db import messaging_tables, new_metadata
from frontdesk.kit.idempotency import idempotency_table

metadata = new_metadata()
messaging = messaging_tables(metadata)
idempotency_keys = idempotency_table(metadata)

STATUSES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "skipped",
    "cancelled",
    "received",
)

messages = Table(
    "messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("kind", String(30), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("direction", String(10), nullable=False, server_default="outbound"),
    Column("status", String(12), nullable=False, server_default="queued"),
    Column("customer_id", Uuid),
    Column("booking_id", Uuid),
    Column("bulk_id", Uuid),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("recipient", String(320)),
    Column("sender", String(320)),
    Column("reply_to", String(320)),
    Column("subject", Text),
    Column("body", Text),
    Column("written_body", Text),
    Column("template_version", Integer),
    Column("segments", Integer),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("provider_id", String(64)),
    Column("error_code", String(40)),
    Column("error_message", Text),
    Column("outcome_unknown", Boolean, nullable=False, server_default=text("false")),
    Column("claim_token", Uuid),
    Column("claimed_until", DateTime(timezone=True)),
    Column("sending_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("dedupe_key", String(200)),
    Column("context", JSONB),
    Column("expires_at", DateTime(timezone=True)),
    Column("created_by", String(200)),
    Column("erased", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"status IN {STATUSES}", name="status_known"),
    CheckConstraint("channel IN ('sms', 'email')", name="channel_known"),
    CheckConstraint("direction IN ('outbound', 'inbound')", name="direction_known"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    CheckConstraint(
        "status <> 'sending' OR (recipient IS NOT NULL AND body IS NOT NULL)",
        name="sending_has_words",
    ),
    Index("ix_messages_tenant_customer_created", "tenant_id", "customer_id", "created_at", "id"),
    Index("ix_messages_tenant_created", "tenant_id", "created_at", "id"),
    Index("ix_messages_tenant_booking", "tenant_id", "booking_id"),
    Index("ix_messages_tenant_bulk_status", "tenant_id", "bulk_id", "status"),
    Index(
        "uq_messages_tenant_dedupe",
        "tenant_id",
        "dedupe_key",
        unique=True,
        postgresql_where=text("dedupe_key IS NOT NULL"),
    ),
    Index(
        "uq_messages_tenant_provider",
        "tenant_id",
        "provider_id",
        unique=True,
        postgresql_where=text("provider_id IS NOT NULL"),
    ),
    Index("ix_messages_due", "due_at", postgresql_where=text("status = 'queued'")),
    Index(
        "ix_messages_tenant_unknown",
        "tenant_id",
        "sending_at",
        postgresql_where=text("status = 'sending'"),
    ),
)

contacts = Table(
    "contacts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),  # the customer's id
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("event_version", Integer, nullable=False, server_default=text("0")),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("sms_consent", Boolean, nullable=False, server_default=text("true")),
    Column("email_consent", Boolean, nullable=False, server_default=text("true")),
    Column("consent_version", Integer, nullable=False, server_default=text("1")),
    Column("language", String(20)),
    # Merged into another customer (customers' merge): messages still addressed to this
    # id go to the survivor's contact until the merge is undone.
    Column("merged_into", Uuid),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Column("erased", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_contacts_tenant_phone", "tenant_id", "phone"),
)

# Numbers that replied STOP (an opt-out belongs to the number, whoever has it).
sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("phone", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "phone"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),  # scheduling's booking id
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("event_version", Integer, nullable=False, server_default=text("0")),
    Column("customer_id", Uuid),
    Column("session_id", Uuid, nullable=False),
    Column("session_type", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("location_id", Uuid),
    Column("location_name", String(300)),
    Column("seats", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_starts_at", DateTime(timezone=True)),
    Column("cancelled_by", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_bookings_tenant_session", "tenant_id", "session_id"),
    Index("ix_bookings_tenant_customer", "tenant_id", "customer_id"),
)

sender_settings = Table(
    "sender_settings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),  # the tenant's id again (an aggregate's identity)
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("twilio_account_sid", String(34)),
    # Fernet-encrypted; never answered by the API.
    Column("twilio_auth_token", Text),
    Column("twilio_messaging_service_sid", String(34)),
    Column("twilio_from", String(20)),
    Column("sms_per_second", Float),
    Column("email_from", String(320)),
    Column("email_reply_to", String(320)),
    Column("venue_name", String(200)),
    Column("venue_phone", String(40)),
    Column("venue_email", String(320)),
    Column("link", String(500)),
    Column("language", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", name="pk_sender_settings"),
    CheckConstraint("tenant_id = id", name="one_per_tenant"),
    CheckConstraint("sms_per_second IS NULL OR sms_per_second > 0", name="rate_positive"),
)

templates = Table(
    "templates",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("kind", String(30), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("updated_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("uq_templates_tenant_kind_channel", "tenant_id", "kind", "channel", unique=True),
)

bulk_requests = Table(
    "bulk_requests",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),  # customers' request id
    Column("channel", String(10), nullable=False),
    Column("total", Integer, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "id"),
)

# The next free send slot of each sender: every worker reserves its slots here, so a
# sender keeps to its rate across all of them. ``tenant_id`` is the sender's owner (the
# all-zero id for the platform's shared sender).
send_slots = Table(
    "send_slots",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sender", String(200), nullable=False),
    Column("next_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "sender"),
)

# The tenant as the gateway last told it (``identity.tenant.changed``): ``version`` is
# the tenant's aggregate version, so an older event changes nothing.
tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_country", String(2)),
    Column("language", String(20)),
    Column("currency", String(3)),
    Column("time_zone", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", name="pk_tenant_settings"),
)

# Merges of two customers as customers announced them: one row per merge (a replay, or a
# merge arriving after its unmerge, changes nothing); ``consent_turned_off`` lists the
# survivor's channels the merge turned off (the stricter consent wins), which the unmerge
# turns back on.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("survivor_id", Uuid, nullable=False),
    Column("merged_id", Uuid, nullable=False),
    Column("state", String(10), nullable=False),
    Column("consent_turned_off", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "merge_id", name="pk_customer_merges"),
    CheckConstraint("state IN ('merged', 'unmerged')", name="state_known"),
    CheckConstraint("survivor_id <> merged_id", name="two_customers"),
)

# What a merge moved to the survivor (messages, bookings), row by row, for the unmerge.
merge_moves = Table(
    "merge_moves",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("row_id", Uuid, nullable=False),
    PrimaryKeyConstraint("tenant_id", "merge_id", "kind", "row_id", name="pk_merge_moves"),
)
