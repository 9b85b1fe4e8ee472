"""Tables of the customers database. Every index leads with tenant_id.

Triggers (migration 0005) keep what the list reads on one row per customer: the record's
list fields on its summary row (``listed``, ``erased``, ``status``, ``registered_at``,
``sort_name``), and what each summary change adds to the tenant's statistics
(``customer_stats_changes``, folded into ``customer_stats`` and ``customer_revenue``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
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
    # 0006: a merged record points at its survivor (C13); custom field values (C16).
    Column("merged_into", Uuid),
    Column("merged_at", DateTime(timezone=True)),
    Column("custom_fields", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_customers_tenant_email", "tenant_id", "email"),
    Index("ix_customers_tenant_phone", "tenant_id", "phone"),
    # 0002: search, duplicate lookup by name, tag filter (0005: the summary row serves the
    # sorts by last name and by registration).
    Index(
        "ix_customers_tenant_names",
        "tenant_id",
        text("lower(first_name)"),
        text("lower(last_name)"),
    ),
    Index("ix_customers_tenant_tags", "tenant_id", "tags", postgresql_using="gin"),
    # 0005: search by a fragment (or a similar word) of the name, email or phone. Without
    # the tenant: with it every scan also walked the tenant's posting list (ten times the
    # work at a million); a small tenant's search reads its tenant-leading indexes instead.
    # No pending list (every search would scan it).
    *(
        Index(
            f"ix_customers_{name}_trgm",
            text(f"{column} gin_trgm_ops"),
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )
        for name, column in (
            ("name", "(lower(first_name || ' ' || last_name))"),
            ("email", "email"),
            ("phone", "phone"),
        )
    ),
    # 0006: the list's ``cf.<key>=value`` filters (containment, @>).
    Index(
        "ix_customers_tenant_custom_fields",
        "tenant_id",
        text("custom_fields jsonb_path_ops"),
        postgresql_using="gin",
    ),
)

# The list's sentinels for customers without activity: they sort after everyone else, in
# either direction. Written as SQL constants, so that the list's sort keys are exactly the
# expressions of the indexes below (a bound parameter would not match them).
EARLIEST_SQL = "'0001-01-02 00:00:00+00'::timestamptz"
LATEST_SQL = "'9999-12-30 00:00:00+00'::timestamptz"

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
    # 0005: the record's list fields, kept by triggers from ``customers`` (``listed``: the
    # record exists; a row for a customer not known yet is not listed).
    Column("listed", Boolean, nullable=False, server_default=text("false")),
    Column("erased", Boolean, nullable=False, server_default=text("false")),
    Column("status", String(20)),
    Column("registered_at", DateTime(timezone=True)),
    Column("sort_name", Text),  # lower(last_name)
    PrimaryKeyConstraint("tenant_id", "customer_id"),
    # 0005: one index per sort key of the list, each (tenant, key, customer): every page,
    # first or deep, is a range of one of them.
    Index(
        "ix_customer_summaries_tenant_activity_desc",
        "tenant_id",
        text(f"(coalesce(last_activity_at, {EARLIEST_SQL}))"),
        "customer_id",
    ),
    Index(
        "ix_customer_summaries_tenant_activity_asc",
        "tenant_id",
        text(f"(coalesce(last_activity_at, {LATEST_SQL}))"),
        "customer_id",
    ),
    Index(
        "ix_customer_summaries_tenant_revenue", "tenant_id", "lifetime_spend_minor", "customer_id"
    ),
    Index("ix_customer_summaries_tenant_bookings", "tenant_id", "bookings_count", "customer_id"),
    Index(
        "ix_customer_summaries_tenant_purchased", "tenant_id", "credits_purchased", "customer_id"
    ),
    Index("ix_customer_summaries_tenant_last_name", "tenant_id", "sort_name", "customer_id"),
    Index("ix_customer_summaries_tenant_registered", "tenant_id", "registered_at", "customer_id"),
    Index(
        "ix_customer_summaries_tenant_erased",
        "tenant_id",
        "customer_id",
        postgresql_where=text("erased"),
    ),
)

# 0005: the tenant's statistics: counters, plus the changes not folded into them yet.
customer_stats = Table(
    "customer_stats",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customers", BigInteger, nullable=False, server_default=text("0")),
    Column("erased", BigInteger, nullable=False, server_default=text("0")),
    Column("with_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("paused_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("no_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("inactive", BigInteger, nullable=False, server_default=text("0")),
    Column("bookings", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("tenant_id"),
)

# 0005: lifetime spend per currency (``customers``: how many have that currency).
customer_revenue = Table(
    "customer_revenue",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customers", BigInteger, nullable=False, server_default=text("0")),
    Column("amount_minor", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("tenant_id", "currency"),
)

# 0005: what each summary change added (a trigger writes them in the change's transaction;
# the worker folds them into the counters). ``currency`` set: a revenue change, where
# ``customers`` counts who has that currency.
customer_stats_changes = Table(
    "customer_stats_changes",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("currency", String(3)),
    Column("customers", BigInteger, nullable=False, server_default=text("0")),
    Column("erased", BigInteger, nullable=False, server_default=text("0")),
    Column("with_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("paused_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("no_credits", BigInteger, nullable=False, server_default=text("0")),
    Column("inactive", BigInteger, nullable=False, server_default=text("0")),
    Column("bookings", BigInteger, nullable=False, server_default=text("0")),
    Column("amount_minor", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_customer_stats_changes_tenant_id", "tenant_id", "id"),
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

# -- 0006: merges (C13), households (C14), assets (C15), custom fields (C16) -------------

# One row per merge: who, when, until when it can be undone, and what moved (``moved``:
# the ids of the notes, bookings, memberships, activity and assets moved, the tags and
# custom fields the survivor gained, and both summaries' figures before the merge).
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("survivor_id", Uuid, nullable=False),
    Column("merged_id", Uuid, nullable=False),
    Column("merged_by", String(200), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("undo_until", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undone_by", String(200)),
    Column("moved", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_customer_merges_tenant_survivor", "tenant_id", "survivor_id"),
    Index("ix_customer_merges_tenant_merged", "tenant_id", "merged_id"),
)

# A member (a child) and its one payer (a parent): the key makes "at most one payer".
household_links = Table(
    "household_links",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("member_id", Uuid, nullable=False),
    Column("payer_id", Uuid, nullable=False),
    Column("relation", String(50)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "member_id"),
    Index("ix_household_links_tenant_payer", "tenant_id", "payer_id"),
)

# The version of each member's household events (a link, an unlink, a link again...).
household_versions = Table(
    "household_versions",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("member_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("tenant_id", "member_id"),
)

customer_assets = Table(
    "customer_assets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("make", String(100)),
    Column("model", String(100)),
    Column("year", Integer),
    Column("plate", String(20)),  # as shown (upper case, single spaces)
    Column("plate_key", String(20)),  # letters and digits only: unique, searched
    Column("vin", String(17)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_customer_assets_tenant_customer", "tenant_id", "customer_id"),
    Index(
        "uq_customer_assets_tenant_plate",
        "tenant_id",
        text("plate_key text_pattern_ops"),
        unique=True,
        postgresql_where=text("plate_key IS NOT NULL"),
    ),
    Index(
        "uq_customer_assets_tenant_vin",
        "tenant_id",
        "vin",
        unique=True,
        postgresql_where=text("vin IS NOT NULL"),
    ),
)

custom_fields = Table(
    "custom_fields",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("key", String(40), nullable=False),
    Column("label", String(100), nullable=False),
    Column("type", String(10), nullable=False),
    Column("required", Boolean, nullable=False, server_default=text("false")),
    Column("choices", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("position", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("uq_custom_fields_tenant_key", "tenant_id", "key", unique=True),
)
