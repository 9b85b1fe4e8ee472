"""billing: loyalty vouchers and their uses on invoices (given back by credit notes), the
vouchers' share on invoices and credit notes, invoices for programs bought

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "('manual', 'package', 'top_up', 'booking', 'membership'{})"


def _zero() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "voucher_discount_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False
    )


def upgrade() -> None:
    op.drop_constraint(op.f("ck_invoices_source_known"), "invoices", type_="check")
    op.create_check_constraint(
        op.f("ck_invoices_source_known"),
        "invoices",
        "source_kind IN " + SOURCES.format(", 'program'"),
    )
    # Issued invoices keep what they were issued with: the new columns' defaults are what
    # they had (no voucher), so the immutability trigger sees no change on them later.
    op.add_column("invoices", _zero())
    op.add_column(
        "invoices",
        sa.Column(
            "vouchers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_invoices_voucher_not_negative"), "invoices", "voucher_discount_minor >= 0"
    )
    op.add_column("credit_notes", _zero())
    op.drop_constraint(op.f("ck_credit_notes_total_positive"), "credit_notes", type_="check")
    op.create_check_constraint(
        op.f("ck_credit_notes_total_positive"),
        "credit_notes",
        "voucher_discount_minor >= 0 AND (total_minor > 0 OR voucher_discount_minor > 0)",
    )
    op.create_table(
        "loyalty_vouchers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column(
            "issued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amount_minor >= 0", name=op.f("ck_loyalty_vouchers_amount_not_negative")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "voucher_id", name=op.f("pk_loyalty_vouchers")),
    )
    op.create_index(
        "ix_loyalty_vouchers_tenant_customer",
        "loyalty_vouchers",
        ["tenant_id", "customer_id", "issued_at"],
    )
    op.create_table(
        "voucher_uses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("credit_note_id", sa.Uuid(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_voucher_uses_not_zero")),
        sa.CheckConstraint(
            "(amount_minor > 0) = (credit_note_id IS NULL)",
            name=op.f("ck_voucher_uses_back_by_credit_note"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_voucher_uses_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_voucher_uses_credit_note_id_credit_notes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_uses")),
    )
    op.create_index("ix_voucher_uses_tenant_voucher", "voucher_uses", ["tenant_id", "voucher_id"])
    op.create_index("ix_voucher_uses_tenant_invoice", "voucher_uses", ["tenant_id", "invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_voucher_uses_tenant_invoice", table_name="voucher_uses")
    op.drop_index("ix_voucher_uses_tenant_voucher", table_name="voucher_uses")
    op.drop_table("voucher_uses")
    op.drop_index("ix_loyalty_vouchers_tenant_customer", table_name="loyalty_vouchers")
    op.drop_table("loyalty_vouchers")
    op.drop_constraint(op.f("ck_credit_notes_total_positive"), "credit_notes", type_="check")
    op.create_check_constraint(
        op.f("ck_credit_notes_total_positive"), "credit_notes", "total_minor > 0"
    )
    op.drop_column("credit_notes", "voucher_discount_minor")
    op.drop_constraint(op.f("ck_invoices_voucher_not_negative"), "invoices", type_="check")
    op.drop_column("invoices", "vouchers")
    op.drop_column("invoices", "voucher_discount_minor")
    op.drop_constraint(op.f("ck_invoices_source_known"), "invoices", type_="check")
    op.create_check_constraint(
        op.f("ck_invoices_source_known"), "invoices", "source_kind IN " + SOURCES.format("")
    )
