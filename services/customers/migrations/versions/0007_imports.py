"""imports: CSV imports (C17) and the tenants' own settings (issue 12)

Revision ID: 0007
Revises: 0006

An import keeps its file as staged rows (written with COPY as the parts arrive), the
errors of its last run and a dry run's keys; the worker runs it a chunk per transaction
(``customer_imports.position``). ``tenant_settings`` is the copy of each tenant's
settings from ``identity.tenant.changed``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO = sa.text("0")


def _count(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), server_default=ZERO, nullable=False)


def upgrade() -> None:
    op.create_table(
        "customer_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(200)),
        sa.Column("phase", sa.String(20), server_default="uploading", nullable=False),
        sa.Column("header", postgresql.ARRAY(sa.Text())),
        sa.Column("received_bytes", sa.BigInteger(), server_default=ZERO, nullable=False),
        sa.Column("tail", sa.LargeBinary(), server_default=sa.text("''::bytea"), nullable=False),
        sa.Column("next_line", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _count("rows_total"),
        sa.Column("mapping", postgresql.JSONB()),
        sa.Column("existing", sa.String(10), server_default="skip", nullable=False),
        _count("position"),
        _count("created"),
        _count("updated"),
        _count("skipped"),
        _count("failed"),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_customer_imports"),
    )
    op.create_index(
        "ix_customer_imports_tenant_created", "customer_imports", ["tenant_id", "created_at"]
    )
    op.create_index(
        "ix_customer_imports_running",
        "customer_imports",
        ["updated_at"],
        postgresql_where=sa.text("phase IN ('validating', 'importing')"),
    )
    op.create_table(
        "customer_import_rows",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("cells", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("problem", sa.Text()),
        sa.PrimaryKeyConstraint("tenant_id", "import_id", "n", name="pk_customer_import_rows"),
    )
    op.create_table(
        "customer_import_errors",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "import_id", "n", name="pk_customer_import_errors"),
    )
    op.create_table(
        "customer_import_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "import_id", "key", name="pk_customer_import_keys"),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("default_country", sa.String(2), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_settings"),
    )


def downgrade() -> None:
    op.drop_table("tenant_settings")
    op.drop_table("customer_import_keys")
    op.drop_table("customer_import_errors")
    op.drop_table("customer_import_rows")
    op.drop_index("ix_customer_imports_running", "customer_imports")
    op.drop_index("ix_customer_imports_tenant_created", "customer_imports")
    op.drop_table("customer_imports")
