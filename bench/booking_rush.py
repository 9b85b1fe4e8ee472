"""The booking rush: customers, credits and scheduling as real processes (one API and one
worker each, as `make run` starts them), bookings paid by credits sent open-loop.

For each rate (bookings per second, sent on a fixed clock whatever the answers) it
prints the share confirmed, POST -> confirmed p50 / p95 / p99 (the answer itself when
`Prefer: wait` saw the decision, else when a poll first saw it; from the first try), the
count of 5xx answers other than overload, the 503 + Retry-After answers (overload: the
client tries again after Retry-After with the same Idempotency-Key, as a customer's app
would), and the most PostgreSQL connections in use during the run. Every customer has
the credit and the class the seat, so anything short of 100 % confirmed is the saga's
own failing. Baseline in the same run: the same POSTs answered by a free class, which
settles without the saga (the API and the database alone).

With ``--classes K`` the bookings go to K classes in turn (a chain opening a week of
classes) rather than all to one (every booking then takes a seat on one row). With
``--replicas N`` every service runs N APIs and N workers: the workers of a service
share its queue, and the bookings are spread over the scheduling APIs in turn (as a load
balancer would).

    uv run python bench/booking_rush.py [--rates 10,25,50,100] [--seconds 20]
        [--classes 1] [--replicas 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from running_stack import CORE, Stack, Tenant

from frontdesk.kit.settings import Settings


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _class(tenant: Tenant, capacity: int, payment: dict[str, Any]) -> str:
    s = tenant.scheduling
    location = await _ok(await s.post("/v1/locations", json={"name": "Rush", "timezone": "UTC"}))
    body = {
        "title": "Rush hour",
        "location_id": location["id"],
        "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "duration_minutes": 60,
        "capacity": capacity,
        "payment": payment,
    }
    return str((await _ok(await s.post("/v1/sessions", json=body)))["id"])


async def _customers_with_a_credit(tenant: Tenant, count: int) -> list[str]:
    customers = [str(uuid.uuid4()) for _ in range(count)]
    gate = asyncio.Semaphore(16)

    async def grant(customer: str) -> None:
        async with gate:
            await _ok(
                await tenant.credits.post(
                    "/v1/credit-packages",
                    json={"customer_id": customer, "credits": 1, "name": "Rush"},
                )
            )

    await asyncio.gather(*(grant(c) for c in customers))
    return customers


async def _connections_in_use(stop: asyncio.Event, seen: list[int]) -> None:
    dsn = Settings().pg_url.replace("postgresql+asyncpg", "postgresql") + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            seen.append(int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity")))
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def _rush(
    tenant: Tenant, classes: list[str], customers: list[str], rate: float, replicas: int
) -> dict[str, Any]:
    # Each customer on a connection of their own, as a rush of separate phones is: the
    # server, not a client-side pool, decides what waits. aiohttp (its parser in C) keeps
    # the load generator's own CPU, on the same two cores as the services, small.
    async with contextlib.AsyncExitStack() as opened:
        clients = [
            await opened.enter_async_context(
                aiohttp.ClientSession(
                    base_url=tenant.stack.url("scheduling", replica),
                    headers=tenant.headers,
                    timeout=aiohttp.ClientTimeout(total=120),
                    connector=aiohttp.TCPConnector(limit=0),
                )
            )
            for replica in range(1, replicas + 1)
        ]
        return await _send(clients, classes, customers, rate)


async def _send(
    clients: list[aiohttp.ClientSession], classes: list[str], customers: list[str], rate: float
) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    server_errors = 0
    refused = 0

    async def one(customer: str, client: aiohttp.ClientSession, session_id: str) -> None:
        nonlocal server_errors, refused
        started = time.perf_counter()
        key = str(uuid.uuid4())  # a retry after 503 is the same booking
        while True:
            async with client.post(
                "/v1/bookings",
                json={"session_id": session_id, "customer_id": customer},
                headers={"Prefer": "wait=10", "Idempotency-Key": key},
            ) as r:
                status, retry_after = r.status, r.headers.get("Retry-After")
                body = await r.json() if status < 500 else None
            if status != 503 or retry_after is None:
                break
            # Overload answered as it should be: the customer tries again when told to.
            refused += 1
            await asyncio.sleep(float(retry_after))
        if status >= 500 or body is None:
            server_errors += 1
            return
        booking = body
        while booking.get("status") == "pending":
            await asyncio.sleep(0.25)
            async with client.get(f"/v1/bookings/{booking['id']}") as polled:
                if polled.status == 503:  # overload: look again later
                    refused += 1
                    await asyncio.sleep(float(polled.headers.get("Retry-After", "1")))
                    continue
                booking = await polled.json()
        outcome = str(booking.get("status", status))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == "confirmed":
            latencies.append((time.perf_counter() - started) * 1000)

    interval = 1 / rate
    start = time.perf_counter()
    tasks = []
    for n, customer in enumerate(customers):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        session_id = classes[n % len(classes)]
        tasks.append(asyncio.create_task(one(customer, clients[n % len(clients)], session_id)))
    await asyncio.gather(*tasks)
    return {
        "latencies": latencies,
        "outcomes": outcomes,
        "5xx": server_errors,
        "503": refused,
    }


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def main(rates: list[float], seconds: float, classes: int, replicas: int) -> None:
    import tempfile

    stack = Stack(Path(tempfile.mkdtemp(prefix="rush-")))
    stack_services = [s for s in CORE]
    await asyncio.to_thread(stack.migrate)
    try:
        each = range(1, replicas + 1)
        for service in stack_services:
            for replica in each:
                stack.start(service, "worker", replica)
                stack.start(service, "api", replica)
        await asyncio.gather(
            *(stack.wait_worker(s, replica=r) for s in stack_services for r in each),
            *(stack.wait_api(s, replica=r) for s in stack_services for r in each),
        )
        tenant = Tenant(stack)
        print(
            f"booking_rush: open-loop bookings paid by credits, {seconds:g} s per rate,"
            f" {classes} class(es), {replicas} API(s) and {replicas} worker(s) per service"
        )
        print(
            f"  {'rate':>6} {'confirmed':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
            f" {'5xx':>5} {'503+RA':>7} {'pg conns':>9}"
        )
        for rate in rates:
            count = int(rate * seconds)
            customers = await _customers_with_a_credit(tenant, count)
            seats = -(-count // classes)
            free = [await _class(tenant, seats, {"method": "free"}) for _ in range(classes)]
            paid = {"method": "credits", "credits": 1}
            paying = [await _class(tenant, seats, paid) for _ in range(classes)]
            anyone = [str(uuid.uuid4()) for _ in customers]
            baseline = await _rush(tenant, free, anyone, rate, replicas)
            stop, seen = asyncio.Event(), list[int]()
            watcher = asyncio.create_task(_connections_in_use(stop, seen))
            result = await _rush(tenant, paying, customers, rate, replicas)
            stop.set()
            await watcher
            confirmed = result["outcomes"].get("confirmed", 0) / max(count, 1)
            lat = result["latencies"]
            print(
                f"  {rate:>6g} {confirmed:>9.1%} {_pct(lat, 50):>8.0f} {_pct(lat, 95):>8.0f}"
                f" {_pct(lat, 99):>8.0f} {result['5xx']:>5} {result['503']:>7}"
                f" {max(seen or [0]):>9}"
                f"   outcomes {result['outcomes']}"
            )
            base = baseline["latencies"]
            print(
                f"  {'':>6} {'baseline':>10} {_pct(base, 50):>8.0f} {_pct(base, 95):>8.0f}"
                f" {_pct(base, 99):>8.0f} {baseline['5xx']:>5} {baseline['503']:>7}"
                "   (a free class: the same POST without the saga)"
            )
        await tenant.close()
    finally:
        await stack.remove()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,25,50,100")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--classes", type=int, default=1)
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    asyncio.run(main(rates, args.seconds, args.classes, args.replicas))
