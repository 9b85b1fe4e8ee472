"""Chain scale (issue 16): the customer record, list, search, stats and export of a tenant
of a million customers, each figure beside its baseline measured in the same run.

Seeds its own database with COPY: one tenant of ``--customers`` (a million by default)
beside tenants of a tenth and a hundredth of it (the search's growth is shown across the
three). Then runs the service's API (``python -m frontdesk.customers api``: one uvicorn
worker, as deployed) and, as the baseline, a bare Starlette + asyncpg app running the same
SQL (one uvicorn worker), and measures over HTTP:

- record read (``GET /v1/customers/{id}``): requests/s at ``--clients`` clients and the
  latency at one client; target at least 0.5x the bare app's requests/s;
- the list's first page and a page 10,000 rows deep: p95 at one client (target < 20 ms,
  the deep page within 1.3x of the first);
- search for a partial name, a misspelt name, an email fragment and a phone fragment at
  each tenant size: p95 at one client (target < 50 ms at a million, growing sublinearly);
- stats: p95 at one client (target < 20 ms at a million);
- CSV export of the 100,000-customer tenant: rows/s beside ``COPY (the same query) TO
  STDOUT`` (target at least 0.7x) and the API process's memory while it streams.

    uv run python bench/customers_chain.py [--customers 1000000] [--clients 32] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from benchkit import HttpClient, latencies, p95, throughput

FIRST = (  # noqa: SIM905
    "Ada Grace Alan Edsger Barbara Donald Ken Dennis Linus Guido Margaret Frances Radia "
    "Shafi Leslie Niklaus John Tony Robin Sophie Olivia Emma Amelia Isla Ava Mia Ivy Lily "
    "Isabella Rosie Sophia Grace Willow Freya Florence Oliver George Noah Arthur Muhammad "
    "Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Thomas James William "
    "Lucas Alfie Finley Isaac Joshua Jacob Edward Mohammed Teddy Alexander Elijah Max "
    "Louis Hugo Ethan Benjamin Daniel Samuel Logan Sebastian Rory Reggie Albie Luca "
    "Harrison Tommy Mason Adam Jude Toby Jaxon Arlo Ezra Joseph Hunter Dylan Reuben Elliot "
    "Nathan Zachary Charlotte Evie Ella Poppy Alice Daisy Sienna Elsie Evelyn Phoebe Sofia "
    "Ruby Harper Millie Matilda Bonnie Hallie Eva Violet Maya Maryam Aria Emily Ayla Esme "
    "Jessica Layla Eliza Thea Margot Chloe Lyla Orla Ada Iris Hannah Penelope Zara Lucy "
    "Luna Molly Mila Ellie"
).split()
# Surnames as a population has them: a few common ones (a fifth of everyone, the most
# common about 1%), some rare ones (one in 10,000 each: about 100 in a million), and a long
# tail of some 64,000 others made of three syllables.
COMMON = (  # noqa: SIM905
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Ahmed Ali Hussain Singh "
    "Shah Begum Murphy Kelly Byrne Ryan Walsh Connor Doyle McCarthy Baker Miller Harris "
    "Lewis Martin Cooper King Lee Moore Hill Scott Allen Young Morris Ward Turner Carter"
).split()
RARE = (  # noqa: SIM905
    "Lovelace Hopper Turing Dijkstra Liskov Knuth Ritchie Torvalds Rossum Hamilton Perlman "
    "Goldwasser Lamport Wirth Backus Hoare Milner Wilkes Lovell Loveless Lovejoy"
).split()
COMMON_WEIGHTS = [1 / rank for rank in range(1, len(COMMON) + 1)]
# Three syllables make some 64,000 other surnames.
SYLLABLES = (
    "bar ber bra cal can car del dor fal fen gar gil hal har kel ken lan lar mal mar mel "
    "mor nel nor pal par pen ral ran rod sal sar tal tor val ver wal win zan zor dun",
    "a e i o u ai ea ie oa ou an en in on un ar er ir or ur",
    "son ton ley ford wood well man by ham field more worth ridge wick land stone brook "
    "hurst croft dale shaw cott low berg stein mann ski ez ini ov ard ers ett ins ock ick",
)
DOMAINS = ("gmail.example", "outlook.example", "yahoo.example", "icloud.example", "mail.example")
CUSTOMER_COLUMNS = (
    "id",
    "tenant_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "tags",
    "source",
    "version",
    "created_at",
    "updated_at",
    "erased_at",
)
SUMMARY_COLUMNS = (
    "tenant_id",
    "customer_id",
    "credits_available",
    "credits_paused",
    "credits_purchased",
    "credits_version",
    "lifetime_spend_minor",
    "outstanding_minor",
    "currency",
    "billing_version",
    "bookings_count",
    "first_booking_at",
    "last_booking_at",
    "last_activity_at",
    "updated_at",
    "listed",
    "erased",
    "status",
    "registered_at",
    "sort_name",
)
CHUNK = 50_000


def surname(rnd: random.Random) -> str:
    roll = rnd.random()
    if roll < 0.2:
        return rnd.choices(COMMON, COMMON_WEIGHTS)[0]
    if roll < 0.2 + 0.0001 * len(RARE):
        return rnd.choice(RARE)
    return "".join(rnd.choice(s.split()) for s in SYLLABLES).capitalize()


def people(tenant_id: uuid.UUID, n: int, seed: int) -> Iterator[tuple[tuple[Any, ...], ...]]:
    """(record, summary) row pairs for ``n`` customers of the tenant."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    for i in range(n):
        cid = uuid.UUID(int=rnd.getrandbits(128), version=4)
        created = now - timedelta(days=rnd.random() * 2000)
        erased = rnd.random() < 0.002
        first, last = ("Erased", "Customer") if erased else (rnd.choice(FIRST), surname(rnd))
        email = None if erased else f"{first}.{last}{i}@{rnd.choice(DOMAINS)}".lower()
        phone = None if erased or rnd.random() < 0.3 else f"+447{rnd.randrange(10**9):09d}"
        roll = rnd.random()
        status = "inactive" if roll < 0.05 else "vip" if roll < 0.07 else "active"
        tags = [] if erased else (["beginner"] if roll < 0.1 else [])
        bookings = int(rnd.expovariate(1 / 8)) if rnd.random() < 0.8 else 0
        last_booking = now - timedelta(days=rnd.random() * 400) if bookings else None
        first_booking = min(created + timedelta(days=3), last_booking) if last_booking else None
        activity = (
            now - timedelta(days=rnd.random() * 500, seconds=rnd.randrange(86400))
            if rnd.random() < 0.9
            else None
        )
        purchased = rnd.randrange(0, 60) if bookings else 0
        available = min(purchased, rnd.randrange(0, 12))
        paused = 2 if rnd.random() < 0.03 else 0
        spend = rnd.randrange(0, 250_000) if bookings else 0
        currency = "EUR" if bookings else None
        record = (
            cid,
            tenant_id,
            first,
            last,
            email,
            phone,
            status,
            tags,
            "staff",
            1,
            created,
            created,
            now if erased else None,
        )
        summary = (
            tenant_id,
            cid,
            available,
            paused,
            purchased,
            1,
            spend,
            0,
            currency,
            1 if currency else -1,
            bookings,
            first_booking,
            last_booking,
            activity,
            now,
            True,
            erased,
            status,
            created,
            last.lower(),
        )
        yield record, summary


async def seed(dsn: str, tenants: dict[uuid.UUID, int], *, log: Any = print) -> None:
    """Copies ``tenants`` (id: customers) into the migrated database at ``dsn``."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename IN ('customers', 'customer_summaries') AND indexname NOT LIKE 'pk_%'"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for table in ("customers", "customer_summaries"):
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        started = time.perf_counter()
        for number, (tenant_id, n) in enumerate(tenants.items()):
            for offset in range(0, n, CHUNK):
                rows = list(people(tenant_id, min(CHUNK, n - offset), seed=number * 10**9 + offset))
                await conn.copy_records_to_table(
                    "customers", records=[r for r, _ in rows], columns=CUSTOMER_COLUMNS
                )
                await conn.copy_records_to_table(
                    "customer_summaries", records=[s for _, s in rows], columns=SUMMARY_COLUMNS
                )
        log(
            f"  copied {sum(tenants.values()):,} customers in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        for index in indexes:
            await conn.execute(index["indexdef"])
        for table in ("customers", "customer_summaries"):
            await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        await conn.execute("SELECT customers_recount_stats()")
        await conn.execute("VACUUM ANALYZE customers, customer_summaries")
        log(f"  indexed, counted and analysed in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()


# -- the statements both apps run ----------------------------------------------------------


def compiled(stmt: Any, given: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    """``stmt`` as asyncpg runs it: SQL with $n parameters, and their values."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    done = stmt.compile(dialect=dialect(), compile_kwargs={"render_postcompile": True})
    values = done.construct_params(given)
    return str(done), [values[name] for name in done.positiontup or ()]


def statements(plan: dict[str, Any]) -> dict[str, tuple[str, list[Any]]]:
    """Every statement of the run, by name, as the service builds them."""
    from frontdesk.customers.adapters.customers import record_statement
    from frontdesk.customers.adapters.listing import (
        export_statement,
        list_statement,
        stats_statement,
    )
    from frontdesk.customers.domain.listing import Filters, Sort

    now = datetime.now(UTC)
    big = uuid.UUID(plan["big"])
    out = {
        "record": compiled(
            record_statement(duplicates=True),
            {"tenant_id": big, "customer_id": RECORD_SENTINEL, "now": now},
        ),
        "stats": compiled(stats_statement(), {"tenant_id": big}),
    }
    newest = Sort.parse("-last_activity")
    deep = (datetime.fromisoformat(plan["deep_key"]), uuid.UUID(plan["deep_id"]))
    out["first"] = compiled(list_statement(big, Filters(), newest, now=now, limit=51))
    out["deep"] = compiled(list_statement(big, Filters(), newest, now=now, after=deep, limit=51))
    for size, (tenant, queries) in plan["searches"].items():
        for n, q in enumerate(queries):
            f = Filters(q=q)
            stmt = list_statement(uuid.UUID(tenant), f, Sort.of(None, f), now=now, limit=51)
            out[f"search-{size}-{n}"] = compiled(stmt)
    mid = uuid.UUID(plan["export"])
    out["export"] = compiled(export_statement(mid, Filters(), newest, now=now))
    return out


RECORD_SENTINEL = uuid.UUID(int=7)


# -- the baseline: a bare Starlette + asyncpg app on the same SQL -------------------------


def bare_app(dsn: str, plan: dict[str, Any]) -> Any:
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from frontdesk.customers.adapters.listing import PLAN_SETTINGS

    sql = statements(plan)
    settings = str(PLAN_SETTINGS)
    pool: dict[str, asyncpg.Pool] = {}

    def answer(rows: Any) -> Response:
        return Response(orjson.dumps(rows, default=str), media_type="application/json")

    async def record(request: Any) -> Response:
        text, args = sql["record"]
        wanted = uuid.UUID(request.path_params["id"])
        row = await pool["db"].fetchrow(
            text, *(wanted if a == RECORD_SENTINEL else a for a in args)
        )
        return answer(dict(row))

    async def listed(request: Any) -> Response:
        """A statement of the list; a search in a transaction after the search's settings
        (as the service runs them)."""
        name = request.path_params["name"]
        text, args = sql[name]
        if not name.startswith("search"):
            return answer([dict(r) for r in await pool["db"].fetch(text, *args)])
        async with pool["db"].acquire() as conn, conn.transaction():
            await conn.execute(settings)
            rows = await conn.fetch(text, *args)
        return answer([dict(r) for r in rows])

    async def health(request: Any) -> Response:
        return answer({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(dsn, min_size=POOL, max_size=POOL)
        yield
        await pool["db"].close()

    return Starlette(
        routes=[
            Route("/healthz", health),
            Route("/record/{id}", record),
            Route("/q/{name}", listed),
        ],
        lifespan=lifespan,
    )


def serve_bare(port: int, dsn: str, plan_json: str) -> None:
    import uvicorn

    plan = json.loads(plan_json)
    uvicorn.run(bare_app(dsn, plan), host="127.0.0.1", port=port, log_level="warning")


# -- the run -------------------------------------------------------------------------------

POOL = 5  # connections per app: the service's default pool (5, no overflow)
OURS, BARE = 18401, 18402


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def wait_up(port: int) -> None:
    for _ in range(300):
        try:
            client = HttpClient("127.0.0.1", port)
            await client.get("/healthz")
            await client.close()
            return
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def line(label: str, ours: float, bare: float, unit: str, verdict: str = "") -> None:
    ratio = f"{ours / bare:5.2f}x" if bare else "     "
    print(f"  {label:<44}{ours:9.1f} {unit:<6} bare {bare:9.1f} {unit:<6} {ratio}  {verdict}")


def ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


async def pick(conn: asyncpg.Connection, tenant: uuid.UUID) -> list[str]:
    """A desk's searches in this tenant: a partial and a misspelt rare surname, a fragment
    of one customer's email and of one customer's phone."""
    one = await conn.fetchrow(
        "SELECT email, phone FROM customers WHERE tenant_id = $1 AND phone IS NOT NULL "
        "AND erased_at IS NULL ORDER BY id LIMIT 1",
        tenant,
    )
    local = one["email"].split("@")[0]
    return ["lovel", "lovlace", local[-12:], one["phone"][4:11]]


PARTS = ("record", "list", "search", "stats", "export")


async def main(customers: int, clients: int, seconds: float, parts: set[str]) -> None:
    from frontdesk.customers.app import SPEC
    from frontdesk.kit import migrations, pagination
    from frontdesk.kit.auth import Role, issue_token
    from frontdesk.kit.settings import Settings

    started = time.perf_counter()
    run = uuid.uuid4().hex[:8]
    settings = SPEC.settings(database_prefix=f"bench_{run}_", bus_prefix=f"bench.{run}.")
    url = settings.resolved_database_url()
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    sizes = {"1x": customers, "0.1x": customers // 10, "0.01x": customers // 100}
    tenants = {size: uuid.uuid4() for size in sizes}
    big, mid = tenants["1x"], tenants["0.1x"]
    processes: list[asyncio.subprocess.Process] = []
    await asyncio.to_thread(migrations.upgrade, SPEC.migrations_dir, url)
    try:
        print(f"customers_chain: seeding {sum(sizes.values()):,} customers in 3 tenants")
        await seed(dsn, {tenants[s]: n for s, n in sizes.items()})
        conn = await asyncpg.connect(dsn)
        try:
            deep = await conn.fetchrow(
                "SELECT coalesce(last_activity_at, '0001-01-02 00:00:00+00') AS key, "
                "customer_id FROM customer_summaries WHERE tenant_id = $1 AND listed "
                "AND NOT erased ORDER BY 1 DESC, 2 DESC OFFSET 9999 LIMIT 1",
                big,
            )
            ids = [
                r["id"]
                for r in await conn.fetch(
                    "SELECT id FROM customers WHERE tenant_id = $1 ORDER BY random() LIMIT 2000",
                    big,
                )
            ]
            searches = {size: await pick(conn, tenants[size]) for size in sizes}
            exported = await conn.fetchval(
                "SELECT count(*) FROM customer_summaries WHERE tenant_id = $1 AND listed "
                "AND NOT erased",
                mid,
            )
        finally:
            await conn.close()
        plan = {
            "big": str(big),
            "export": str(mid),
            "deep_key": deep["key"].isoformat(),
            "deep_id": str(deep["customer_id"]),
            "searches": {size: (str(tenants[size]), qs) for size, qs in searches.items()},
        }
        sql = statements(plan)

        env = dict(
            os.environ,
            FRONTDESK_DATABASE_URL=url,
            FRONTDESK_PORT=str(OURS),
            FRONTDESK_LOG_LEVEL="WARNING",
            FRONTDESK_DB_POOL_SIZE="3",
            FRONTDESK_DB_MAX_OVERFLOW="2",
        )
        ours = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "frontdesk.customers", "api", env=env
        )
        processes.append(ours)
        bare_process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bare", str(BARE), dsn, json.dumps(plan), env=env
        )
        processes.append(bare_process)
        await wait_up(OURS)
        await wait_up(BARE)
        pagination.configure(Settings().jwt_secret)
        staff = {
            size: {
                "Authorization": "Bearer "
                + issue_token(Settings(), tenant_id=tenants[size], role=Role.admin)
            }
            for size in sizes
        }
        mine = {size: HttpClient("127.0.0.1", OURS, staff[size]) for size in sizes}
        bare = HttpClient("127.0.0.1", BARE)

        async def series(client: HttpClient, paths: list[str], times: int) -> float:
            await latencies(client, paths[:5])  # warm
            return p95(await latencies(client, (paths * times)[: max(times, len(paths))]))

        # -- record read ----------------------------------------------------------------
        if "record" in parts:
            print(f"record read (GET /v1/customers/{{id}}, {customers:,} customers)")
            record_paths = [f"/v1/customers/{i}" for i in ids]
            bare_paths = [f"/record/{i}" for i in ids]
            one_ours = await series(mine["1x"], record_paths, 300)
            one_bare = await series(bare, bare_paths, 300)
            line("p95 at 1 client", one_ours, one_bare, "ms")
            for port, paths, headers in ((OURS, record_paths, staff["1x"]), (BARE, bare_paths, {})):
                await throughput(
                    "127.0.0.1", port, paths, clients=clients, seconds=2, headers=headers
                )
            rates: dict[str, tuple[float, float]] = {}
            for name, process, port, paths, headers in (
                ("ours", ours, OURS, record_paths, staff["1x"]),
                ("bare", bare_process, BARE, bare_paths, {}),
            ):
                cpu, clock = cpu_seconds(process.pid), time.perf_counter()
                rate = await throughput(
                    "127.0.0.1", port, paths, clients=clients, seconds=seconds, headers=headers
                )
                served = rate * (time.perf_counter() - clock)
                rates[name] = (rate, (cpu_seconds(process.pid) - cpu) / served * 1000)
            (rate_ours, cpu_ours), (rate_bare, cpu_bare) = rates["ours"], rates["bare"]
            line(
                f"req/s at {clients} clients",
                rate_ours,
                rate_bare,
                "/s",
                ok(rate_ours >= 0.5 * rate_bare),
            )
            # The machine is shared: the server's own CPU per request is the steadier figure.
            line("server CPU per request", cpu_ours, cpu_bare, "ms")

        # -- list pages -----------------------------------------------------------------
        if "list" in parts:
            print("list (newest activity first, 50 rows)")
            cursor = pagination.encode_cursor(
                {"s": "-last_activity", "k": deep["key"], "i": deep["customer_id"]}
            )
            first = await series(mine["1x"], ["/v1/customers?limit=50"], 200)
            deep_p95 = await series(mine["1x"], [f"/v1/customers?limit=50&cursor={cursor}"], 200)
            line(
                "first page p95", first, await series(bare, ["/q/first"], 200), "ms", ok(first < 20)
            )
            line(
                "page 10,000 rows deep p95",
                deep_p95,
                await series(bare, ["/q/deep"], 200),
                "ms",
                ok(deep_p95 < 20 and deep_p95 <= 1.3 * first),
            )
            print(f"  deep / first: {deep_p95 / first:.2f} (target <= 1.3)")

        # -- search ---------------------------------------------------------------------
        if "search" in parts:
            kinds = ("partial name", "misspelt name", "email fragment", "phone fragment")
            print("search p95 at one client (relevance, 50 rows)")
            grown: dict[str, list[float]] = {}
            for size in ("0.01x", "0.1x", "1x"):
                for n, q in enumerate(searches[size]):
                    path = f"/v1/customers?limit=50&q={q}"
                    took = await series(mine[size], [path], 40)
                    base = await series(bare, [f"/q/search-{size}-{n}"], 40)
                    grown.setdefault(kinds[n], []).append(took)
                    verdict = ok(took < 50) if size == "1x" else ""
                    line(f"{kinds[n]} {q!r} at {sizes[size]:,}", took, base, "ms", verdict)
            for kind, (small, middle, large) in grown.items():
                print(
                    f"  {kind}: {small:.1f} -> {middle:.1f} -> {large:.1f} ms "
                    f"for 100x the customers ({large / small:.1f}x)"
                )

        # -- stats ----------------------------------------------------------------------
        if "stats" in parts:
            took = await series(mine["1x"], ["/v1/customers/stats"], 200)
            line(
                f"stats p95 at {customers:,}",
                took,
                await series(bare, ["/q/stats"], 200),
                "ms",
                ok(took < 20),
            )

        # -- export ---------------------------------------------------------------------
        if "export" in parts:
            print(f"export (CSV of {exported:,} customers)")
            text, args = sql["export"]
            conn = await asyncpg.connect(dsn)
            try:
                copied = 0

                async def sink(chunk: bytes) -> None:
                    nonlocal copied
                    copied += len(chunk)

                clock = time.perf_counter()
                await conn.copy_from_query(text, *args, output=sink, format="csv")
                copy_rate = exported / (time.perf_counter() - clock)
            finally:
                await conn.close()
            before = rss_kb(ours.pid)
            peak = before
            done = asyncio.Event()

            async def watch() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_kb(ours.pid))
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(watch())
            clock = time.perf_counter()
            status, body = await mine["0.1x"].get("/v1/customers/export.csv")
            export_rate = (body.count(b"\n") - 1) / (time.perf_counter() - clock)
            done.set()
            await watcher
            assert status == 200 and body.count(b"\n") - 1 == exported, (status, body[:200])
            line("rows/s", export_rate, copy_rate, "/s", ok(export_rate >= 0.7 * copy_rate))
            print("  (bare: COPY (the same query) TO STDOUT, straight to a sink)")
            print(
                f"  API process memory: {before / 1024:.0f} MB before, {peak / 1024:.0f} MB at "
                f"most while streaming {len(body) / 2**20:.0f} MB"
            )
        for client in (*mine.values(), bare):
            await client.close()
        print(f"customers_chain: done in {time.perf_counter() - started:.0f} s")
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in processes:
            await process.wait()
        await migrations.drop_database(url)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        serve_bare(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--only", default=",".join(PARTS), help="e.g. record,search")
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.clients, args.seconds, set(args.only.split(","))))
