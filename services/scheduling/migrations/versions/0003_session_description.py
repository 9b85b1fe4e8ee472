"""description of classes and events (editable with PATCH /v1/sessions/{id})

Revision ID: 0003
Revises: 0002

``sessions.version`` (the ETag that ``If-Match`` guards) exists since 0001;
this adds the free-text description that the edit may change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("description", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("sessions", "description")
