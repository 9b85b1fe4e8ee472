"""the saga timeout asks whether the payment step still answers

Revision ID: 0007
Revises: 0006

A pending booking is rejected for ``timeout`` only when no booking paid by credits was
confirmed or rejected by the payment step for the whole timeout: a long queue still
answers, a payment service that is gone does not. This index finds the latest answer.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_bookings_payment_answers ON bookings (decided_at) "
        "WHERE payment_method = 'credits' AND status IN ('confirmed', 'rejected')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_bookings_payment_answers")
