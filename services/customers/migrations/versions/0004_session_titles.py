"""bookings follow their class's title (scheduling.session.changed)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_bookings", sa.Column("session_version", sa.Integer()))


def downgrade() -> None:
    op.drop_column("customer_bookings", "session_version")
