"""summary read model, bookings, memberships, notes, activity, search indexes

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        "CREATE INDEX ix_customers_tenant_last_name ON customers (tenant_id, lower(last_name), id)"
    )
    op.execute(
        "CREATE INDEX ix_customers_tenant_names ON customers "
        "(tenant_id, lower(first_name), lower(last_name))"
    )
    op.execute(
        "CREATE INDEX ix_customers_tenant_name_trgm ON customers USING gin "
        "(tenant_id, (lower(first_name || ' ' || last_name)) gin_trgm_ops)"
    )
    op.execute("CREATE INDEX ix_customers_tenant_tags ON customers USING gin (tenant_id, tags)")

    op.create_table(
        "customer_summaries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("credits_available", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_paused", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_purchased", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_version", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column(
            "lifetime_spend_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "outstanding_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("currency", sa.String(3)),
        sa.Column("billing_version", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column("bookings_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_booking_at", sa.DateTime(timezone=True)),
        sa.Column("last_booking_at", sa.DateTime(timezone=True)),
        sa.Column("last_activity_at", sa.DateTime(timezone=True)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_customer_summaries"),
    )
    op.create_index(
        "ix_customer_summaries_tenant_activity",
        "customer_summaries",
        ["tenant_id", "last_activity_at"],
    )
    op.execute(
        "INSERT INTO customer_summaries (tenant_id, customer_id) "
        "SELECT tenant_id, id FROM customers ON CONFLICT DO NOTHING"
    )

    op.create_table(
        "customer_bookings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("session_kind", sa.String(20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", name="pk_customer_bookings"),
    )
    op.create_index(
        "ix_customer_bookings_tenant_customer",
        "customer_bookings",
        ["tenant_id", "customer_id", "starts_at"],
    )

    op.create_table(
        "customer_memberships",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("plan_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "membership_id", name="pk_customer_memberships"),
    )
    op.create_index(
        "ix_customer_memberships_tenant_customer",
        "customer_memberships",
        ["tenant_id", "customer_id"],
    )

    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("author_sub", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index(
        "ix_notes_tenant_customer_created", "notes", ["tenant_id", "customer_id", "created_at"]
    )

    op.create_table(
        "customer_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_activity"),
    )
    op.create_index(
        "ix_customer_activity_tenant_customer_time",
        "customer_activity",
        ["tenant_id", "customer_id", "occurred_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("customer_activity")
    op.drop_table("notes")
    op.drop_table("customer_memberships")
    op.drop_table("customer_bookings")
    op.drop_table("customer_summaries")
    op.drop_index("ix_customers_tenant_tags", "customers")
    op.drop_index("ix_customers_tenant_name_trgm", "customers")
    op.drop_index("ix_customers_tenant_names", "customers")
    op.drop_index("ix_customers_tenant_last_name", "customers")
