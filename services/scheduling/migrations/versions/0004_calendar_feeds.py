"""subscribable iCalendar feeds

Revision ID: 0004
Revises: 0003

A feed URL carries a random secret; only its SHA-256 is stored (unique). A
feed is scoped to a location, staff member or room, or to one customer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("room_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "customer_id IS NOT NULL OR location_id IS NOT NULL "
            "OR staff_id IS NOT NULL OR room_id IS NOT NULL",
            name=op.f("ck_calendar_feeds_scoped"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_calendar_feeds_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_calendar_feeds_room_id_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_calendar_feeds_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
    )
    op.create_index("uq_calendar_feeds_secret_hash", "calendar_feeds", ["secret_hash"], unique=True)
    op.create_index(
        "ix_calendar_feeds_tenant_creator",
        "calendar_feeds",
        ["tenant_id", "created_by", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_calendar_feeds_tenant_customer",
        "calendar_feeds",
        ["tenant_id", "customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_tenant_customer", table_name="calendar_feeds")
    op.drop_index("ix_calendar_feeds_tenant_creator", table_name="calendar_feeds")
    op.drop_index("uq_calendar_feeds_secret_hash", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
