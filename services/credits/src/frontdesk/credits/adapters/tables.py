"""Tables of the credits database. Every index leads with tenant_id.

Invariants held by the database, not only by code: a package balance never
goes below zero (nor do the account counters), an expired or voided package
holds nothing, a product grants at least one credit, a discount is 0 to 100 %,
one debit per booking, one package per idempotency key, at most one current
(active or frozen) membership per customer, and the credit history is
append-only (a trigger refuses deletes and any update but scrubbing the reason).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from frontdesk.kit.db import messaging_tables, new_metadata
from frontdesk.kit.idempotency import idempotency_table

metadata = new_metadata()
messaging = messaging_tables(metadata)

PACKAGE_STATUSES = ("active", "paused", "expired", "voided")
MEMBERSHIP_STATUSES = ("active", "frozen", "cancelled", "expired")
DEBIT_STATUSES = ("debited", "rejected", "refunded", "forfeited", "closed")

credit_products = Table(
    "credit_products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("credits", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("validity_days", Integer),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("credits > 0", name="credits_positive"),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
    CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_positive"),
    Index("ix_credit_products_tenant_created", "tenant_id", "created_at", "id"),
)

credit_packages = Table(
    "credit_packages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("product_id", Uuid),
    Column("name", String(200), nullable=False),
    Column("credits_total", Integer, nullable=False),  # bought or granted, plus top-ups
    Column("balance", Integer, nullable=False),
    Column("expired_credits", Integer, nullable=False, server_default=text("0")),
    Column("price_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("expires_at", DateTime(timezone=True)),
    Column("paused_at", DateTime(timezone=True)),
    Column("purchased_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("credits_total >= 0", name="total_not_negative"),
    CheckConstraint("expired_credits >= 0", name="expired_not_negative"),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
    CheckConstraint(f"status IN {PACKAGE_STATUSES}", name="status_known"),
    CheckConstraint("(status = 'paused') = (paused_at IS NOT NULL)", name="paused_at_iff_paused"),
    CheckConstraint("status NOT IN ('expired', 'voided') OR balance = 0", name="closed_empty"),
    Index("ix_credit_packages_tenant_customer_expiry", "tenant_id", "customer_id", "expires_at"),
    Index("ix_credit_packages_tenant_created", "tenant_id", "created_at", "id"),
    Index(
        "ix_credit_packages_active_expiry",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'active' AND expires_at IS NOT NULL"),
    ),
)

credit_history = Table(
    "credit_history",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("package_id", Uuid),
    Column("booking_id", Uuid),
    Column("kind", String(30), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("balance_after", Integer, nullable=False),  # the package's balance after
    Column("available_after", Integer, nullable=False),  # the customer's usable credits after
    Column("reason", Text),
    Column("actor", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What the customer paid for a sale (purchase, grant, top-up); null for other entries.
    Column("price_minor", BigInteger),
    Column("currency", String(3)),
    CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    CheckConstraint("price_minor IS NULL OR price_minor >= 0", name="price_not_negative"),
    CheckConstraint("(price_minor IS NULL) = (currency IS NULL)", name="price_with_currency"),
    Index("ix_credit_history_tenant_customer_seq", "tenant_id", "customer_id", "seq"),
    Index("ix_credit_history_tenant_package_seq", "tenant_id", "package_id", "seq"),
)

credit_accounts = Table(
    "credit_accounts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("available", Integer, nullable=False, server_default=text("0")),
    Column("paused", Integer, nullable=False, server_default=text("0")),
    Column("purchased_total", Integer, nullable=False, server_default=text("0")),
    Column("closed_at", DateTime(timezone=True)),  # the customer was deleted
    Column("erased_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
    CheckConstraint("available >= 0", name="available_not_negative"),
    CheckConstraint("paused >= 0", name="paused_not_negative"),
    CheckConstraint("purchased_total >= 0", name="purchased_not_negative"),
)

idempotency_keys = idempotency_table(metadata)

booking_debits = Table(
    "booking_debits",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("customer_id", Uuid),
    Column("credits", Integer, nullable=False, server_default=text("0")),
    Column("status", String(10), nullable=False),
    Column("reason", String(100)),
    Column("debits", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("settled_at", DateTime(timezone=True)),  # refunded, forfeited or closed
    # Whose credits paid, when not the booking's customer (a household's payer).
    Column("payer_id", Uuid),
    # The program whose sessions paid instead of credits, and how many.
    Column("program_id", Uuid),
    Column("program_sessions", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("tenant_id", "booking_id"),
    CheckConstraint(f"status IN {DEBIT_STATUSES}", name="status_known"),
    CheckConstraint("credits >= 0", name="credits_not_negative"),
    Index("ix_booking_debits_tenant_customer", "tenant_id", "customer_id"),
    Index("ix_booking_debits_tenant_payer", "tenant_id", "payer_id"),
)

membership_plans = Table(
    "membership_plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("discount_percent", Integer, nullable=False),
    Column("included_services", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("priority_label", String(100)),
    Column("duration_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
    CheckConstraint("duration_days > 0", name="duration_positive"),
    Index("ix_membership_plans_tenant_created", "tenant_id", "created_at", "id"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("plan_id", Uuid, nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("discount_percent", Integer, nullable=False),
    Column("included_services", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("priority_label", String(100)),
    Column("duration_days", Integer, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("frozen_at", DateTime(timezone=True)),
    Column("assigned_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("expires_at > starts_at", name="expires_after_start"),
    CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
    CheckConstraint(f"status IN {MEMBERSHIP_STATUSES}", name="status_known"),
    CheckConstraint("(status = 'frozen') = (frozen_at IS NOT NULL)", name="frozen_at_iff_frozen"),
    Index("ix_memberships_tenant_customer", "tenant_id", "customer_id", "created_at"),
    Index("ix_memberships_tenant_created", "tenant_id", "created_at", "id"),
    Index(
        "uq_memberships_current",
        "tenant_id",
        "customer_id",
        unique=True,
        postgresql_where=text("status IN ('active', 'frozen')"),
    ),
    Index(
        "ix_memberships_active_expiry",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'active'"),
    ),
)

membership_history = Table(
    "membership_history",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("membership_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("action", String(20), nullable=False),
    Column("plan_id", Uuid, nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("previous_plan_id", Uuid),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_membership_history_tenant_membership", "tenant_id", "membership_id", "seq"),
    Index("ix_membership_history_tenant_customer", "tenant_id", "customer_id", "seq"),
)

# --- K6 loyalty ----------------------------------------------------------------------

loyalty_rules = Table(
    "loyalty_rules",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("points_per_unit", Integer, nullable=False),
    Column("unit_minor", Integer, nullable=False),
    Column("points_per_credit", Integer),  # null: points do not buy credits
    Column("discount_minor_per_point", Integer),  # null: points do not buy discounts
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("points_per_unit > 0", name="points_positive"),
    CheckConstraint("unit_minor > 0", name="unit_positive"),
    CheckConstraint("points_per_credit IS NULL OR points_per_credit > 0", name="credit_rate"),
    CheckConstraint(
        "discount_minor_per_point IS NULL OR discount_minor_per_point > 0", name="discount_rate"
    ),
)

loyalty_accounts = Table(
    "loyalty_accounts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("balance", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
)

LOYALTY_KINDS = ("earned", "reversed", "redeemed")

loyalty_entries = Table(
    "loyalty_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("delta", Integer, nullable=False),  # what the balance really moved
    Column("shortfall", Integer, nullable=False, server_default=text("0")),
    Column("balance_after", Integer, nullable=False),
    # What caused it, unique per kind: one earning per invoice, one reversal per refund,
    # one redemption per redemption id (the idempotency of billing's events).
    Column("source_id", Uuid, nullable=False),
    Column("invoice_id", Uuid),  # earnings and reversals: the invoice they belong to
    Column("amount_minor", BigInteger),  # paid or refunded money; a voucher's worth
    Column("currency", String(3)),
    Column("redeemed_for", String(10)),  # credits, discount
    Column("credits", Integer),
    Column("package_id", Uuid),
    Column("voucher_id", Uuid),
    Column("actor", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"kind IN {LOYALTY_KINDS}", name="kind_known"),
    CheckConstraint("shortfall >= 0", name="shortfall_not_negative"),
    CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    Index("uq_loyalty_entries_source", "tenant_id", "kind", "source_id", unique=True),
    Index("ix_loyalty_entries_tenant_customer_seq", "tenant_id", "customer_id", "seq"),
    Index("ix_loyalty_entries_tenant_invoice", "tenant_id", "invoice_id"),
)

loyalty_vouchers = Table(
    "loyalty_vouchers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("points", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    Index("ix_loyalty_vouchers_tenant_customer", "tenant_id", "customer_id", "created_at"),
)

# --- K7 programs ---------------------------------------------------------------------

program_products = Table(
    "program_products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("sessions", Integer, nullable=False),
    Column("service", String(100)),
    Column("session_kind", String(20)),
    Column("staff_id", Uuid),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("validity_days", Integer),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("sessions > 0", name="sessions_positive"),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
    CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_positive"),
    CheckConstraint("service IS NOT NULL OR session_kind IS NOT NULL", name="has_a_kind"),
    Index("ix_program_products_tenant_created", "tenant_id", "created_at", "id"),
)

PROGRAM_STATUSES = ("active", "voided")

programs = Table(
    "programs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("product_id", Uuid),
    Column("name", String(200), nullable=False),
    Column("sessions_total", Integer, nullable=False),
    Column("sessions_used", Integer, nullable=False, server_default=text("0")),
    Column("service", String(100)),
    Column("session_kind", String(20)),
    Column("staff_id", Uuid),
    Column("price_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("purchased_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("sessions_total > 0", name="total_positive"),
    CheckConstraint("sessions_used BETWEEN 0 AND sessions_total", name="used_within_total"),
    CheckConstraint(f"status IN {PROGRAM_STATUSES}", name="status_known"),
    Index("ix_programs_tenant_customer", "tenant_id", "customer_id", "expires_at"),
    Index("ix_programs_tenant_created", "tenant_id", "created_at", "id"),
)

PROGRAM_USE_STATUSES = ("held", "confirmed", "returned", "forfeited")

program_uses = Table(
    "program_uses",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("program_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "booking_id"),
    CheckConstraint("sessions > 0", name="sessions_positive"),
    CheckConstraint(f"status IN {PROGRAM_USE_STATUSES}", name="status_known"),
    Index("ix_program_uses_tenant_program", "tenant_id", "program_id", "starts_at"),
)

# --- merges (C13): what a merge moved, so that the unmerge moves exactly that back -----

MERGE_STATUSES = ("merged", "unmerged")

customer_merges = Table(
    "customer_merges",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("survivor_id", Uuid, nullable=False),
    Column("merged_id", Uuid, nullable=False),
    Column("status", String(10), nullable=False),
    Column("merged_at", DateTime(timezone=True)),  # null: the unmerge came first
    Column("unmerged_at", DateTime(timezone=True)),
    # Counters moved with the rows: loyalty points and credits ever bought.
    Column("points_moved", Integer, nullable=False, server_default=text("0")),
    Column("purchased_moved", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("tenant_id", "merge_id"),
    CheckConstraint(f"status IN {MERGE_STATUSES}", name="status_known"),
)

merge_moves = Table(
    "merge_moves",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("table_name", String(50), nullable=False),
    Column("column_name", String(50), nullable=False),
    Column("row_id", Uuid, nullable=False),
    # What else the merge changed on the row, to put back (a membership it ended).
    Column("before", JSONB),
    PrimaryKeyConstraint("tenant_id", "merge_id", "table_name", "column_name", "row_id"),
)
