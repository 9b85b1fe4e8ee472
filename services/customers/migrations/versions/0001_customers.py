"""customers, outbox and inbox

Revision ID: 0001
Revises:
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
    create_messaging_tables()
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(20)),
        sa.Column("status", sa.String(20), server_default="active", nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("source", sa.String(20), server_default="staff", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_tenant_email", "customers", ["tenant_id", "email"])
    op.create_index("ix_customers_tenant_phone", "customers", ["tenant_id", "phone"])
    op.create_index("ix_customers_tenant_created", "customers", ["tenant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("customers")
    op.drop_table("inbox")
    op.drop_table("outbox")
