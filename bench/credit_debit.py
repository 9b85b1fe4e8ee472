"""Booking debit throughput (credits' side of the saga) beside one raw UPDATE.

Figure: debits/s of ``debits.debit_for_booking`` — claim the booking's debit row,
lock the customer's account and usable packages, plan earliest-expiry-first, then one
statement that updates the packages, the debit row and the account and writes the
history and the outbox (DebitSucceeded, BalanceChanged), commit — with
C concurrent bookings. Two shapes: spread (every booking a different customer) and hot
(every booking the same customer, serialised on the account lock by design).
Baseline, same run, same concurrency: one raw guarded UPDATE of the package balance
per transaction (``balance = balance - 1 WHERE balance >= 1``), the least a debit does.
Debits and baseline take turns in rounds, after a warm-up tenth of the debits and an
ANALYZE (the planner's statistics, as a database in service has them).

    uv run python bench/credit_debit.py [--bookings 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from benchkit import report
from sqlalchemy import text, update

from frontdesk.credits.adapters.tables import credit_packages
from frontdesk.credits.app import SPEC
from frontdesk.credits.application import debits, packages
from frontdesk.kit import migrations
from frontdesk.kit.auth import Principal, Role
from frontdesk.kit.service import Runtime

TENANT = uuid.uuid4()
ROUNDS = 4


async def run_concurrently(
    items: list[int], concurrency: int, one: Callable[[int], Awaitable[None]]
) -> float:
    """``one`` for each item with at most ``concurrency`` in flight; seconds taken."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(gated(i) for i in items))
    return time.perf_counter() - started


async def alternating(
    n: int, rounds: int, concurrency: int, shapes: dict[str, Callable[[int], Awaitable[None]]]
) -> dict[str, float]:
    """Calls per second of each shape over ``n`` calls, run in ``rounds`` that take turns
    (the same slices of the run: a checkpoint or autovacuum slows both alike)."""
    took = dict.fromkeys(shapes, 0.0)
    for r in range(rounds):
        items = list(range(r * n // rounds, (r + 1) * n // rounds))
        for name, one in shapes.items():
            took[name] += await run_concurrently(items, concurrency, one)
    return {name: n / seconds for name, seconds in took.items()}


async def packages_for(runtime: Runtime, customers: list[uuid.UUID], credits: int) -> list:
    ids = []
    staff = Principal(sub="bench", tenant_id=TENANT, role=Role.admin)
    for customer in customers:
        async with runtime.uow() as uow:
            outcome = await packages.purchase(
                uow,
                staff,
                packages.PurchaseRequest(customer_id=customer, credits=credits, name="Bench"),
            )
        ids.append(outcome.package.id)
    return ids


async def analyze(runtime: Runtime) -> None:
    async with runtime.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


def debit_one(runtime: Runtime, customers: list[uuid.UUID]) -> Callable[[int], Awaitable[None]]:
    async def one(i: int) -> None:
        async with runtime.uow() as uow:
            outcome = await debits.debit_for_booking(uow, TENANT, uuid.uuid4(), customers[i], 1)
            assert outcome.status == "debited", outcome

    return one


def raw_one(runtime: Runtime, packages: list[uuid.UUID]) -> Callable[[int], Awaitable[None]]:
    p = credit_packages

    async def one(i: int) -> None:
        async with runtime.engine.begin() as conn:
            result = await conn.execute(
                update(p)
                .where(p.c.tenant_id == TENANT, p.c.id == packages[i], p.c.balance >= 1)
                .values(balance=p.c.balance - 1)
            )
            assert result.rowcount == 1

    return one


async def main(bookings: int, concurrency: int) -> None:
    run = uuid.uuid4().hex[:8]
    settings = SPEC.settings(database_prefix=f"bench_{run}_", bus_prefix=f"bench.{run}.")
    url = settings.resolved_database_url()
    await asyncio.to_thread(migrations.upgrade, SPEC.migrations_dir, url)
    runtime = Runtime(SPEC, settings)  # no relay: the outbox rows stay, as the work is the same
    try:
        spread = [uuid.uuid4() for _ in range(bookings)]
        spread_packages = await packages_for(runtime, spread, bookings)
        hot = uuid.uuid4()
        (hot_package,) = await packages_for(runtime, [hot], 2 * bookings)
        # A database in service: some debits already on record, and the planner's
        # statistics (without them it reads freshly filled tables as nearly empty).
        warm = list(range(bookings // 10))
        await run_concurrently(warm, concurrency, debit_one(runtime, spread))
        await analyze(runtime)

        spread_rates = await alternating(
            bookings,
            ROUNDS,
            concurrency,
            {
                "debit, spread over customers": debit_one(runtime, spread),
                "baseline raw UPDATE, spread": raw_one(runtime, spread_packages),
            },
        )
        hot_rates = await alternating(
            bookings,
            ROUNDS,
            concurrency,
            {
                "debit, one hot customer": debit_one(runtime, [hot] * bookings),
                "baseline raw UPDATE, one hot package": raw_one(runtime, [hot_package] * bookings),
            },
        )
        rates = spread_rates | hot_rates
        report(f"credit_debit: {bookings} bookings per shape, concurrency {concurrency}", rates)
        spread_ratio = rates["debit, spread over customers"] / rates["baseline raw UPDATE, spread"]
        print(f"  debit / raw UPDATE (spread): {spread_ratio:.2f}")
    finally:
        await runtime.engine.dispose()
        await migrations.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.bookings, args.concurrency))
