"""deleted-customer tombstones; per-booking customer activity time

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_customers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_deleted_customers"),
    )
    op.add_column("customer_bookings", sa.Column("activity_at", sa.DateTime(timezone=True)))
    # Best effort for bookings kept before 0003: their last event, unless the customer
    # had no part in it (a rejection, a no-show). Summaries keep their last activity.
    op.execute(
        "UPDATE customer_bookings SET activity_at = last_event_at "
        "WHERE status IN ('pending', 'confirmed', 'attended')"
    )
    # Rows recreated for customers deleted before 0003 cannot be told apart from rows
    # of customers not created yet (events may come first); they stay, unlisted.


def downgrade() -> None:
    op.drop_column("customer_bookings", "activity_at")
    op.drop_table("deleted_customers")
