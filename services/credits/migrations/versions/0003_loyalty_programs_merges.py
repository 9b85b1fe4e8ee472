"""loyalty (K6), programs (K7), household payers and merges (C13, C14)

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


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _updated() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    # Household payers and programs on the booking's debit. Nullable (and a constant
    # default): adding them rewrites nothing.
    op.add_column("booking_debits", sa.Column("payer_id", sa.Uuid(), nullable=True))
    op.add_column("booking_debits", sa.Column("program_id", sa.Uuid(), nullable=True))
    op.add_column(
        "booking_debits",
        sa.Column("program_sessions", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_index("ix_booking_debits_tenant_payer", "booking_debits", ["tenant_id", "payer_id"])

    op.create_table(
        "loyalty_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("points_per_unit", sa.Integer(), nullable=False),
        sa.Column("unit_minor", sa.Integer(), nullable=False),
        sa.Column("points_per_credit", sa.Integer(), nullable=True),
        sa.Column("discount_minor_per_point", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        _updated(),
        sa.CheckConstraint("points_per_unit > 0", name=op.f("ck_loyalty_rules_points_positive")),
        sa.CheckConstraint("unit_minor > 0", name=op.f("ck_loyalty_rules_unit_positive")),
        sa.CheckConstraint(
            "points_per_credit IS NULL OR points_per_credit > 0",
            name=op.f("ck_loyalty_rules_credit_rate"),
        ),
        sa.CheckConstraint(
            "discount_minor_per_point IS NULL OR discount_minor_per_point > 0",
            name=op.f("ck_loyalty_rules_discount_rate"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_loyalty_rules")),
    )
    op.create_table(
        "loyalty_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _updated(),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_loyalty_accounts_balance_not_negative")),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_loyalty_accounts")),
    )
    op.create_table(
        "loyalty_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("shortfall", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("redeemed_for", sa.String(length=10), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Uuid(), nullable=True),
        sa.Column("voucher_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _created(),
        sa.CheckConstraint(
            "kind IN ('earned', 'reversed', 'redeemed')", name=op.f("ck_loyalty_entries_kind_known")
        ),
        sa.CheckConstraint(
            "shortfall >= 0", name=op.f("ck_loyalty_entries_shortfall_not_negative")
        ),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_loyalty_entries_balance_after_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entries")),
    )
    op.create_index(
        "uq_loyalty_entries_source",
        "loyalty_entries",
        ["tenant_id", "kind", "source_id"],
        unique=True,
    )
    op.create_index(
        "ix_loyalty_entries_tenant_customer_seq",
        "loyalty_entries",
        ["tenant_id", "customer_id", "seq"],
    )
    op.create_index(
        "ix_loyalty_entries_tenant_invoice", "loyalty_entries", ["tenant_id", "invoice_id"]
    )
    op.create_table(
        "loyalty_vouchers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        _created(),
        sa.CheckConstraint("points > 0", name=op.f("ck_loyalty_vouchers_points_positive")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loyalty_vouchers_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_vouchers")),
    )
    op.create_index(
        "ix_loyalty_vouchers_tenant_customer",
        "loyalty_vouchers",
        ["tenant_id", "customer_id", "created_at"],
    )

    op.create_table(
        "program_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("session_kind", sa.String(length=20), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _created(),
        _updated(),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_program_products_sessions_positive")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_program_products_price_not_negative")),
        sa.CheckConstraint(
            "validity_days IS NULL OR validity_days > 0",
            name=op.f("ck_program_products_validity_positive"),
        ),
        sa.CheckConstraint(
            "service IS NOT NULL OR session_kind IS NOT NULL",
            name=op.f("ck_program_products_has_a_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_products")),
    )
    op.create_index(
        "ix_program_products_tenant_created",
        "program_products",
        ["tenant_id", "created_at", "id"],
    )
    op.create_table(
        "programs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sessions_total", sa.Integer(), nullable=False),
        sa.Column("sessions_used", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("session_kind", sa.String(length=20), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("purchased_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _created(),
        _updated(),
        sa.CheckConstraint("sessions_total > 0", name=op.f("ck_programs_total_positive")),
        sa.CheckConstraint(
            "sessions_used BETWEEN 0 AND sessions_total",
            name=op.f("ck_programs_used_within_total"),
        ),
        sa.CheckConstraint("status IN ('active', 'voided')", name=op.f("ck_programs_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
    )
    op.create_index(
        "ix_programs_tenant_customer", "programs", ["tenant_id", "customer_id", "expires_at"]
    )
    op.create_index("ix_programs_tenant_created", "programs", ["tenant_id", "created_at", "id"])
    op.create_table(
        "program_uses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        _updated(),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_program_uses_sessions_positive")),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'returned', 'forfeited')",
            name=op.f("ck_program_uses_status_known"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", name=op.f("pk_program_uses")),
    )
    op.create_index(
        "ix_program_uses_tenant_program",
        "program_uses",
        ["tenant_id", "program_id", "starts_at"],
    )

    op.create_table(
        "customer_merges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points_moved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("purchased_moved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "status IN ('merged', 'unmerged')", name=op.f("ck_customer_merges_status_known")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "merge_id", name=op.f("pk_customer_merges")),
    )
    op.create_table(
        "merge_moves",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merge_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=50), nullable=False),
        sa.Column("column_name", sa.String(length=50), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "merge_id",
            "table_name",
            "column_name",
            "row_id",
            name=op.f("pk_merge_moves"),
        ),
    )

    # A merge moves ledger entries between customers: the history stays append-only for
    # everything but the reason (erasure) and the customer it belongs to (merge, unmerge).
    op.execute(APPEND_ONLY_FUNCTION.format(ignored="- 'reason' - 'customer_id'"))


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION credit_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'credit_history is append-only';
    END IF;
    IF (to_jsonb(NEW) {ignored}) IS DISTINCT FROM (to_jsonb(OLD) {ignored}) THEN
        RAISE EXCEPTION 'credit_history is append-only (only the reason may be scrubbed)';
    END IF;
    RETURN NEW;
END
$$
"""


def downgrade() -> None:
    op.execute(APPEND_ONLY_FUNCTION.format(ignored="- 'reason'"))
    for table in (
        "merge_moves",
        "customer_merges",
        "program_uses",
        "programs",
        "program_products",
        "loyalty_vouchers",
        "loyalty_entries",
        "loyalty_accounts",
        "loyalty_rules",
    ):
        op.drop_table(table)
    op.drop_index("ix_booking_debits_tenant_payer", table_name="booking_debits")
    op.drop_column("booking_debits", "program_sessions")
    op.drop_column("booking_debits", "program_id")
    op.drop_column("booking_debits", "payer_id")
