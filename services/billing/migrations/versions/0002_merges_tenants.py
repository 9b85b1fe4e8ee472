"""billing: merges of customers (what each moved, for the unmerge), the tenant's settings
as the gateway tells them, and which profile fields staff set

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


KINDS = "('invoice', 'payment', 'credit_note', 'refund', 'credit_applied'{})"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_journal_entries_kind_known"), "journal_entries", type_="check")
    op.create_check_constraint(
        op.f("ck_journal_entries_kind_known"),
        "journal_entries",
        "kind IN " + KINDS.format(", 'merge_settlement'"),
    )
    op.add_column(
        "billing_profiles", sa.Column("seller_phone", sa.String(length=40), nullable=True)
    )
    op.add_column(
        "billing_profiles",
        sa.Column(
            "staff_set",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    # Profiles saved before this revision were set by staff: what they hold keeps winning.
    op.execute(
        "UPDATE billing_profiles SET staff_set = ARRAY['seller_name', 'seller_address', "
        "'seller_tax_id', 'seller_email', 'currency', 'locale', 'timezone']"
    )
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
            "seller",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_settings")),
    )
    op.create_table(
        "customer_merges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "merge_id", name=op.f("pk_customer_merges")),
    )
    op.create_table(
        "merge_moves",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "merge_id", "kind", "row_key", name=op.f("pk_merge_moves")
        ),
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_journal_entries_kind_known"), "journal_entries", type_="check")
    op.create_check_constraint(
        op.f("ck_journal_entries_kind_known"), "journal_entries", "kind IN " + KINDS.format("")
    )
    op.drop_table("merge_moves")
    op.drop_table("customer_merges")
    op.drop_table("tenant_settings")
    op.drop_column("billing_profiles", "staff_set")
    op.drop_column("billing_profiles", "seller_phone")
