"""Tables of the billing database. Every index leads with tenant_id.

Invariants held by the database, not only by code:

- Journal entries balance: a deferred constraint trigger checks at commit that every
  entry has two postings or more, that they sum to zero and that they are in the entry's
  currency. The journal is append-only (deletes and updates refused, except erasure
  replacing the customer link).
- An issued document is immutable: an invoice with a number keeps its lines, totals,
  parties and dates (only its status, and erasure's scrub, may change); credit notes,
  payments and refunds are never changed or deleted (but for erasure's scrub).
- Numbers are unique per tenant; a counter row per tenant, document, prefix and year
  hands them out without gaps; at most one invoice per source (event business key).
- Amounts are never negative, postings never zero, statuses known.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
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
idempotency_keys = idempotency_table(metadata)

INVOICE_STATUSES = ("draft", "open", "paid", "cancelled")
SOURCES = ("manual", "package", "top_up", "booking", "membership", "program")
METHODS = ("cash", "card", "transfer", "online")
ACCOUNTS = ("receivable", "customer_credit", "revenue", "tax", "cash")
ENTRY_KINDS = (
    "invoice",
    "payment",
    "credit_note",
    "refund",
    "credit_applied",
    "merge_settlement",
)
DOCUMENTS = ("invoice", "credit_note", "payment", "refund")


def _created() -> Column[Any]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


billing_profiles = Table(
    "billing_profiles",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),  # the tenant's id: one profile per tenant
    Column("seller_name", String(200)),
    Column("seller_address", Text),
    Column("seller_tax_id", String(50)),
    Column("seller_email", String(320)),
    Column("seller_phone", String(40)),
    Column("currency", String(3), nullable=False),
    Column("locale", String(20), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("default_tax_rate_bp", Integer, nullable=False, server_default=text("0")),
    Column("prices_include_tax", Boolean, nullable=False, server_default=text("true")),
    Column("payment_terms_days", Integer, nullable=False, server_default=text("14")),
    Column("invoice_prefix", String(12), nullable=False, server_default=""),
    Column("credit_note_prefix", String(12), nullable=False, server_default="CN-"),
    # The fields staff set here: they win over the tenant's copy (``tenant_settings``).
    Column("staff_set", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id"),
    CheckConstraint("id = tenant_id", name="one_per_tenant"),
    CheckConstraint("default_tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_range"),
    CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="terms_range"),
)

billing_customers = Table(
    "billing_customers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("first_name", String(200), nullable=False),
    Column("last_name", String(200), nullable=False),
    Column("email", String(320)),
    Column("version", Integer, nullable=False),  # the customer's aggregate version
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
)

customer_memberships = Table(
    "customer_memberships",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("membership_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("discount_percent", Integer, nullable=False),
    Column("included_services", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),
    Column("version", Integer, nullable=False),  # the membership's aggregate version
    PrimaryKeyConstraint("tenant_id", "membership_id"),
    CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
    Index("ix_customer_memberships_tenant_customer", "tenant_id", "customer_id"),
)

# One row per customer: locked first by every change to the customer's money (so one
# customer's changes run one at a time), and the version AccountChanged carries. It holds
# no balance: balances are sums of postings.
billing_accounts = Table(
    "billing_accounts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
)

document_counters = Table(
    "document_counters",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("document", String(20), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last_number", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "document", "prefix", "year"),
    CheckConstraint(f"document IN {DOCUMENTS}", name="document_known"),
    CheckConstraint("last_number > 0", name="positive"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("status", String(10), nullable=False, server_default="draft"),
    Column("prefix", String(12), nullable=False, server_default=""),
    Column("number", String(40)),
    Column("currency", String(3), nullable=False),
    Column("prices_include_tax", Boolean, nullable=False),
    Column("lines", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("tax_summary", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("amount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("discount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("membership_discount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("net_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("tax_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("total_minor", BigInteger, nullable=False, server_default=text("0")),
    # Loyalty vouchers used at issue (their shares are in the lines' figures).
    Column("voucher_discount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("vouchers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("bill_to", JSONB),
    Column("seller", JSONB),
    Column("locale", String(20)),
    Column("timezone", String(64)),
    Column("notes", Text),
    Column("issued_at", DateTime(timezone=True)),
    Column("issued_on", Date),
    Column("due_on", Date),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("source_kind", String(20), nullable=False, server_default="manual"),
    Column("source_key", String(200)),
    Column("created_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"status IN {INVOICE_STATUSES}", name="status_known"),
    CheckConstraint(f"source_kind IN {SOURCES}", name="source_known"),
    CheckConstraint("status <> 'draft' OR number IS NULL", name="draft_unnumbered"),
    CheckConstraint(
        "status NOT IN ('open', 'paid') OR (number IS NOT NULL AND issued_at IS NOT NULL)",
        name="issued_numbered",
    ),
    CheckConstraint(
        "amount_minor >= 0 AND discount_minor >= 0 AND membership_discount_minor >= 0 "
        "AND net_minor >= 0 AND tax_minor >= 0 AND total_minor >= 0",
        name="amounts_not_negative",
    ),
    CheckConstraint("total_minor = net_minor + tax_minor", name="total_is_net_and_tax"),
    CheckConstraint("voucher_discount_minor >= 0", name="voucher_not_negative"),
    Index("uq_invoices_tenant_number", "tenant_id", "number", unique=True),
    Index(
        "uq_invoices_tenant_source",
        "tenant_id",
        "source_kind",
        "source_key",
        unique=True,
        postgresql_where=text("source_key IS NOT NULL"),
    ),
    Index("ix_invoices_tenant_customer_created", "tenant_id", "customer_id", "created_at"),
    Index("ix_invoices_tenant_created", "tenant_id", "created_at", "id"),
    Index("ix_invoices_tenant_issued_on", "tenant_id", "issued_on"),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, ForeignKey("invoices.id"), nullable=False),
    Column("invoice_number", String(40), nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("number", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("tax_summary", JSONB, nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("voucher_discount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("reason", Text),
    Column("bill_to", JSONB),
    Column("seller", JSONB),
    Column("locale", String(20)),
    Column("timezone", String(64)),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    CheckConstraint("net_minor >= 0 AND tax_minor >= 0", name="amounts_not_negative"),
    # Zero only when it gives back a voucher that paid a whole (zero) invoice.
    CheckConstraint(
        "voucher_discount_minor >= 0 AND (total_minor > 0 OR voucher_discount_minor > 0)",
        name="total_positive",
    ),
    CheckConstraint("total_minor = net_minor + tax_minor", name="total_is_net_and_tax"),
    Index("uq_credit_notes_tenant_number", "tenant_id", "number", unique=True),
    Index("ix_credit_notes_tenant_invoice", "tenant_id", "invoice_id"),
    Index("ix_credit_notes_tenant_created", "tenant_id", "created_at", "id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, ForeignKey("invoices.id")),
    Column("reference", String(40), nullable=False),
    Column("method", String(10), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("external_reference", String(200)),
    Column("note", Text),
    Column("recorded_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(f"method IN {METHODS}", name="method_known"),
    Index("uq_payments_tenant_reference", "tenant_id", "reference", unique=True),
    Index("ix_payments_tenant_invoice", "tenant_id", "invoice_id"),
    Index("ix_payments_tenant_customer", "tenant_id", "customer_id"),
    Index("ix_payments_tenant_created", "tenant_id", "created_at", "id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("invoice_id", Uuid),
    Column("reference", String(40), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(10), nullable=False),
    Column("reason", Text),
    Column("refunded_at", DateTime(timezone=True), nullable=False),
    Column("refunded_by", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(f"method IN {METHODS}", name="method_known"),
    Index("uq_refunds_tenant_reference", "tenant_id", "reference", unique=True),
    Index("ix_refunds_tenant_payment", "tenant_id", "payment_id"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("reference", String(40), nullable=False),
    Column("customer_id", Uuid),
    Column("invoice_id", Uuid),
    Column("document_id", Uuid, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("memo", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"kind IN {ENTRY_KINDS}", name="kind_known"),
    Index("ix_journal_entries_tenant_seq", "tenant_id", "seq"),
    Index("ix_journal_entries_tenant_customer_seq", "tenant_id", "customer_id", "seq"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("entry_id", Uuid, ForeignKey("journal_entries.id"), nullable=False),
    Column("account", String(20), nullable=False),
    Column("customer_id", Uuid),
    Column("invoice_id", Uuid),
    Column("method", String(10)),
    Column("tax_rate_bp", Integer),
    Column("amount_minor", BigInteger, nullable=False),  # debit > 0, credit < 0
    Column("currency", String(3), nullable=False),
    CheckConstraint("amount_minor <> 0", name="not_zero"),
    CheckConstraint(f"account IN {ACCOUNTS}", name="account_known"),
    CheckConstraint(
        "account NOT IN ('receivable', 'customer_credit', 'cash') OR customer_id IS NOT NULL",
        name="customer_accounts_name_customer",
    ),
    CheckConstraint("account <> 'receivable' OR invoice_id IS NOT NULL", name="receivable_invoice"),
    CheckConstraint("(account = 'cash') = (method IS NOT NULL)", name="cash_method"),
    CheckConstraint(
        "account NOT IN ('revenue', 'tax') OR tax_rate_bp IS NOT NULL", name="sales_rate"
    ),
    Index("ix_postings_tenant_entry", "tenant_id", "entry_id"),
    Index("ix_postings_tenant_customer_account", "tenant_id", "customer_id", "account"),
    Index("ix_postings_tenant_invoice", "tenant_id", "invoice_id"),
    Index("ix_postings_tenant_account", "tenant_id", "account", "currency"),
)

# A booking cancelled (with a refund) before its confirmation reached billing: the late
# confirmation then makes no invoice.
closed_sources = Table(
    "closed_sources",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("source_kind", String(20), nullable=False),
    Column("source_key", String(200), nullable=False),
    _created(),
    PrimaryKeyConstraint("tenant_id", "source_kind", "source_key"),
)

# The tenant as the gateway last told it (``identity.tenant.changed``): ``version`` is
# the tenant's aggregate version, so an older event changes nothing.
tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_country", String(2)),
    Column("language", String(20)),
    Column("currency", String(3)),
    Column("time_zone", String(64)),
    Column("seller", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id"),
)

MERGE_STATES = ("merged", "unmerged")

# Merges of two customers as customers announced them (``customers.customer.merged`` /
# ``…unmerged``): one row per merge, so a replay or a late ``merged`` after its
# ``unmerged`` changes nothing.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("survivor_id", Uuid, nullable=False),
    Column("merged_id", Uuid, nullable=False),
    Column("state", String(10), nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "merge_id"),
    CheckConstraint(f"state IN {MERGE_STATES}", name="state_known"),
    CheckConstraint("survivor_id <> merged_id", name="two_customers"),
)

# What a merge moved from the merged customer to the survivor, row by row (``row_key``:
# the row's id as text), so the unmerge moves exactly those back.
merge_moves = Table(
    "merge_moves",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("merge_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("row_key", String(64), nullable=False),
    PrimaryKeyConstraint("tenant_id", "merge_id", "kind", "row_key"),
)

# Loyalty vouchers (credits' ``loyalty.voucher_issued``): points redeemed for a discount
# on the customer's next invoices. What one has left is its amount less its uses.
loyalty_vouchers = Table(
    "loyalty_vouchers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("voucher_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("points", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "voucher_id"),
    CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    Index("ix_loyalty_vouchers_tenant_customer", "tenant_id", "customer_id", "issued_at"),
)

# Each use of a voucher on an invoice (positive), and what a credit note of that invoice
# gave back (negative, naming the credit note). Rows are only ever added.
voucher_uses = Table(
    "voucher_uses",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("voucher_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, ForeignKey("invoices.id"), nullable=False),
    Column("credit_note_id", Uuid, ForeignKey("credit_notes.id")),
    Column("amount_minor", BigInteger, nullable=False),
    _created(),
    CheckConstraint("amount_minor <> 0", name="not_zero"),
    CheckConstraint("(amount_minor > 0) = (credit_note_id IS NULL)", name="back_by_credit_note"),
    Index("ix_voucher_uses_tenant_voucher", "tenant_id", "voucher_id"),
    Index("ix_voucher_uses_tenant_invoice", "tenant_id", "invoice_id"),
)
