"""CSV imports (C17): their tables (on the service's metadata, created by migration 0007),
the import itself, its staged rows (written with COPY), its errors and the keys a dry run
has seen, and the bulk reads and writes of customers an import chunk makes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from frontdesk.customers.adapters.tables import customers, metadata, notes
from frontdesk.customers.domain.customer import Customer
from frontdesk.customers.domain.imports import RUNNING, CustomerImport, Record
from frontdesk.customers.domain.notes import Note
from frontdesk.kit.db import AggregateRepository, Prepared, TenantRepository, session_reads
from frontdesk.kit.errors import StaleVersion

_count = text("0")

customer_imports = Table(
    "customer_imports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("filename", String(200)),
    Column("phase", String(20), nullable=False, server_default="uploading"),
    Column("header", ARRAY(Text)),
    Column("received_bytes", BigInteger, nullable=False, server_default=_count),
    # The bytes of a record a part ended inside (completed by the next part).
    Column("tail", LargeBinary, nullable=False, server_default=text("''::bytea")),
    Column("next_line", Integer, nullable=False, server_default=text("1")),
    Column("rows_total", Integer, nullable=False, server_default=_count),
    Column("mapping", JSONB),
    Column("existing", String(10), nullable=False, server_default="skip"),
    Column("position", Integer, nullable=False, server_default=_count),
    Column("created", Integer, nullable=False, server_default=_count),
    Column("updated", Integer, nullable=False, server_default=_count),
    Column("skipped", Integer, nullable=False, server_default=_count),
    Column("failed", Integer, nullable=False, server_default=_count),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_customer_imports_tenant_created", "tenant_id", "created_at"),
    # The workers' queue: running imports, the one waiting longest first.
    Index(
        "ix_customer_imports_running",
        "updated_at",
        postgresql_where=text("phase IN ('validating', 'importing')"),
    ),
)

# The file's rows as received (numbered from 1 in file order; ``line``: the physical line
# a row starts on), written with COPY as parts arrive.
customer_import_rows = Table(
    "customer_import_rows",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("import_id", Uuid, nullable=False),
    Column("n", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("cells", ARRAY(Text), nullable=False),
    Column("problem", Text),
    PrimaryKeyConstraint("tenant_id", "import_id", "n"),
)

# The rows the current run (dry run or import) found wrong, and why.
customer_import_errors = Table(
    "customer_import_errors",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("import_id", Uuid, nullable=False),
    Column("n", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "import_id", "n"),
)

# A dry run's memory of the rows' keys (email, or phone) so a later row with the same key
# counts as matching the earlier one, as it will in the import.
customer_import_keys = Table(
    "customer_import_keys",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("import_id", Uuid, nullable=False),
    Column("key", Text, nullable=False),
    Column("line", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "import_id", "key"),
)

STAGED = ("tenant_id", "import_id", "n", "line", "cells", "problem")
_ROWS = Prepared(
    select(
        customer_import_rows.c.n,
        customer_import_rows.c.line,
        customer_import_rows.c.cells,
        customer_import_rows.c.problem,
    )
    .where(
        customer_import_rows.c.tenant_id == bindparam("tenant_id"),
        customer_import_rows.c.import_id == bindparam("import_id"),
        customer_import_rows.c.n > bindparam("after"),
    )
    .order_by(customer_import_rows.c.n)
    .limit(bindparam("limit"))
)
i, r, e, k = (
    customer_imports.c,
    customer_import_rows.c,
    customer_import_errors.c,
    customer_import_keys.c,
)


async def _driver(session: Any) -> Any:
    """The asyncpg connection under the unit of work's session (in its transaction)."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


class ImportRepository(AggregateRepository[CustomerImport]):
    table = customer_imports
    aggregate = CustomerImport
    what = "import"

    async def stage(self, import_id: uuid.UUID, first: int, records: Sequence[Record]) -> None:
        """Rows numbered from ``first``, written with COPY in the unit of work's
        transaction."""
        if not records:
            return
        driver = await _driver(self.session)
        await driver.copy_records_to_table(
            customer_import_rows.name,
            records=[
                (self.tenant_id, import_id, first + n, rec.line, rec.cells, rec.problem)
                for n, rec in enumerate(records)
            ],
            columns=STAGED,
        )

    async def rows(self, import_id: uuid.UUID, after: int, limit: int) -> list[tuple[int, Record]]:
        """Up to ``limit`` rows numbered after ``after``, in order (read by the driver: the
        cells arrive as lists, with no per-cell processing)."""
        found = await session_reads(self.session).rows(
            _ROWS, tenant_id=self.tenant_id, import_id=import_id, after=after, limit=limit
        )
        return [(row["n"], Record(row["line"], row["cells"], row["problem"])) for row in found]

    async def clear_run(self, import_id: uuid.UUID) -> None:
        """What a previous run found (errors, a dry run's keys)."""
        for table in (customer_import_errors, customer_import_keys):
            await self.session.execute(
                delete(table).where(
                    table.c.tenant_id == self.tenant_id, table.c.import_id == import_id
                )
            )

    async def add_errors(
        self, import_id: uuid.UUID, errors: Iterable[tuple[int, int, str]]
    ) -> None:
        values = [
            {
                "tenant_id": self.tenant_id,
                "import_id": import_id,
                "n": n,
                "line": line,
                "reason": why,
            }
            for n, line, why in errors
        ]
        if values:
            await self.session.execute(insert(customer_import_errors), values)

    async def errors(
        self, import_id: uuid.UUID, after: int, limit: int
    ) -> list[tuple[int, int, str, list[str]]]:
        """Failed rows after row ``after``: number, line, reason and the row's cells."""
        found = await self._all(
            select(e.n, e.line, e.reason, r.cells)
            .join(
                customer_import_rows,
                (r.tenant_id == e.tenant_id) & (r.import_id == e.import_id) & (r.n == e.n),
            )
            .where(e.tenant_id == self.tenant_id, e.import_id == import_id, e.n > after)
            .order_by(e.n)
            .limit(limit)
        )
        return [(row.n, row.line, row.reason, list(row.cells)) for row in found]

    async def seen_keys(self, import_id: uuid.UUID, keys: Mapping[str, int]) -> dict[str, int]:
        """Remembers each key's first line; the keys an earlier row had, with its line."""
        if not keys:
            return {}
        driver = await _driver(self.session)
        inserted = await driver.fetch(
            "INSERT INTO customer_import_keys (tenant_id, import_id, key, line) "
            "SELECT $1, $2, key, line FROM unnest($3::text[], $4::int[]) AS k(key, line) "
            "ON CONFLICT DO NOTHING RETURNING key",
            self.tenant_id,
            import_id,
            list(keys),
            list(keys.values()),
        )
        new = {row[0] for row in inserted}
        earlier = [key for key in keys if key not in new]
        if not earlier:
            return {}
        found = await self._all(
            select(k.key, k.line).where(
                k.tenant_id == self.tenant_id, k.import_id == import_id, k.key.in_(earlier)
            )
        )
        return {row.key: row.line for row in found}

    async def remove(self, import_id: uuid.UUID) -> None:
        for table in (
            customer_import_keys,
            customer_import_errors,
            customer_import_rows,
            customer_imports,
        ):
            column = table.c.id if table is customer_imports else table.c.import_id
            await self.session.execute(
                delete(table).where(table.c.tenant_id == self.tenant_id, column == import_id)
            )

    async def recent(self, limit: int) -> list[CustomerImport]:
        found = await self._all(
            select(customer_imports)
            .where(i.tenant_id == self.tenant_id)
            .order_by(i.created_at.desc(), i.id)
            .limit(limit)
        )
        return [self.load(row) for row in found]


async def claim_running(session: Any) -> CustomerImport | None:
    """A running import no other worker holds (locked to the end of the transaction), the
    one waiting longest first. The workers' queue spans tenants; everything done with the
    claimed import is then of its tenant."""
    row = (
        (
            await session.execute(
                select(customer_imports)
                .where(i.phase.in_(RUNNING))
                .order_by(i.updated_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else CustomerImport.from_row(row)


c = customers.c

# The fields an import row can change (``domain.imports.apply_row``), for many records at
# once: one row of arrays per record.
_SAVE = """
UPDATE customers AS c
SET first_name = u.first_name, last_name = u.last_name, email = u.email, phone = u.phone,
    status = u.status, tags = ARRAY(SELECT jsonb_array_elements_text(u.tags)),
    custom_fields = u.custom_fields, version = c.version + 1, updated_at = now()
FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::jsonb[], $10::jsonb[])
     AS u(id, version, first_name, last_name, email, phone, status, tags, custom_fields)
WHERE c.tenant_id = $1 AND c.id = u.id AND c.version = u.version
RETURNING c.*
"""


class ImportedCustomers(TenantRepository):
    """The customers an import chunk matches, creates and annotates, in bulk."""

    async def lock_keys(self, emails: Iterable[str], phones: Iterable[str]) -> None:
        """The advisory locks find-or-create takes on an email (the same key:
        ``CustomerRepository.lock_email``), and one per phone, in one sorted statement: no
        customer is created twice by an import and a booking (or two imports) at once."""
        keys = sorted(
            {f"customers:find-or-create:{self.tenant_id}:{email}" for email in emails}
            | {f"customers:import-phone:{self.tenant_id}:{phone}" for phone in phones}
        )
        if keys:
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) "
                    "FROM unnest(CAST(:keys AS text[])) AS key ORDER BY key"
                ),
                {"keys": keys},
            )

    async def matching(self, emails: Sequence[str], phones: Sequence[str]) -> dict[str, uuid.UUID]:
        """The customer each key names (``email:<email>``, ``phone:<phone>``): the oldest
        with it, a merged record only when no other has it."""
        out: dict[str, uuid.UUID] = {}
        for kind, column, values in (("email", c.email, emails), ("phone", c.phone, phones)):
            if not values:
                continue
            found = await self._all(
                select(column.label("value"), c.id)
                .distinct(column)
                .where(c.tenant_id == self.tenant_id, column.in_(list(values)))
                .order_by(column, c.merged_into.is_not(None), c.created_at, c.id)
            )
            out.update({f"{kind}:{row.value}": row.id for row in found})
        return out

    async def load(
        self, ids: Sequence[uuid.UUID], *, for_update: bool
    ) -> dict[uuid.UUID, Customer]:
        if not ids:
            return {}
        stmt = select(customers).where(c.tenant_id == self.tenant_id, c.id.in_(list(ids)))
        if for_update:
            stmt = stmt.order_by(c.id).with_for_update()  # in id order: no deadlocks
        return {row.id: Customer.from_row(row) for row in await self._all(stmt)}

    async def insert(self, created: Sequence[Customer]) -> None:
        """New records (with COPY: the triggers of 0005 fire as for an INSERT) and their
        empty summaries, in the unit of work's transaction."""
        if not created:
            return
        shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for customer in created:
            values = {
                name: json.dumps(value) if isinstance(customers.c[name].type, JSONB) else value
                for name, value in customer.to_row().items()
                if name not in ("version", "created_at", "updated_at")
                and (value is not None or customers.c[name].server_default is None)
            }
            shapes.setdefault(tuple(values), []).append(tuple(values.values()))
        driver = await _driver(self.session)
        for columns, records in shapes.items():
            await driver.copy_records_to_table(customers.name, records=records, columns=columns)
        await driver.execute(
            "INSERT INTO customer_summaries (tenant_id, customer_id) "
            "SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
            self.tenant_id,
            [customer.id for customer in created],
        )

    async def save(self, changed: Sequence[Customer]) -> None:
        """The edits an import chunk made to existing records, in one statement: every
        field a row can change written from the record, each at the version it was read
        at (the chunk holds their locks) and bumped, as ``CustomerRepository.save`` does
        one at a time; each record takes its new version back."""
        if not changed:
            return
        driver = await _driver(self.session)
        rows = await driver.fetch(
            _SAVE,
            self.tenant_id,
            [x.id for x in changed],
            [x.version for x in changed],
            [x.first_name for x in changed],
            [x.last_name for x in changed],
            [x.email for x in changed],
            [x.phone for x in changed],
            [x.status for x in changed],
            [json.dumps(list(x.tags)) for x in changed],
            [json.dumps(x.custom_fields) for x in changed],
        )
        saved = {row["id"]: row for row in rows}
        for customer in changed:
            row = saved.get(customer.id)
            if row is None:  # never while the chunk holds the lock; as a save would say
                raise StaleVersion("customer", customer.version)
            customer.saved(row)

    async def add_notes(self, written: Sequence[Note]) -> None:
        if written:
            await self.session.execute(
                insert(notes),
                [
                    {
                        "id": note.id,
                        "tenant_id": self.tenant_id,
                        "customer_id": note.customer_id,
                        "author_sub": note.author_sub,
                        "author_name": note.author_name,
                        "text": note.text,
                        "visibility": note.visibility,
                        "pinned": note.pinned,
                    }
                    for note in written
                ],
            )
