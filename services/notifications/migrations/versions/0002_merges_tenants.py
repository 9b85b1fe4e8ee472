"""notifications: merges of customers (what each moved, the consent it turned off), the
tenant's settings as the gateway tells them, a merged contact's pointer

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
    op.add_column("contacts", sa.Column("merged_into", sa.Uuid(), nullable=True))
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("default_country", sa.String(length=2), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_settings"),
    )
    op.create_table(
        "customer_merges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column(
            "consent_turned_off",
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
        sa.CheckConstraint(
            "state IN ('merged', 'unmerged')", name=op.f("ck_customer_merges_state_known")
        ),
        sa.CheckConstraint(
            "survivor_id <> merged_id", name=op.f("ck_customer_merges_two_customers")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "merge_id", name="pk_customer_merges"),
    )
    op.create_table(
        "merge_moves",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "merge_id", "kind", "row_id", name="pk_merge_moves"),
    )


def downgrade() -> None:
    op.drop_table("merge_moves")
    op.drop_table("customer_merges")
    op.drop_table("tenant_settings")
    op.drop_column("contacts", "merged_into")
