"""catalogue: merges (C13), households (C14), assets (C15), custom fields (C16)

Revision ID: 0006
Revises: 0005

A merged record stays (``customers.merged_into`` points at the survivor) but is no longer
listed: the triggers of 0005 now keep ``customer_summaries.listed`` false for it, so the
list, search and the statistics counters leave it out as they leave out a deleted one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TO_SUMMARY = """
CREATE OR REPLACE FUNCTION customers_record_to_summary() RETURNS trigger LANGUAGE plpgsql AS $$
-- The record's list fields on its summary row (AFTER INSERT, UPDATE, DELETE on customers).
-- 0006: a merged record (merged_into set) is not listed.
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE customer_summaries
           SET listed = false, erased = false, status = NULL, registered_at = NULL,
               sort_name = NULL
         WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.id AND listed;
    ELSE
        UPDATE customer_summaries
           SET listed = NEW.merged_into IS NULL, erased = NEW.erased_at IS NOT NULL,
               status = NEW.status, registered_at = NEW.created_at,
               sort_name = lower(NEW.last_name)
         WHERE tenant_id = NEW.tenant_id AND customer_id = NEW.id;
    END IF;
    RETURN NULL;
END $$
"""

SUMMARY_FROM_RECORD = """
CREATE OR REPLACE FUNCTION customers_summary_from_record() RETURNS trigger LANGUAGE plpgsql AS $$
-- A summary row not listed yet (events came before the record) takes the record's list
-- fields once the record exists (BEFORE INSERT or UPDATE on customer_summaries).
-- 0006: never for a merged record.
DECLARE
    record_row record;
BEGIN
    IF NOT NEW.listed THEN
        SELECT erased_at, status, created_at, last_name, merged_into INTO record_row
          FROM customers WHERE tenant_id = NEW.tenant_id AND id = NEW.customer_id;
        IF FOUND AND record_row.merged_into IS NULL THEN
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

RECORD_CHANGED = (
    "OLD.erased_at IS DISTINCT FROM NEW.erased_at OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.created_at IS DISTINCT FROM NEW.created_at "
    "OR OLD.last_name IS DISTINCT FROM NEW.last_name"
)
MERGE_CHANGED = " OR OLD.merged_into IS DISTINCT FROM NEW.merged_into"


def _record_trigger(condition: str) -> None:
    op.execute("DROP TRIGGER customers_to_summary_on_update ON customers")
    op.execute(
        "CREATE TRIGGER customers_to_summary_on_update AFTER UPDATE ON customers "
        f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION customers_record_to_summary()"
    )


def upgrade() -> None:
    # -- C13 merges --------------------------------------------------------------------
    op.add_column("customers", sa.Column("merged_into", sa.Uuid()))
    op.add_column("customers", sa.Column("merged_at", sa.DateTime(timezone=True)))
    op.execute(RECORD_TO_SUMMARY)
    op.execute(SUMMARY_FROM_RECORD)
    _record_trigger(RECORD_CHANGED + MERGE_CHANGED)
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("merged_by", sa.String(200), nullable=False),
        sa.Column(
            "merged_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("undo_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.Column("undone_by", sa.String(200)),
        sa.Column(
            "moved", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_merges"),
    )
    op.create_index(
        "ix_customer_merges_tenant_survivor", "customer_merges", ["tenant_id", "survivor_id"]
    )
    op.create_index(
        "ix_customer_merges_tenant_merged", "customer_merges", ["tenant_id", "merged_id"]
    )

    # -- C14 households: a member has at most one payer (the key) -----------------------
    op.create_table(
        "household_links",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("payer_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(50)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("member_id <> payer_id", name="ck_household_links_not_self"),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name="pk_household_links"),
    )
    op.create_index("ix_household_links_tenant_payer", "household_links", ["tenant_id", "payer_id"])
    # The version of each member's household events (linked, unlinked, linked again...).
    op.create_table(
        "household_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name="pk_household_versions"),
    )

    # -- C15 assets ----------------------------------------------------------------------
    op.create_table(
        "customer_assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("make", sa.String(100)),
        sa.Column("model", sa.String(100)),
        sa.Column("year", sa.Integer()),
        sa.Column("plate", sa.String(20)),
        sa.Column("plate_key", sa.String(20)),
        sa.Column("vin", sa.String(17)),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_assets"),
    )
    op.create_index(
        "ix_customer_assets_tenant_customer", "customer_assets", ["tenant_id", "customer_id"]
    )
    # Plates unique in the tenant; text_pattern_ops so a plate prefix (LIKE 'AB12%') is a
    # range of the same index (search by plate).
    op.execute(
        "CREATE UNIQUE INDEX uq_customer_assets_tenant_plate ON customer_assets "
        "(tenant_id, plate_key text_pattern_ops) WHERE plate_key IS NOT NULL"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_customer_assets_tenant_vin ON customer_assets "
        "(tenant_id, vin) WHERE vin IS NOT NULL"
    )

    # -- C16 custom fields -----------------------------------------------------------------
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "choices", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_custom_fields"),
    )
    op.create_index(
        "uq_custom_fields_tenant_key", "custom_fields", ["tenant_id", "key"], unique=True
    )
    op.add_column(
        "customers",
        sa.Column(
            "custom_fields",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    # The list's ``cf.<key>=value`` filters are containment (@>), served by this index.
    op.execute(
        "CREATE INDEX ix_customers_tenant_custom_fields ON customers USING gin "
        "(tenant_id, custom_fields jsonb_path_ops)"
    )


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_custom_fields", "customers")
    op.drop_column("customers", "custom_fields")
    op.drop_table("custom_fields")
    op.drop_table("customer_assets")
    op.drop_table("household_versions")
    op.drop_table("household_links")
    op.drop_table("customer_merges")
    _record_trigger(RECORD_CHANGED)
    # 0005's functions: the same without the merge.
    op.execute(RECORD_TO_SUMMARY.replace("listed = NEW.merged_into IS NULL", "listed = true"))
    op.execute(
        SUMMARY_FROM_RECORD.replace(", merged_into INTO", " INTO").replace(
            "IF FOUND AND record_row.merged_into IS NULL THEN", "IF FOUND THEN"
        )
    )
    op.drop_column("customers", "merged_at")
    op.drop_column("customers", "merged_into")
