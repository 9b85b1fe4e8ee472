"""Tables of the scheduling database. Every index leads with tenant_id.

Constraints that must hold whatever the concurrency live here and in the
migrations: the seat counter of a session never exceeds its capacity (CHECK),
one active booking per customer per session (partial unique index), no
overlapping active appointments for one staff member or one room (exclusion
constraints, created in the migration with btree_gist), no trainer or room held
by two classes, events or appointments at once (``occupancy``, one exclusion
constraint across kinds), and one booking or appointment per
``Idempotency-Key`` (primary key of idempotency_keys, claimed in the same
transaction as the resource).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
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
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, ExcludeConstraint

from frontdesk.kit.db import messaging_tables, new_metadata
from frontdesk.kit.idempotency import idempotency_table

metadata = new_metadata()
messaging = messaging_tables(metadata)


def _timestamps() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


locations = Table(
    "locations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("address", String(500)),
    *_timestamps(),
    Index("ix_locations_tenant_name", "tenant_id", "name"),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False, server_default="room"),
    Column("capacity", Integer),
    *_timestamps(),
    CheckConstraint("kind IN ('room', 'bay')", name="kind"),
    Index("ix_rooms_tenant_location", "tenant_id", "location_id"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("role", String(50), nullable=False, server_default="trainer"),
    Column("location_id", Uuid, ForeignKey("locations.id")),
    Column("working_hours", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    *_timestamps(),
    Index("ix_staff_tenant_name", "tenant_id", "name"),
)

# A recurring series (RFC 5545 RRULE): every occurrence is a real session or appointment
# pointing back with ``series_id`` and ``recurrence_at`` (the start the rule gave it).
series = Table(
    "series",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("rrule", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("first_starts_at", DateTime(timezone=True), nullable=False),
    Column("occurrences", Integer, nullable=False),
    # Open-ended (no COUNT or UNTIL): made up to ``made_until``, grown by the worker
    # until "this and all following" is cancelled from ``ended_from``.
    Column("open_ended", Boolean, nullable=False, server_default=text("false")),
    Column("made_until", DateTime(timezone=True)),
    Column("ended_from", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('session', 'appointment')", name="kind"),
    Index("ix_series_tenant_id_created_at", "tenant_id", "created_at"),
    Index(
        "ix_series_growing",
        "made_until",
        postgresql_where=text("open_ended AND ended_from IS NULL"),
    ),
)


def _series_columns(table: str) -> list[Any]:
    return [
        Column("series_id", Uuid, ForeignKey("series.id")),
        Column("recurrence_at", DateTime(timezone=True)),
        Index(
            f"ix_{table}_tenant_id_series_id_recurrence_at",
            "tenant_id",
            "series_id",
            "recurrence_at",
            postgresql_where=text("series_id IS NOT NULL"),
        ),
    ]


sessions = Table(
    "sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("kind", String(10), nullable=False, server_default="class"),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("room_id", Uuid, ForeignKey("rooms.id")),
    Column("staff_id", Uuid, ForeignKey("staff.id")),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("seats_taken", Integer, nullable=False, server_default=text("0")),
    Column("payment_method", String(20), nullable=False),
    Column("credits", Integer, nullable=False, server_default=text("0")),
    Column("price_minor", Integer, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("status", String(20), nullable=False, server_default="scheduled"),
    Column("cancel_reason", Text),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("capacity >= 0", name="capacity_non_negative"),
    CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint("kind IN ('class', 'event')", name="kind"),
    CheckConstraint(
        "payment_method IN ('credits', 'pay_per_session', 'free')", name="payment_method"
    ),
    CheckConstraint("credits >= 0 AND price_minor >= 0", name="price_non_negative"),
    CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
    Index("ix_sessions_tenant_location_starts", "tenant_id", "location_id", "starts_at"),
    Index("ix_sessions_tenant_staff_starts", "tenant_id", "staff_id", "starts_at"),
    Index("ix_sessions_tenant_room_starts", "tenant_id", "room_id", "starts_at"),
    *_series_columns("sessions"),
)

BOOKING_ACTIVE_SQL = "status NOT IN ('cancelled', 'rejected')"

bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("session_id", Uuid, ForeignKey("sessions.id"), nullable=False),
    Column("customer_id", Uuid),
    Column("guest_first_name", String(100)),
    Column("guest_last_name", String(100)),
    Column("guest_email", String(320)),
    Column("guest_phone", String(20)),
    Column("seats", Integer, nullable=False),
    Column("notes", Text),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("payment_method", String(20), nullable=False),
    Column("credits", Integer, nullable=False, server_default=text("0")),
    Column("price_minor", Integer, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("reason", Text),
    Column("refund", Boolean),
    Column("late", Boolean),
    Column("checked_in_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("seats >= 0", name="seats_non_negative"),
    Column("payer_customer_id", Uuid),
    Column("waitlisted_at", DateTime(timezone=True)),
    Column("promoted_at", DateTime(timezone=True)),
    CheckConstraint(
        "status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'attended', 'no_show', "
        "'waitlisted')",
        name="status",
    ),
    CheckConstraint("status <> 'waitlisted' OR waitlisted_at IS NOT NULL", name="waitlist_order"),
    # The waitlist of a session in queue order.
    Index(
        "ix_bookings_tenant_session_waitlist",
        "tenant_id",
        "session_id",
        "waitlisted_at",
        "id",
        postgresql_where=text("status = 'waitlisted'"),
    ),
    Index("ix_bookings_tenant_payer", "tenant_id", "payer_customer_id"),
    CheckConstraint("customer_id IS NOT NULL OR guest_email IS NOT NULL", name="who"),
    Index(
        "uq_bookings_one_per_customer",
        "tenant_id",
        "session_id",
        "customer_id",
        unique=True,
        postgresql_where=text(f"customer_id IS NOT NULL AND {BOOKING_ACTIVE_SQL}"),
    ),
    Index(
        "uq_bookings_one_per_guest",
        "tenant_id",
        "session_id",
        "guest_email",
        unique=True,
        postgresql_where=text(f"customer_id IS NULL AND {BOOKING_ACTIVE_SQL}"),
    ),
    Index("ix_bookings_tenant_customer", "tenant_id", "customer_id", "created_at"),
    Index("ix_bookings_tenant_session", "tenant_id", "session_id"),
    Index(
        "ix_bookings_tenant_pending",
        "tenant_id",
        "created_at",
        postgresql_where=text("status = 'pending'"),
    ),
    # The payment step's latest answer, across tenants (the saga timeout asks for it).
    Index(
        "ix_bookings_payment_answers",
        "decided_at",
        postgresql_where=text("payment_method = 'credits' AND status IN ('confirmed', 'rejected')"),
    ),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("staff_id", Uuid, ForeignKey("staff.id"), nullable=False),
    Column("room_id", Uuid, ForeignKey("rooms.id")),
    Column("customer_id", Uuid, nullable=False),
    Column("title", String(200), nullable=False),
    Column("notes", Text),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, server_default="draft"),
    Column("price_minor", Integer, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    *_timestamps(),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint(
        "status IN ('draft', 'confirmed', 'completed', 'cancelled', 'no_show')", name="status"
    ),
    CheckConstraint("price_minor >= 0", name="price_non_negative"),
    Index("ix_appointments_tenant_location_starts", "tenant_id", "location_id", "starts_at"),
    Index("ix_appointments_tenant_customer", "tenant_id", "customer_id", "starts_at"),
    *_series_columns("appointments"),
    Column("asset_id", Uuid),
)

# The exclusion constraints on appointments (created by the migration):
APPOINTMENT_EXCLUSIONS = {
    "ex_appointments_staff_overlap": "staff_id",
    "ex_appointments_room_overlap": "room_id",
}

# What holds a trainer or a room, and when: one row per (holder, resource kind) of every
# active session (not cancelled) and active appointment (draft, confirmed), for
# ``[starts_at, ends_at)``, written in the same transaction as the holder's change. One
# exclusion constraint keeps one resource from two overlapping holders of any kind.
RESOURCE_KINDS = ("staff", "room")
HOLDER_KINDS = ("session", "appointment")
OCCUPANCY_OVERLAP = "ex_occupancy_overlap"

occupancy = Table(
    "occupancy",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("resource_kind", String(10), nullable=False),
    Column("resource_id", Uuid, nullable=False),
    Column("during", TSTZRANGE, nullable=False),
    Column("holder_kind", String(20), nullable=False),
    Column("holder_id", Uuid, nullable=False),
    CheckConstraint("resource_kind IN ('staff', 'room')", name="resource_kind"),
    CheckConstraint("holder_kind IN ('session', 'appointment')", name="holder_kind"),
    CheckConstraint("lower_inc(during) AND NOT upper_inc(during)", name="half_open"),
    PrimaryKeyConstraint("tenant_id", "holder_kind", "holder_id", "resource_kind"),
    ExcludeConstraint(
        ("tenant_id", "="),
        ("resource_kind", "="),
        ("resource_id", "="),
        ("during", "&&"),
        using="gist",
        name=OCCUPANCY_OVERLAP,
    ),
)

customer_states = Table(
    "customer_states",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("customer_id", Uuid, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

booking_policies = Table(
    "booking_policies",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("free_cancel_hours", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("free_cancel_hours >= 0", name="hours_non_negative"),
)

# Subscribable iCalendar feeds (calendar apps cannot send a bearer token): the URL
# carries a random secret; only its SHA-256 is stored. A feed covers one location,
# staff member or room (staff feeds), or one customer's own bookings.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("name", String(200)),
    Column("location_id", Uuid, ForeignKey("locations.id")),
    Column("staff_id", Uuid, ForeignKey("staff.id")),
    Column("room_id", Uuid, ForeignKey("rooms.id")),
    Column("customer_id", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint(
        "customer_id IS NOT NULL OR location_id IS NOT NULL "
        "OR staff_id IS NOT NULL OR room_id IS NOT NULL",
        name="scoped",
    ),
    Index("uq_calendar_feeds_secret_hash", "secret_hash", unique=True),
    Index("ix_calendar_feeds_tenant_creator", "tenant_id", "created_by", "created_at"),
    Index("ix_calendar_feeds_tenant_customer", "tenant_id", "customer_id"),
)

# Copies of customers' events: who pays for whom (households) and the customers' assets.
household_links = Table(
    "household_links",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("payer_id", Uuid, primary_key=True),
    Column("member_id", Uuid, primary_key=True),
    Column("linked", Boolean, nullable=False),
    Column("relation", String(100)),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_household_links_tenant_member", "tenant_id", "member_id"),
)

customer_assets = Table(
    "customer_assets",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("asset_id", Uuid, primary_key=True),
    Column("customer_id", Uuid, nullable=False),
    Column("kind", String(100), nullable=False),
    Column("label", String(500), nullable=False),
    Column("removed", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_customer_assets_tenant_customer", "tenant_id", "customer_id"),
)

# Merges applied from customers' events, and every row each one moved (table, column,
# row), so that the unmerge moves exactly those back.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("merge_id", Uuid, primary_key=True),
    Column("survivor_id", Uuid, nullable=False),
    Column("merged_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('merged', 'unmerged')", name="status"),
)

merge_moves = Table(
    "merge_moves",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("merge_id", Uuid, primary_key=True),
    Column("table_name", String(40), primary_key=True),
    Column("column_name", String(40), primary_key=True),
    Column("row_id", Uuid, primary_key=True),
)

idempotency_keys = idempotency_table(metadata)
