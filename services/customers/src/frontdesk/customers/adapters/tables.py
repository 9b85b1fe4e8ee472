"""Tables of the customers database. Every index leads with tenant_id."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from frontdesk.kit.db import messaging_tables, new_metadata

metadata = new_metadata()
messaging = messaging_tables(metadata)

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("source", String(20), nullable=False, server_default="staff"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True)),
    Index("ix_customers_tenant_email", "tenant_id", "email"),
    Index("ix_customers_tenant_phone", "tenant_id", "phone"),
    Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"),
    # 0002: search, sort by last name, duplicate lookup by name, tag filter.
    Index("ix_customers_tenant_last_name", "tenant_id", text("lower(last_name)"), "id"),
    Index(
        "ix_customers_tenant_names",
        "tenant_id",
        text("lower(first_name)"),
        text("lower(last_name)"),
    ),
    Index(
        "ix_customers_tenant_name_trgm",
        "tenant_id",
        text("(lower(first_name || ' ' || last_name)) gin_trgm_ops"),
        postgresql_using="gin",
    ),
    Index("ix_customers_tenant_tags", "tenant_id", "tags", postgresql_using="gin"),
)

# The summary read model, one row per customer (also for a customer not yet
# known here: events may arrive before the record). Kept from other services'
# events; each source carries its own aggregate_version so stale events are dropped.
customer_summaries = Table(
    "customer_summaries",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("credits_available", Integer, nullable=False, server_default=text("0")),
    Column("credits_paused", Integer, nullable=False, server_default=text("0")),
    Column("credits_purchased", Integer, nullable=False, server_default=text("0")),
    Column("credits_version", Integer, nullable=False, server_default=text("-1")),
    Column("lifetime_spend_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("outstanding_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("currency", String(3)),
    Column("billing_version", Integer, nullable=False, server_default=text("-1")),
    Column("bookings_count", Integer, nullable=False, server_default=text("0")),
    Column("first_booking_at", DateTime(timezone=True)),
    Column("last_booking_at", DateTime(timezone=True)),
    Column("last_activity_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
    Index("ix_customer_summaries_tenant_activity", "tenant_id", "last_activity_at"),
)

# One row per booking, its latest status (version-checked); summaries derive from it.
customer_bookings = Table(
    "customer_bookings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("customer_id", Uuid),
    Column("status", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("session_kind", String(20), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
    # 0003: when the customer last did something with this booking (booked, cancelled
    # it themselves, attended); carried over to the customer it is linked to later.
    Column("activity_at", DateTime(timezone=True)),
    # 0004: the version of the class's last scheduling.session.changed applied here; from
    # then on its title comes from those events only (a booking event published before a
    # rename and handled after it must not bring the old title back).
    Column("session_version", Integer),
    PrimaryKeyConstraint("tenant_id", "booking_id"),
    Index("ix_customer_bookings_tenant_customer", "tenant_id", "customer_id", "starts_at"),
)

# Memberships per customer (from credits), version-checked per membership.
customer_memberships = Table(
    "customer_memberships",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("membership_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "membership_id"),
    Index("ix_customer_memberships_tenant_customer", "tenant_id", "customer_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("author_sub", String(200), nullable=False),
    Column("author_name", String(200)),
    Column("text", Text, nullable=False),
    Column("visibility", String(10), nullable=False),
    Column("pinned", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_notes_tenant_customer_created", "tenant_id", "customer_id", "created_at"),
)

# Activity from other services' events (bookings, messages, invoices); one row per event.
customer_activity = Table(
    "customer_activity",
    metadata,
    Column("id", Uuid, primary_key=True),  # the event id: idempotent
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("event", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("summary", Text, nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index(
        "ix_customer_activity_tenant_customer_time", "tenant_id", "customer_id", "occurred_at", "id"
    ),
)

# 0003: customers deleted here. Events about them that arrive later (credits, bookings,
# invoices still in flight) are dropped, so nothing is kept about them again.
deleted_customers = Table(
    "deleted_customers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
)
