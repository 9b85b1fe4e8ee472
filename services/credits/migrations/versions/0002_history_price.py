"""credit history records the price of sales (purchases and paid top-ups)

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
    # Nullable without a default: adding them rewrites nothing; older entries have no price.
    op.add_column("credit_history", sa.Column("price_minor", sa.BigInteger(), nullable=True))
    op.add_column("credit_history", sa.Column("currency", sa.String(length=3), nullable=True))
    op.create_check_constraint(
        op.f("ck_credit_history_price_not_negative"),
        "credit_history",
        "price_minor IS NULL OR price_minor >= 0",
    )
    op.create_check_constraint(
        op.f("ck_credit_history_price_with_currency"),
        "credit_history",
        "(price_minor IS NULL) = (currency IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_credit_history_price_with_currency"), "credit_history", type_="check"
    )
    op.drop_constraint(
        op.f("ck_credit_history_price_not_negative"), "credit_history", type_="check"
    )
    op.drop_column("credit_history", "currency")
    op.drop_column("credit_history", "price_minor")
