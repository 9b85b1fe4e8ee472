"""billing: profiles, customers and memberships known, accounts, counters, invoices,
credit notes, payments, refunds, the journal (balanced by a deferred constraint trigger,
append-only), closed sources; outbox and inbox

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
        "billing_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_billing_accounts")),
    )
    op.create_table(
        "billing_customers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_billing_customers")),
    )
    op.create_table(
        "billing_profiles",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_name", sa.String(length=200), nullable=True),
        sa.Column("seller_address", sa.Text(), nullable=True),
        sa.Column("seller_tax_id", sa.String(length=50), nullable=True),
        sa.Column("seller_email", sa.String(length=320), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("default_tax_rate_bp", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "prices_include_tax", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("payment_terms_days", sa.Integer(), server_default=sa.text("14"), nullable=False),
        sa.Column("invoice_prefix", sa.String(length=12), server_default="", nullable=False),
        sa.Column("credit_note_prefix", sa.String(length=12), server_default="CN-", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "default_tax_rate_bp BETWEEN 0 AND 10000",
            name=op.f("ck_billing_profiles_tax_rate_range"),
        ),
        sa.CheckConstraint("id = tenant_id", name=op.f("ck_billing_profiles_one_per_tenant")),
        sa.CheckConstraint(
            "payment_terms_days BETWEEN 0 AND 365", name=op.f("ck_billing_profiles_terms_range")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_billing_profiles")),
    )
    op.create_table(
        "closed_sources",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_kind", "source_key", name=op.f("pk_closed_sources")
        ),
    )
    op.create_table(
        "customer_memberships",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("plan_name", sa.String(length=200), nullable=False),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column(
            "included_services",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "discount_percent BETWEEN 0 AND 100",
            name=op.f("ck_customer_memberships_discount_range"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "membership_id", name=op.f("pk_customer_memberships")),
    )
    op.create_index(
        "ix_customer_memberships_tenant_customer",
        "customer_memberships",
        ["tenant_id", "customer_id"],
        unique=False,
    )
    op.create_table(
        "document_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.String(length=20), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "document IN ('invoice', 'credit_note', 'payment', 'refund')",
            name=op.f("ck_document_counters_document_known"),
        ),
        sa.CheckConstraint("last_number > 0", name=op.f("ck_document_counters_positive")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "document", "prefix", "year", name=op.f("pk_document_counters")
        ),
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
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("prefix", sa.String(length=12), server_default="", nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column(
            "lines",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tax_summary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "membership_discount_minor",
            sa.BigInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("net_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("bill_to", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("seller", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("locale", sa.String(length=20), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_kind", sa.String(length=20), server_default="manual", nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
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
            "source_kind IN ('manual', 'package', 'top_up', 'booking', 'membership')",
            name=op.f("ck_invoices_source_known"),
        ),
        sa.CheckConstraint(
            "status <> 'draft' OR number IS NULL", name=op.f("ck_invoices_draft_unnumbered")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'paid', 'cancelled')",
            name=op.f("ck_invoices_status_known"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('open', 'paid') OR (number IS NOT NULL AND issued_at IS NOT NULL)",
            name=op.f("ck_invoices_issued_numbered"),
        ),
        sa.CheckConstraint(
            "amount_minor >= 0 AND discount_minor >= 0 AND membership_discount_minor >= 0 AND net_minor >= 0 AND tax_minor >= 0 AND total_minor >= 0",
            name=op.f("ck_invoices_amounts_not_negative"),
        ),
        sa.CheckConstraint(
            "total_minor = net_minor + tax_minor", name=op.f("ck_invoices_total_is_net_and_tax")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
    )
    op.create_index(
        "ix_invoices_tenant_created", "invoices", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_invoices_tenant_customer_created",
        "invoices",
        ["tenant_id", "customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_invoices_tenant_issued_on", "invoices", ["tenant_id", "issued_on"], unique=False
    )
    op.create_index("uq_invoices_tenant_number", "invoices", ["tenant_id", "number"], unique=True)
    op.create_index(
        "uq_invoices_tenant_source",
        "invoices",
        ["tenant_id", "source_kind", "source_key"],
        unique=True,
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('invoice', 'payment', 'credit_note', 'refund', 'credit_applied')",
            name=op.f("ck_journal_entries_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index(
        "ix_journal_entries_tenant_customer_seq",
        "journal_entries",
        ["tenant_id", "customer_id", "seq"],
        unique=False,
    )
    op.create_index(
        "ix_journal_entries_tenant_seq", "journal_entries", ["tenant_id", "seq"], unique=False
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_number", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tax_summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bill_to", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("seller", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("locale", sa.String(length=20), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "net_minor >= 0 AND tax_minor >= 0", name=op.f("ck_credit_notes_amounts_not_negative")
        ),
        sa.CheckConstraint(
            "total_minor = net_minor + tax_minor", name=op.f("ck_credit_notes_total_is_net_and_tax")
        ),
        sa.CheckConstraint("total_minor > 0", name=op.f("ck_credit_notes_total_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
    )
    op.create_index(
        "ix_credit_notes_tenant_created",
        "credit_notes",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_credit_notes_tenant_invoice", "credit_notes", ["tenant_id", "invoice_id"], unique=False
    )
    op.create_index(
        "uq_credit_notes_tenant_number", "credit_notes", ["tenant_id", "number"], unique=True
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_reference", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('cash', 'card', 'transfer', 'online')",
            name=op.f("ck_payments_method_known"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(
        "ix_payments_tenant_created", "payments", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_payments_tenant_customer", "payments", ["tenant_id", "customer_id"], unique=False
    )
    op.create_index(
        "ix_payments_tenant_invoice", "payments", ["tenant_id", "invoice_id"], unique=False
    )
    op.create_index(
        "uq_payments_tenant_reference", "payments", ["tenant_id", "reference"], unique=True
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint(
            "(account = 'cash') = (method IS NOT NULL)", name=op.f("ck_postings_cash_method")
        ),
        sa.CheckConstraint(
            "account <> 'receivable' OR invoice_id IS NOT NULL",
            name=op.f("ck_postings_receivable_invoice"),
        ),
        sa.CheckConstraint(
            "account IN ('receivable', 'customer_credit', 'revenue', 'tax', 'cash')",
            name=op.f("ck_postings_account_known"),
        ),
        sa.CheckConstraint(
            "account NOT IN ('receivable', 'customer_credit', 'cash') OR customer_id IS NOT NULL",
            name=op.f("ck_postings_customer_accounts_name_customer"),
        ),
        sa.CheckConstraint(
            "account NOT IN ('revenue', 'tax') OR tax_rate_bp IS NOT NULL",
            name=op.f("ck_postings_sales_rate"),
        ),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_postings_not_zero")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index(
        "ix_postings_tenant_account", "postings", ["tenant_id", "account", "currency"], unique=False
    )
    op.create_index(
        "ix_postings_tenant_customer_account",
        "postings",
        ["tenant_id", "customer_id", "account"],
        unique=False,
    )
    op.create_index("ix_postings_tenant_entry", "postings", ["tenant_id", "entry_id"], unique=False)
    op.create_index(
        "ix_postings_tenant_invoice", "postings", ["tenant_id", "invoice_id"], unique=False
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('cash', 'card', 'transfer', 'online')", name=op.f("ck_refunds_method_known")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(
        "ix_refunds_tenant_payment", "refunds", ["tenant_id", "payment_id"], unique=False
    )
    op.create_index(
        "uq_refunds_tenant_reference", "refunds", ["tenant_id", "reference"], unique=True
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    op.drop_index("uq_refunds_tenant_reference", table_name="refunds")
    op.drop_index("ix_refunds_tenant_payment", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_postings_tenant_invoice", table_name="postings")
    op.drop_index("ix_postings_tenant_entry", table_name="postings")
    op.drop_index("ix_postings_tenant_customer_account", table_name="postings")
    op.drop_index("ix_postings_tenant_account", table_name="postings")
    op.drop_table("postings")
    op.drop_index("uq_payments_tenant_reference", table_name="payments")
    op.drop_index("ix_payments_tenant_invoice", table_name="payments")
    op.drop_index("ix_payments_tenant_customer", table_name="payments")
    op.drop_index("ix_payments_tenant_created", table_name="payments")
    op.drop_table("payments")
    op.drop_index("uq_credit_notes_tenant_number", table_name="credit_notes")
    op.drop_index("ix_credit_notes_tenant_invoice", table_name="credit_notes")
    op.drop_index("ix_credit_notes_tenant_created", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_index("ix_journal_entries_tenant_seq", table_name="journal_entries")
    op.drop_index("ix_journal_entries_tenant_customer_seq", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_index(
        "uq_invoices_tenant_source",
        table_name="invoices",
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )
    op.drop_index("uq_invoices_tenant_number", table_name="invoices")
    op.drop_index("ix_invoices_tenant_issued_on", table_name="invoices")
    op.drop_index("ix_invoices_tenant_customer_created", table_name="invoices")
    op.drop_index("ix_invoices_tenant_created", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("inbox")
    op.drop_table("idempotency_keys")
    op.drop_table("document_counters")
    op.drop_index("ix_customer_memberships_tenant_customer", table_name="customer_memberships")
    op.drop_table("customer_memberships")
    op.drop_table("closed_sources")
    op.drop_table("billing_profiles")
    op.drop_table("billing_customers")
    op.drop_table("billing_accounts")


# Every journal entry balances: checked at commit (DEFERRABLE INITIALLY DEFERRED), once
# all its postings are in, whatever code wrote them. A raw INSERT of an unbalanced entry
# fails its COMMIT with SQLSTATE 23514 (check_violation).
BALANCED = """
CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry_tenant uuid;
    entry uuid;
    entry_currency text;
    total numeric;
    lines integer;
    other_currencies integer;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN
        entry_tenant := NEW.tenant_id;
        entry := NEW.id;
    ELSE
        entry_tenant := NEW.tenant_id;
        entry := NEW.entry_id;
    END IF;
    SELECT currency INTO entry_currency FROM journal_entries
     WHERE tenant_id = entry_tenant AND id = entry;
    SELECT coalesce(sum(amount_minor), 0), count(*),
           count(*) FILTER (WHERE currency IS DISTINCT FROM entry_currency)
      INTO total, lines, other_currencies
      FROM postings WHERE tenant_id = entry_tenant AND entry_id = entry;
    IF lines < 2 THEN
        RAISE EXCEPTION 'journal entry % has % posting(s); it needs two or more', entry, lines
            USING ERRCODE = 'check_violation';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance: its postings sum to %', entry, total
            USING ERRCODE = 'check_violation';
    END IF;
    IF other_currencies > 0 THEN
        RAISE EXCEPTION 'journal entry % mixes currencies', entry
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$
"""

# The journal is append-only; erasure may only replace the customer link.
APPEND_ONLY = """
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END IF;
    IF (to_jsonb(NEW) - 'customer_id') IS DISTINCT FROM (to_jsonb(OLD) - 'customer_id') THEN
        RAISE EXCEPTION '% is append-only (only erasure may replace the customer link)',
            TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END
$$
"""

# Issued documents are never edited or deleted: an invoice with a number may change only
# its status (paid, open again, cancelled), and erasure may replace the customer link and
# scrub the bill-to details; credit notes, payments and refunds only the latter.
ISSUED_FROZEN = """
CREATE FUNCTION issued_document_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    free text[] := ARRAY['customer_id', 'bill_to'];
BEGIN
    IF TG_TABLE_NAME = 'invoices' THEN
        IF OLD.number IS NULL THEN
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END IF;
        free := free || ARRAY['status', 'cancelled_at', 'version', 'updated_at'];
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'an issued % cannot be deleted', TG_TABLE_NAME;
    END IF;
    IF (to_jsonb(NEW) - free) IS DISTINCT FROM (to_jsonb(OLD) - free) THEN
        RAISE EXCEPTION 'an issued % cannot be edited (a credit note corrects it)', TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END
$$
"""

TRIGGERS = (
    BALANCED,
    "CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()",
    "CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT OR UPDATE ON postings "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()",
    APPEND_ONLY,
    "CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries "
    "FOR EACH ROW EXECUTE FUNCTION journal_append_only()",
    "CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings "
    "FOR EACH ROW EXECUTE FUNCTION journal_append_only()",
    ISSUED_FROZEN,
    *(
        f"CREATE TRIGGER {table}_issued_frozen BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION issued_document_frozen()"
        for table in ("invoices", "credit_notes", "payments", "refunds")
    ),
)

DROP_TRIGGERS = (
    *(
        f"DROP TRIGGER IF EXISTS {table}_issued_frozen ON {table}"
        for table in ("invoices", "credit_notes", "payments", "refunds")
    ),
    "DROP TRIGGER IF EXISTS postings_append_only ON postings",
    "DROP TRIGGER IF EXISTS journal_entries_append_only ON journal_entries",
    "DROP TRIGGER IF EXISTS postings_balanced ON postings",
    "DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries",
    "DROP FUNCTION IF EXISTS issued_document_frozen()",
    "DROP FUNCTION IF EXISTS journal_append_only()",
    "DROP FUNCTION IF EXISTS journal_entry_balanced()",
)
