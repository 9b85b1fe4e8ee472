"""customers' own passwords (issue 12): a password hash and when it was set on
customer_accounts, and the index a password login finds the account by

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_accounts", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column(
        "customer_accounts",
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_customer_accounts_tenant_email", "customer_accounts", ["tenant_id", "email"]
    )


def downgrade() -> None:
    op.drop_index("ix_customer_accounts_tenant_email", table_name="customer_accounts")
    op.drop_column("customer_accounts", "password_changed_at")
    op.drop_column("customer_accounts", "password_hash")
