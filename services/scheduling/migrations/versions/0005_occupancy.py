"""occupancy: one trainer or room is never in two places at once, whatever holds it

Revision ID: 0005
Revises: 0004

Every active class or event (not cancelled) and every active appointment (draft,
confirmed) holds its staff member and its room as one row each, for the half-open
range ``[starts_at, ends_at)`` (back to back is fine). One btree_gist exclusion
constraint keeps two rows of one resource from overlapping, across kinds: a class
against an appointment, a class against a class. The appointment-only exclusion
constraints of 0001 stay.

The backfill takes active holders oldest first with ``ON CONFLICT DO NOTHING``: a
database that already holds conflicts still migrates; the later of two conflicting
holders is simply not reserved until it is edited (and then checked) or cancelled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "occupancy",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_kind", sa.String(length=10), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("holder_kind", sa.String(length=20), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "resource_kind IN ('staff', 'room')", name=op.f("ck_occupancy_resource_kind")
        ),
        sa.CheckConstraint(
            "holder_kind IN ('session', 'appointment')", name=op.f("ck_occupancy_holder_kind")
        ),
        sa.CheckConstraint(
            "lower_inc(during) AND NOT upper_inc(during)", name=op.f("ck_occupancy_half_open")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "holder_kind", "holder_id", "resource_kind", name=op.f("pk_occupancy")
        ),
        postgresql.ExcludeConstraint(
            ("tenant_id", "="),
            ("resource_kind", "="),
            ("resource_id", "="),
            ("during", "&&"),
            using="gist",
            name=op.f("ex_occupancy_overlap"),
        ),
    )
    op.execute(
        """
        INSERT INTO occupancy
            (tenant_id, resource_kind, resource_id, during, holder_kind, holder_id)
        SELECT tenant_id, resource_kind, resource_id, during, holder_kind, holder_id
        FROM (
            SELECT tenant_id, 'staff' AS resource_kind, staff_id AS resource_id,
                   tstzrange(starts_at, ends_at, '[)') AS during,
                   'session' AS holder_kind, id AS holder_id, created_at
            FROM sessions WHERE status <> 'cancelled' AND staff_id IS NOT NULL
            UNION ALL
            SELECT tenant_id, 'room', room_id, tstzrange(starts_at, ends_at, '[)'),
                   'session', id, created_at
            FROM sessions WHERE status <> 'cancelled' AND room_id IS NOT NULL
            UNION ALL
            SELECT tenant_id, 'staff', staff_id, tstzrange(starts_at, ends_at, '[)'),
                   'appointment', id, created_at
            FROM appointments WHERE status IN ('draft', 'confirmed')
            UNION ALL
            SELECT tenant_id, 'room', room_id, tstzrange(starts_at, ends_at, '[)'),
                   'appointment', id, created_at
            FROM appointments WHERE status IN ('draft', 'confirmed') AND room_id IS NOT NULL
        ) AS held
        ORDER BY created_at, holder_id, resource_kind
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table("occupancy")
