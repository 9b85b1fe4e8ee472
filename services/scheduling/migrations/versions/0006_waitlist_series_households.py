"""waitlists, recurring series, households, assets and merges (issue 14)

Revision ID: 0006
Revises: 0005

- ``bookings``: status ``waitlisted`` (holds no seat) with ``waitlisted_at`` (the queue
  order) and ``promoted_at`` (when a freed seat made it pending: the saga timeout counts
  from then); ``payer_customer_id`` (a household's payer books for a member).
- ``series``: an RFC 5545 rule expanded into real sessions or appointments, each
  pointing back with ``series_id`` and ``recurrence_at`` (the start the rule gave it).
- ``appointments.asset_id``: the customer's asset the appointment is for.
- ``household_links``, ``customer_assets``: copies of customers' events.
- ``customer_merges`` and ``merge_moves``: what a merge moved, so an unmerge moves
  exactly that back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'pending', 'confirmed', 'rejected', 'cancelled', 'attended', 'no_show'"


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("first_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('session', 'appointment')", name=op.f("ck_series_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    op.create_index(op.f("ix_series_tenant_id_created_at"), "series", ["tenant_id", "created_at"])

    for table in ("sessions", "appointments"):
        op.add_column(table, sa.Column("series_id", sa.Uuid(), nullable=True))
        op.add_column(table, sa.Column("recurrence_at", sa.DateTime(timezone=True), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_series_id_series"), table, "series", ["series_id"], ["id"]
        )
        op.create_index(
            op.f(f"ix_{table}_tenant_id_series_id_recurrence_at"),
            table,
            ["tenant_id", "series_id", "recurrence_at"],
            postgresql_where=sa.text("series_id IS NOT NULL"),
        )
    op.add_column("appointments", sa.Column("asset_id", sa.Uuid(), nullable=True))

    op.add_column("bookings", sa.Column("payer_customer_id", sa.Uuid(), nullable=True))
    op.add_column("bookings", sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("ck_bookings_status"), "bookings", type_="check")
    op.create_check_constraint(
        op.f("ck_bookings_status"), "bookings", f"status IN ({OLD_STATUSES}, 'waitlisted')"
    )
    op.create_check_constraint(
        op.f("ck_bookings_waitlist_order"),
        "bookings",
        "status <> 'waitlisted' OR waitlisted_at IS NOT NULL",
    )
    op.create_index(
        "ix_bookings_tenant_session_waitlist",
        "bookings",
        ["tenant_id", "session_id", "waitlisted_at", "id"],
        postgresql_where=sa.text("status = 'waitlisted'"),
    )
    op.create_index("ix_bookings_tenant_payer", "bookings", ["tenant_id", "payer_customer_id"])

    op.create_table(
        "household_links",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("payer_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("relation", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "payer_id", "member_id", name=op.f("pk_household_links")
        ),
    )
    op.create_index(
        "ix_household_links_tenant_member", "household_links", ["tenant_id", "member_id"]
    )

    op.create_table(
        "customer_assets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", "asset_id", name=op.f("pk_customer_assets")),
    )
    op.create_index(
        "ix_customer_assets_tenant_customer", "customer_assets", ["tenant_id", "customer_id"]
    )

    op.create_table(
        "customer_merges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('merged', 'unmerged')", name=op.f("ck_customer_merges_status")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "merge_id", name=op.f("pk_customer_merges")),
    )
    op.create_table(
        "merge_moves",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("column_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "merge_id",
            "table_name",
            "column_name",
            "row_id",
            name=op.f("pk_merge_moves"),
        ),
    )


def downgrade() -> None:
    op.drop_table("merge_moves")
    op.drop_table("customer_merges")
    op.drop_index("ix_customer_assets_tenant_customer", table_name="customer_assets")
    op.drop_table("customer_assets")
    op.drop_index("ix_household_links_tenant_member", table_name="household_links")
    op.drop_table("household_links")
    op.drop_index("ix_bookings_tenant_payer", table_name="bookings")
    op.drop_index("ix_bookings_tenant_session_waitlist", table_name="bookings")
    op.drop_constraint(op.f("ck_bookings_waitlist_order"), "bookings", type_="check")
    op.drop_constraint(op.f("ck_bookings_status"), "bookings", type_="check")
    op.create_check_constraint(
        op.f("ck_bookings_status"), "bookings", f"status IN ({OLD_STATUSES})"
    )
    for column in ("promoted_at", "waitlisted_at", "payer_customer_id"):
        op.drop_column("bookings", column)
    op.drop_column("appointments", "asset_id")
    for table in ("sessions", "appointments"):
        op.drop_index(op.f(f"ix_{table}_tenant_id_series_id_recurrence_at"), table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_series_id_series"), table, type_="foreignkey")
        op.drop_column(table, "recurrence_at")
        op.drop_column(table, "series_id")
    op.drop_index(op.f("ix_series_tenant_id_created_at"), table_name="series")
    op.drop_table("series")
