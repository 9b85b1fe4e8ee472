"""scheduling, outbox and inbox

Revision ID: 0001
Revises:

BTREE_GIST exclusion constraints keep one staff member or one room from two
overlapping active appointments; a CHECK keeps a session's seat counter within
its capacity.
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
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    create_messaging_tables()
    op.create_table(
        "booking_policies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("free_cancel_hours", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "free_cancel_hours >= 0", name=op.f("ck_booking_policies_hours_non_negative")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_booking_policies")),
    )
    op.create_table(
        "customer_states",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_customer_states")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
    )
    op.create_index("ix_locations_tenant_name", "locations", ["tenant_id", "name"], unique=False)
    op.create_table(
        "rooms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), server_default="room", nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
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
        sa.CheckConstraint("kind IN ('room', 'bay')", name=op.f("ck_rooms_kind")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_rooms_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
    )
    op.create_index("ix_rooms_tenant_location", "rooms", ["tenant_id", "location_id"], unique=False)
    op.create_table(
        "staff",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=50), server_default="trainer", nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column(
            "working_hours",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_staff_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_index("ix_staff_tenant_name", "staff", ["tenant_id", "name"], unique=False)
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("price_minor", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint(
            "status IN ('draft', 'confirmed', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_appointments_status"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_appointments_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_appointments_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_appointments_room_id_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_appointments_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(
        "ix_appointments_tenant_customer",
        "appointments",
        ["tenant_id", "customer_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_tenant_location_starts",
        "appointments",
        ["tenant_id", "location_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), server_default="class", nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("credits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("price_minor", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="scheduled", nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint("kind IN ('class', 'event')", name=op.f("ck_sessions_kind")),
        sa.CheckConstraint(
            "payment_method IN ('credits', 'pay_per_session', 'free')",
            name=op.f("ck_sessions_payment_method"),
        ),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name=op.f("ck_sessions_status")),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_sessions_capacity_non_negative")),
        sa.CheckConstraint(
            "credits >= 0 AND price_minor >= 0", name=op.f("ck_sessions_price_non_negative")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sessions_ends_after_start")),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity",
            name=op.f("ck_sessions_seats_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_sessions_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_sessions_room_id_rooms")),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_sessions_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(
        "ix_sessions_tenant_location_starts",
        "sessions",
        ["tenant_id", "location_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_sessions_tenant_room_starts",
        "sessions",
        ["tenant_id", "room_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_sessions_tenant_staff_starts",
        "sessions",
        ["tenant_id", "staff_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("guest_first_name", sa.String(length=100), nullable=True),
        sa.Column("guest_last_name", sa.String(length=100), nullable=True),
        sa.Column("guest_email", sa.String(length=320), nullable=True),
        sa.Column("guest_phone", sa.String(length=20), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("credits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("price_minor", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'attended', 'no_show')",
            name=op.f("ck_bookings_status"),
        ),
        sa.CheckConstraint(
            "customer_id IS NOT NULL OR guest_email IS NOT NULL", name=op.f("ck_bookings_who")
        ),
        sa.CheckConstraint("seats >= 0", name=op.f("ck_bookings_seats_non_negative")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_bookings_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index(
        "ix_bookings_tenant_customer",
        "bookings",
        ["tenant_id", "customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_bookings_tenant_pending",
        "bookings",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_bookings_tenant_session", "bookings", ["tenant_id", "session_id"], unique=False
    )
    op.create_index(
        "uq_bookings_one_per_customer",
        "bookings",
        ["tenant_id", "session_id", "customer_id"],
        unique=True,
        postgresql_where=sa.text(
            "customer_id IS NOT NULL AND status NOT IN ('cancelled', 'rejected')"
        ),
    )
    op.create_index(
        "uq_bookings_one_per_guest",
        "bookings",
        ["tenant_id", "session_id", "guest_email"],
        unique=True,
        postgresql_where=sa.text("customer_id IS NULL AND status NOT IN ('cancelled', 'rejected')"),
    )
    for name, column in (
        ("ex_appointments_staff_overlap", "staff_id"),
        ("ex_appointments_room_overlap", "room_id"),
    ):
        op.execute(
            f"ALTER TABLE appointments ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"(tenant_id WITH =, {column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('draft', 'confirmed'))"
        )


def downgrade() -> None:
    op.drop_index(
        "uq_bookings_one_per_guest",
        table_name="bookings",
        postgresql_where=sa.text("customer_id IS NULL AND status NOT IN ('cancelled', 'rejected')"),
    )
    op.drop_index(
        "uq_bookings_one_per_customer",
        table_name="bookings",
        postgresql_where=sa.text(
            "customer_id IS NOT NULL AND status NOT IN ('cancelled', 'rejected')"
        ),
    )
    op.drop_index("ix_bookings_tenant_session", table_name="bookings")
    op.drop_index(
        "ix_bookings_tenant_pending",
        table_name="bookings",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_bookings_tenant_customer", table_name="bookings")
    op.drop_table("bookings")
    op.drop_index("ix_sessions_tenant_staff_starts", table_name="sessions")
    op.drop_index("ix_sessions_tenant_room_starts", table_name="sessions")
    op.drop_index("ix_sessions_tenant_location_starts", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_appointments_tenant_location_starts", table_name="appointments")
    op.drop_index("ix_appointments_tenant_customer", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_staff_tenant_name", table_name="staff")
    op.drop_table("staff")
    op.drop_index("ix_rooms_tenant_location", table_name="rooms")
    op.drop_table("rooms")
    op.drop_table("outbox")
    op.drop_index("ix_locations_tenant_name", table_name="locations")
    op.drop_table("locations")
    op.drop_table("inbox")
    op.drop_table("customer_states")
    op.drop_table("booking_policies")
