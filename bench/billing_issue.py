"""Invoice issue throughput (gapless numbers) beside the counter alone.

Figure: issues/s of ``invoices.issue`` — lock the customer's account and the draft, read
the customer and profile, take the next number (the counter row stays locked until
commit), freeze the invoice, post its journal entry (checked to balance at commit by the
deferred trigger), publish InvoiceIssued and AccountChanged to the outbox, commit — with
C concurrent issues in one tenant, every draft a different customer.
Baseline, same run, same concurrency: one transaction per number that only increments
the same counter row (``INSERT … ON CONFLICT DO UPDATE last_number + 1``): the limit a
gapless series sets, as every issue of a series waits for that row.

    uv run python bench/billing_issue.py [--invoices 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from benchkit import report

from frontdesk.billing.adapters.tables import document_counters
from frontdesk.billing.app import SPEC
from frontdesk.billing.application import invoices
from frontdesk.billing.domain.pricing import LineRequest
from frontdesk.kit import migrations
from frontdesk.kit.auth import Principal, Role
from frontdesk.kit.service import Runtime
from frontdesk.kit.upsert import insert

TENANT = uuid.uuid4()
STAFF = Principal(sub="bench", tenant_id=TENANT, role=Role.admin)


async def run_concurrently(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def gated(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(gated(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def drafts(runtime: Runtime, n: int) -> list[uuid.UUID]:
    made = []
    for _ in range(n):
        async with runtime.uow() as uow:
            outcome = await invoices.create_draft(
                uow,
                STAFF,
                invoices.DraftRequest(
                    customer_id=uuid.uuid4(),
                    lines=[LineRequest("Bench", 9_900, tax_rate_bp=1900)],
                ),
            )
        made.append(outcome.value.id)
    return made


async def issue_rate(runtime: Runtime, ids: list[uuid.UUID], concurrency: int) -> float:
    async def one(i: int) -> None:
        async with runtime.uow() as uow:
            await invoices.issue(uow, STAFF, ids[i])

    return await run_concurrently(len(ids), concurrency, one)


async def counter_rate(runtime: Runtime, n: int, concurrency: int) -> float:
    t = document_counters
    stmt = insert(t).values(
        tenant_id=TENANT, document="invoice", prefix="BENCH-", year=2027, last_number=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.tenant_id, t.c.document, t.c.prefix, t.c.year],
        set_={"last_number": t.c.last_number + 1},
    ).returning(t.c.last_number)

    async def one(_: int) -> None:
        async with runtime.engine.begin() as conn:
            await conn.execute(stmt)

    return await run_concurrently(n, concurrency, one)


async def main(count: int, concurrency: int) -> None:
    run = uuid.uuid4().hex[:8]
    settings = SPEC.settings(
        database_prefix=f"bench_{run}_",
        bus_prefix=f"bench.{run}.",
        db_pool_size=concurrency,
        db_max_overflow=0,
    )
    url = settings.resolved_database_url()
    await asyncio.to_thread(migrations.upgrade, SPEC.migrations_dir, url)
    runtime = Runtime(SPEC, settings)  # no relay: the outbox rows stay, as the work is the same
    try:
        ids = await drafts(runtime, count)
        rates = {
            "issue (number, entry, events)": await issue_rate(runtime, ids, concurrency),
            "baseline counter increment only": await counter_rate(runtime, count, concurrency),
        }
        report(f"billing_issue: {count} invoices, concurrency {concurrency}", rates)
        ratio = rates["issue (number, entry, events)"] / rates["baseline counter increment only"]
        print(f"  issue / counter increment: {ratio:.2f}")
    finally:
        await runtime.engine.dispose()
        await migrations.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.invoices, args.concurrency))
