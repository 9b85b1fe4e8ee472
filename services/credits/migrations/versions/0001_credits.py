"""credit products, packages, ledger, accounts, booking debits, memberships; outbox and inbox

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
        "booking_debits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("credits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column(
            "debits",
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
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('debited', 'rejected', 'refunded', 'forfeited', 'closed')",
            name=op.f("ck_booking_debits_status_known"),
        ),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_booking_debits_credits_not_negative")),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", name=op.f("pk_booking_debits")),
    )
    op.create_index(
        "ix_booking_debits_tenant_customer",
        "booking_debits",
        ["tenant_id", "customer_id"],
        unique=False,
    )
    op.create_table(
        "credit_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("available", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("paused", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("purchased_total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "available >= 0", name=op.f("ck_credit_accounts_available_not_negative")
        ),
        sa.CheckConstraint("paused >= 0", name=op.f("ck_credit_accounts_paused_not_negative")),
        sa.CheckConstraint(
            "purchased_total >= 0", name=op.f("ck_credit_accounts_purchased_not_negative")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_credit_accounts")),
    )
    op.create_table(
        "credit_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("available_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_credit_history_balance_after_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_history")),
    )
    op.create_index(
        "ix_credit_history_tenant_customer_seq",
        "credit_history",
        ["tenant_id", "customer_id", "seq"],
        unique=False,
    )
    op.create_index(
        "ix_credit_history_tenant_package_seq",
        "credit_history",
        ["tenant_id", "package_id", "seq"],
        unique=False,
    )
    op.create_table(
        "credit_packages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credits_total", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("expired_credits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purchased_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "(status = 'paused') = (paused_at IS NOT NULL)",
            name=op.f("ck_credit_packages_paused_at_iff_paused"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'expired', 'voided')",
            name=op.f("ck_credit_packages_status_known"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('expired', 'voided') OR balance = 0",
            name=op.f("ck_credit_packages_closed_empty"),
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_credit_packages_balance_not_negative")),
        sa.CheckConstraint(
            "credits_total >= 0", name=op.f("ck_credit_packages_total_not_negative")
        ),
        sa.CheckConstraint(
            "expired_credits >= 0", name=op.f("ck_credit_packages_expired_not_negative")
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_credit_packages_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_packages")),
    )
    op.create_index(
        "ix_credit_packages_active_expiry",
        "credit_packages",
        ["tenant_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"),
    )
    op.create_index(
        "ix_credit_packages_tenant_created",
        "credit_packages",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_credit_packages_tenant_customer_expiry",
        "credit_packages",
        ["tenant_id", "customer_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "credit_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint("credits > 0", name=op.f("ck_credit_products_credits_positive")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_credit_products_price_not_negative")),
        sa.CheckConstraint(
            "validity_days IS NULL OR validity_days > 0",
            name=op.f("ck_credit_products_validity_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_products")),
    )
    op.create_index(
        "ix_credit_products_tenant_created",
        "credit_products",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "membership_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_name", sa.String(length=200), nullable=False),
        sa.Column("previous_plan_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_history")),
    )
    op.create_index(
        "ix_membership_history_tenant_customer",
        "membership_history",
        ["tenant_id", "customer_id", "seq"],
        unique=False,
    )
    op.create_index(
        "ix_membership_history_tenant_membership",
        "membership_history",
        ["tenant_id", "membership_id", "seq"],
        unique=False,
    )
    op.create_table(
        "membership_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column(
            "included_services",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("priority_label", sa.String(length=100), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "discount_percent BETWEEN 0 AND 100", name=op.f("ck_membership_plans_discount_range")
        ),
        sa.CheckConstraint("duration_days > 0", name=op.f("ck_membership_plans_duration_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_plans")),
    )
    op.create_index(
        "ix_membership_plans_tenant_created",
        "membership_plans",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_name", sa.String(length=200), nullable=False),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column(
            "included_services",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("priority_label", sa.String(length=100), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "(status = 'frozen') = (frozen_at IS NOT NULL)",
            name=op.f("ck_memberships_frozen_at_iff_frozen"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'cancelled', 'expired')",
            name=op.f("ck_memberships_status_known"),
        ),
        sa.CheckConstraint(
            "discount_percent BETWEEN 0 AND 100", name=op.f("ck_memberships_discount_range")
        ),
        sa.CheckConstraint(
            "expires_at > starts_at", name=op.f("ck_memberships_expires_after_start")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    op.create_index(
        "ix_memberships_active_expiry",
        "memberships",
        ["tenant_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_memberships_tenant_created",
        "memberships",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_memberships_tenant_customer",
        "memberships",
        ["tenant_id", "customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "uq_memberships_current",
        "memberships",
        ["tenant_id", "customer_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('active', 'frozen')"),
    )

    # The credit history is append-only: no deletes, and no updates except
    # scrubbing the free-text reason (GDPR erasure). TRUNCATE (tests) is allowed.
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER credit_history_append_only BEFORE UPDATE OR DELETE ON credit_history "
        "FOR EACH ROW EXECUTE FUNCTION credit_history_append_only()"
    )


APPEND_ONLY_FUNCTION = """
CREATE FUNCTION credit_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'credit_history is append-only';
    END IF;
    IF (to_jsonb(NEW) - 'reason') IS DISTINCT FROM (to_jsonb(OLD) - 'reason') THEN
        RAISE EXCEPTION 'credit_history is append-only (only the reason may be scrubbed)';
    END IF;
    RETURN NEW;
END
$$
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS credit_history_append_only ON credit_history")
    op.execute("DROP FUNCTION IF EXISTS credit_history_append_only()")
    op.drop_table("outbox")
    op.drop_table("memberships")
    op.drop_table("membership_plans")
    op.drop_table("membership_history")
    op.drop_table("inbox")
    op.drop_table("idempotency_keys")
    op.drop_table("credit_products")
    op.drop_table("credit_packages")
    op.drop_table("credit_history")
    op.drop_table("credit_accounts")
    op.drop_table("booking_debits")
