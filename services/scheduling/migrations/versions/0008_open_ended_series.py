"""open-ended series: made some months ahead and grown by the worker

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "series",
        sa.Column("open_ended", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("series", sa.Column("made_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("series", sa.Column("ended_from", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_series_growing",
        "series",
        ["made_until"],
        postgresql_where=sa.text("open_ended AND ended_from IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_series_growing", table_name="series")
    for column in ("ended_from", "made_until", "open_ended"):
        op.drop_column("series", column)
