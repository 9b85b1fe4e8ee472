"""chain scale: the list's keys on the summary row, trigram search, stats kept as counters

Revision ID: 0005
Revises: 0004

Every page of the list is an index range scan of ``customer_summaries``: the row carries
each sort key (last activity, revenue, bookings, purchased credits, last name, registered)
and the record's list fields (listed, erased, status), kept from ``customers`` by
triggers, with one index per key that leads with the tenant. Search reads its candidates
from trigram indexes on the normalised name, the email and the phone. The statistics are
counters per tenant (``customer_stats``, ``customer_revenue``): a trigger writes what each
summary change adds (``customer_stats_changes``, in the change's transaction, append-only:
no transaction waits for another's count, none deadlocks on it), the stats read adds the
changes not folded yet, and the worker folds them into the counters every few seconds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The list's sentinels for customers without activity (adapters.listing renders the same
# constants, so that its sort keys are these indexes' expressions).
EARLIEST = "'0001-01-02 00:00:00+00'::timestamptz"
LATEST = "'9999-12-30 00:00:00+00'::timestamptz"

SUMMARY_KEYS = {
    "activity_desc": f"coalesce(last_activity_at, {EARLIEST})",
    "activity_asc": f"coalesce(last_activity_at, {LATEST})",
    "revenue": "lifetime_spend_minor",
    "bookings": "bookings_count",
    "purchased": "credits_purchased",
    "last_name": "sort_name",
    "registered": "registered_at",
}

RECORD_TO_SUMMARY = """
CREATE FUNCTION customers_record_to_summary() RETURNS trigger LANGUAGE plpgsql AS $$
-- The record's list fields on its summary row (AFTER INSERT, UPDATE, DELETE on customers).
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE customer_summaries
           SET listed = false, erased = false, status = NULL, registered_at = NULL,
               sort_name = NULL
         WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.id AND listed;
    ELSE
        UPDATE customer_summaries
           SET listed = true, erased = NEW.erased_at IS NOT NULL, status = NEW.status,
               registered_at = NEW.created_at, sort_name = lower(NEW.last_name)
         WHERE tenant_id = NEW.tenant_id AND customer_id = NEW.id;
    END IF;
    RETURN NULL;
END $$
"""

SUMMARY_FROM_RECORD = """
CREATE FUNCTION customers_summary_from_record() RETURNS trigger LANGUAGE plpgsql AS $$
-- A summary row not listed yet (events came before the record) takes the record's list
-- fields once the record exists (BEFORE INSERT or UPDATE on customer_summaries). This also
-- covers a record and its first summary row written by two transactions at once.
DECLARE
    record_row record;
BEGIN
    IF NOT NEW.listed THEN
        SELECT erased_at, status, created_at, last_name INTO record_row
          FROM customers WHERE tenant_id = NEW.tenant_id AND id = NEW.customer_id;
        IF FOUND THEN
            NEW.listed := true;
            NEW.erased := record_row.erased_at IS NOT NULL;
            NEW.status := record_row.status;
            NEW.registered_at := record_row.created_at;
            NEW.sort_name := lower(record_row.last_name);
        END IF;
    END IF;
    RETURN NEW;
END $$
"""

COUNT_STATS = """
CREATE FUNCTION customers_count_stats() RETURNS trigger LANGUAGE plpgsql AS $$
-- What one change of a summary row adds to its tenant's statistics (AFTER INSERT, UPDATE,
-- DELETE on customer_summaries): the new version counted, the old one taken away, written
-- as change rows that the stats read adds up and the worker folds into the counters.
-- Counts of customers leave erased records out; bookings and revenue keep them.
DECLARE
    tenant uuid;
    d_customers int := 0;
    d_erased int := 0;
    d_with_credits int := 0;
    d_paused int := 0;
    d_no_credits int := 0;
    d_inactive int := 0;
    d_bookings bigint := 0;
    old_currency varchar;
    new_currency varchar;
    old_amount bigint := 0;
    new_amount bigint := 0;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.listed THEN
        tenant := OLD.tenant_id;
        d_customers := d_customers - (NOT OLD.erased)::int;
        d_erased := d_erased - OLD.erased::int;
        d_with_credits := d_with_credits - (NOT OLD.erased AND OLD.credits_available > 0)::int;
        d_paused := d_paused - (NOT OLD.erased AND OLD.credits_paused > 0)::int;
        d_no_credits := d_no_credits - (NOT OLD.erased AND OLD.credits_available = 0
                                        AND OLD.credits_paused = 0)::int;
        d_inactive := d_inactive - (NOT OLD.erased AND OLD.status = 'inactive')::int;
        d_bookings := d_bookings - OLD.bookings_count;
        old_currency := OLD.currency;
        old_amount := OLD.lifetime_spend_minor;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.listed THEN
        tenant := NEW.tenant_id;
        d_customers := d_customers + (NOT NEW.erased)::int;
        d_erased := d_erased + NEW.erased::int;
        d_with_credits := d_with_credits + (NOT NEW.erased AND NEW.credits_available > 0)::int;
        d_paused := d_paused + (NOT NEW.erased AND NEW.credits_paused > 0)::int;
        d_no_credits := d_no_credits + (NOT NEW.erased AND NEW.credits_available = 0
                                        AND NEW.credits_paused = 0)::int;
        d_inactive := d_inactive + (NOT NEW.erased AND NEW.status = 'inactive')::int;
        d_bookings := d_bookings + NEW.bookings_count;
        new_currency := NEW.currency;
        new_amount := NEW.lifetime_spend_minor;
    END IF;
    IF tenant IS NULL THEN
        RETURN NULL;
    END IF;
    IF d_customers <> 0 OR d_erased <> 0 OR d_with_credits <> 0 OR d_paused <> 0
       OR d_no_credits <> 0 OR d_inactive <> 0 OR d_bookings <> 0 THEN
        INSERT INTO customer_stats_changes (tenant_id, customers, erased, with_credits,
                                            paused_credits, no_credits, inactive, bookings)
        VALUES (tenant, d_customers, d_erased, d_with_credits, d_paused, d_no_credits,
                d_inactive, d_bookings);
    END IF;
    IF old_currency IS NOT DISTINCT FROM new_currency THEN
        IF new_currency IS NOT NULL AND old_amount <> new_amount THEN
            INSERT INTO customer_stats_changes (tenant_id, currency, amount_minor)
            VALUES (tenant, new_currency, new_amount - old_amount);
        END IF;
    ELSE
        -- Revenue per currency; ``customers`` counts who has that currency.
        IF old_currency IS NOT NULL THEN
            INSERT INTO customer_stats_changes (tenant_id, currency, customers, amount_minor)
            VALUES (tenant, old_currency, -1, -old_amount);
        END IF;
        IF new_currency IS NOT NULL THEN
            INSERT INTO customer_stats_changes (tenant_id, currency, customers, amount_minor)
            VALUES (tenant, new_currency, 1, new_amount);
        END IF;
    END IF;
    RETURN NULL;
END $$
"""

# Every tenant's counters from the summary rows: the migration's first count, and the
# repair should they ever drift (``SELECT customers_recount_stats()``).
RECOUNT_STATS = """
CREATE FUNCTION customers_recount_stats() RETURNS void LANGUAGE sql AS $$
    LOCK TABLE customer_stats, customer_revenue, customer_stats_changes IN EXCLUSIVE MODE;
    DELETE FROM customer_stats_changes;
    DELETE FROM customer_revenue;
    DELETE FROM customer_stats;
    INSERT INTO customer_stats (tenant_id, customers, erased, with_credits, paused_credits,
                                no_credits, inactive, bookings)
    SELECT tenant_id,
           count(*) FILTER (WHERE NOT erased),
           count(*) FILTER (WHERE erased),
           count(*) FILTER (WHERE NOT erased AND credits_available > 0),
           count(*) FILTER (WHERE NOT erased AND credits_paused > 0),
           count(*) FILTER (WHERE NOT erased AND credits_available = 0 AND credits_paused = 0),
           count(*) FILTER (WHERE NOT erased AND status = 'inactive'),
           coalesce(sum(bookings_count), 0)
      FROM customer_summaries WHERE listed GROUP BY tenant_id;
    INSERT INTO customer_revenue (tenant_id, currency, customers, amount_minor)
    SELECT tenant_id, currency, count(*), sum(lifetime_spend_minor)
      FROM customer_summaries WHERE listed AND currency IS NOT NULL
     GROUP BY tenant_id, currency;
$$
"""

STATS_CHANGED = (
    "(OLD.listed, OLD.erased, OLD.status, OLD.credits_available, OLD.credits_paused, "
    "OLD.bookings_count, OLD.currency, OLD.lifetime_spend_minor) IS DISTINCT FROM "
    "(NEW.listed, NEW.erased, NEW.status, NEW.credits_available, NEW.credits_paused, "
    "NEW.bookings_count, NEW.currency, NEW.lifetime_spend_minor)"
)
RECORD_CHANGED = (
    "OLD.erased_at IS DISTINCT FROM NEW.erased_at OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.created_at IS DISTINCT FROM NEW.created_at "
    "OR OLD.last_name IS DISTINCT FROM NEW.last_name"
)


def upgrade() -> None:
    # -- the record's list fields on the summary row ------------------------------------
    op.add_column(
        "customer_summaries",
        sa.Column("listed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "customer_summaries",
        sa.Column("erased", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("customer_summaries", sa.Column("status", sa.String(20)))
    op.add_column("customer_summaries", sa.Column("registered_at", sa.DateTime(timezone=True)))
    op.add_column("customer_summaries", sa.Column("sort_name", sa.Text()))
    op.execute(
        "UPDATE customer_summaries s SET listed = true, erased = c.erased_at IS NOT NULL, "
        "status = c.status, registered_at = c.created_at, sort_name = lower(c.last_name) "
        "FROM customers c WHERE c.tenant_id = s.tenant_id AND c.id = s.customer_id"
    )
    op.execute(RECORD_TO_SUMMARY)
    op.execute(SUMMARY_FROM_RECORD)
    op.execute(
        "CREATE TRIGGER customers_to_summary_on_insert AFTER INSERT ON customers "
        "FOR EACH ROW EXECUTE FUNCTION customers_record_to_summary()"
    )
    op.execute(
        "CREATE TRIGGER customers_to_summary_on_update AFTER UPDATE ON customers "
        f"FOR EACH ROW WHEN ({RECORD_CHANGED}) EXECUTE FUNCTION customers_record_to_summary()"
    )
    op.execute(
        "CREATE TRIGGER customers_to_summary_on_delete AFTER DELETE ON customers "
        "FOR EACH ROW EXECUTE FUNCTION customers_record_to_summary()"
    )
    op.execute(
        "CREATE TRIGGER customer_summaries_from_record BEFORE INSERT OR UPDATE "
        "ON customer_summaries FOR EACH ROW EXECUTE FUNCTION customers_summary_from_record()"
    )

    # -- one index per sort key, each leading with the tenant ----------------------------
    op.drop_index("ix_customer_summaries_tenant_activity", "customer_summaries")
    for name, key in SUMMARY_KEYS.items():
        op.execute(
            f"CREATE INDEX ix_customer_summaries_tenant_{name} "
            f"ON customer_summaries (tenant_id, ({key}), customer_id)"
        )
    op.execute(
        "CREATE INDEX ix_customer_summaries_tenant_erased ON customer_summaries "
        "(tenant_id, customer_id) WHERE erased"
    )
    # The summary row serves the list's sorts by last name and registration now.
    op.drop_index("ix_customers_tenant_last_name", "customers")
    op.drop_index("ix_customers_tenant_created", "customers")

    # -- search: trigram indexes on the normalised name, the email and the phone ----------
    # Without the tenant column: with it (btree_gin, 0002) every scan also walked the
    # tenant's whole posting list, ten times the work for a tenant of a million. A small
    # tenant's search is served by its tenant-leading indexes instead (the planner's choice).
    # No pending list (fastupdate off): every search would scan it, and the planner, seeing
    # it, would choose to scan the table instead; records are written rarely enough.
    op.drop_index("ix_customers_tenant_name_trgm", "customers")
    for name, column in (
        ("name", "(lower(first_name || ' ' || last_name))"),
        ("email", "email"),
        ("phone", "phone"),
    ):
        op.execute(
            f"CREATE INDEX ix_customers_{name}_trgm ON customers USING gin "
            f"({column} gin_trgm_ops) WITH (fastupdate = off)"
        )

    # -- statistics kept as counters -----------------------------------------------------
    counts = (
        "customers",
        "erased",
        "with_credits",
        "paused_credits",
        "no_credits",
        "inactive",
        "bookings",
    )
    op.create_table(
        "customer_stats",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            for name in counts
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_customer_stats"),
    )
    op.create_table(
        "customer_revenue",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customers", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "currency", name="pk_customer_revenue"),
    )
    op.create_table(
        "customer_stats_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3)),
        *(
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            for name in (*counts, "amount_minor")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_stats_changes"),
    )
    op.create_index(
        "ix_customer_stats_changes_tenant_id", "customer_stats_changes", ["tenant_id", "id"]
    )
    op.execute(COUNT_STATS)
    op.execute(RECOUNT_STATS)
    op.execute("SELECT customers_recount_stats()")
    op.execute(
        "CREATE TRIGGER customer_summaries_stats_on_insert AFTER INSERT ON customer_summaries "
        "FOR EACH ROW WHEN (NEW.listed) EXECUTE FUNCTION customers_count_stats()"
    )
    op.execute(
        "CREATE TRIGGER customer_summaries_stats_on_update AFTER UPDATE ON customer_summaries "
        f"FOR EACH ROW WHEN ({STATS_CHANGED}) EXECUTE FUNCTION customers_count_stats()"
    )
    op.execute(
        "CREATE TRIGGER customer_summaries_stats_on_delete AFTER DELETE ON customer_summaries "
        "FOR EACH ROW WHEN (OLD.listed) EXECUTE FUNCTION customers_count_stats()"
    )


def downgrade() -> None:
    for trigger in ("on_insert", "on_update", "on_delete"):
        op.execute(f"DROP TRIGGER customer_summaries_stats_{trigger} ON customer_summaries")
        op.execute(f"DROP TRIGGER customers_to_summary_{trigger} ON customers")
    op.execute("DROP TRIGGER customer_summaries_from_record ON customer_summaries")
    op.execute("DROP FUNCTION customers_recount_stats()")
    op.execute("DROP FUNCTION customers_count_stats()")
    op.execute("DROP FUNCTION customers_summary_from_record()")
    op.execute("DROP FUNCTION customers_record_to_summary()")
    op.drop_table("customer_stats_changes")
    op.drop_table("customer_revenue")
    op.drop_table("customer_stats")
    op.drop_index("ix_customers_phone_trgm", "customers")
    op.drop_index("ix_customers_email_trgm", "customers")
    op.drop_index("ix_customers_name_trgm", "customers")
    op.execute(
        "CREATE INDEX ix_customers_tenant_name_trgm ON customers USING gin "
        "(tenant_id, (lower(first_name || ' ' || last_name)) gin_trgm_ops)"
    )
    op.create_index("ix_customers_tenant_created", "customers", ["tenant_id", "created_at", "id"])
    op.execute(
        "CREATE INDEX ix_customers_tenant_last_name ON customers (tenant_id, lower(last_name), id)"
    )
    op.drop_index("ix_customer_summaries_tenant_erased", "customer_summaries")
    for name in SUMMARY_KEYS:
        op.drop_index(f"ix_customer_summaries_tenant_{name}", "customer_summaries")
    op.create_index(
        "ix_customer_summaries_tenant_activity",
        "customer_summaries",
        ["tenant_id", "last_activity_at"],
    )
    for column in ("sort_name", "registered_at", "status", "erased", "listed"):
        op.drop_column("customer_summaries", column)
