"""CSV import (C17): ``--rows`` (100,000) customers from one CSV file, each figure beside
its baseline measured in the same run on the same database:

- upload: the file sent in parts of ``FRONTDESK_MAX_BODY_BYTES`` (as an HTTP client must),
  read as CSV and staged with COPY: rows/s;
- dry run: every row through the contact rules and matched by email, nothing written:
  rows/s;
- import: the customers created through the domain, with their summaries, their
  ``customers.customer.registered`` events in the outbox, a chunk per transaction: rows/s;
- baseline: ``COPY`` of the same file into a plain table (no indexes, no rules): rows/s;
  and, to show what the table itself costs, the same rows COPYed straight into
  ``customers`` (its trigram search indexes and triggers; no rules, no events);
- and the process's peak memory, which stays flat however large the file.

The service's own application functions run in this process against a scratch database
(migrated like the service's), without a broker (the outbox rows stay unsent).

    uv run python bench/customers_import.py [--rows 100000] [--chunk 500]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
from benchkit import report

HEADER = "First name,Last name,Email,Mobile,Tags,Status\r\n"
MAPPING = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Mobile": "phone",
    "Tags": "tags",
    "Status": "status",
}
FIRST = "Ada Grace Alan Edsger Barbara Donald Ken Dennis Linus Guido Margaret Frances".split()  # noqa: SIM905
LAST = "Lovelace Hopper Turing Dijkstra Liskov Knuth Thompson Ritchie Torvalds Rossum".split()  # noqa: SIM905
TAGS = ["", "yoga", "vip; yoga", "pilates", "trial"]
STATUSES = ["", "", "active", "vip", "inactive"]


def csv_file(rows: int) -> bytes:
    """A realistic export from another tool: a mobile number for every third customer."""

    def lines() -> Iterator[str]:
        yield HEADER
        for i in range(rows):
            phone = f"07400 {100000 + i % 900000:06d}" if i % 3 == 0 else ""
            yield (
                f"{FIRST[i % len(FIRST)]},{LAST[i % len(LAST)]}-{i},"
                f"customer{i}@studio.example,{phone},{TAGS[i % len(TAGS)]},"
                f"{STATUSES[i % len(STATUSES)]}\r\n"
            )

    return "".join(lines()).encode()


async def pieces(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A part as the server receives it: in chunks."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(rows: int, chunk: int) -> None:
    from frontdesk.customers.app import SPEC
    from frontdesk.customers.application import imports
    from frontdesk.kit import migrations
    from frontdesk.kit.auth import Principal, Role
    from frontdesk.kit.service import Runtime

    run = uuid.uuid4().hex[:8]
    settings = SPEC.settings(database_prefix=f"bench_{run}_", bus_prefix=f"bench.{run}.")
    url = settings.resolved_database_url()
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    await asyncio.to_thread(migrations.upgrade, SPEC.migrations_dir, url)
    runtime = Runtime(SPEC, settings)
    principal = Principal(sub="bench", tenant_id=uuid.uuid4(), role=Role.admin)
    try:
        data = csv_file(rows)
        print(f"customers_import: {rows:,} rows, {len(data) / 2**20:.1f} MB")
        memory_before = peak_mb()

        # The baseline: COPY of the same file into a plain table.
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "CREATE TABLE plain_import (first_name text, last_name text, email text, "
                "phone text, tags text, status text)"
            )
            started = time.perf_counter()
            await conn.copy_to_table("plain_import", source=pieces(data), format="csv", header=True)
            copy_rate = rows / (time.perf_counter() - started)
            # A second baseline: the same rows COPYed straight into ``customers`` (another
            # tenant), with its indexes (trigram search) and triggers but no rules, no
            # events: what the table itself costs.
            other = uuid.uuid4()
            records = [
                (uuid.uuid4(), other, r["first_name"], r["last_name"], r["email"])
                for r in await conn.fetch("SELECT * FROM plain_import")
            ]
            started = time.perf_counter()
            await conn.copy_records_to_table(
                "customers",
                records=records,
                columns=["id", "tenant_id", "first_name", "last_name", "email"],
            )
            table_rate = rows / (time.perf_counter() - started)
        finally:
            await conn.close()

        part = settings.max_body_bytes
        started = time.perf_counter()
        async with runtime.uow() as uow:
            job = await imports.upload(
                uow, principal, pieces(data[:part]), complete=len(data) <= part, filename=None
            )
        for offset in range(part, len(data), part):
            async with runtime.uow() as uow:
                job = await imports.append(
                    uow,
                    principal,
                    job.id,
                    pieces(data[offset : offset + part]),
                    offset=offset,
                    complete=offset + part >= len(data),
                )
        upload_rate = rows / (time.perf_counter() - started)
        assert job.rows_total == rows, job.rows_total

        rates = {}
        for dry_run in (True, False):
            async with runtime.uow() as uow:
                await imports.start(
                    uow, principal, job.id, dry_run=dry_run, mapping=MAPPING, existing=None
                )
            started = time.perf_counter()
            await imports.work(runtime.uow, chunk_rows=chunk)
            rates[dry_run] = rows / (time.perf_counter() - started)
            async with runtime.uow() as uow:
                job = await imports.get(uow, principal, job.id)
            assert (job.position, job.created, job.failed) == (rows, rows, 0), job

        report(
            "customers_import: rows per second",
            {
                "upload (parts, staged with COPY)": upload_rate,
                "dry run (rules, matches)": rates[True],
                f"import (chunks of {chunk}, outbox)": rates[False],
                "baseline: COPY into a plain table": copy_rate,
                "baseline: COPY into customers (indexes)": table_rate,
            },
        )
        print(
            f"  import / COPY: {rates[False] / copy_rate:.3f}x; import / COPY into "
            f"customers: {rates[False] / table_rate:.2f}x; peak memory "
            f"{peak_mb():.0f} MB (the file itself is {len(data) / 2**20:.0f} MB, "
            f"held once by this script; {memory_before:.0f} MB before the run)"
        )
    finally:
        await runtime.close()
        await migrations.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.chunk))
