"""Issue 16: the list, search and stats read what an index serves. Checked on EXPLAIN plans
of the service's own statements, on a tenant large enough (30,000 customers beside a
second tenant, analysed) that the planner's choice is real: index scans, never a
sequential scan of the tenant's customers; each list page, first or 10,000 rows deep, a
range of its sort key's index (no sort of the tenant); the stats a read of the counters."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from frontdesk.customers.adapters.listing import PLAN_SETTINGS, list_statement, stats_statement
from frontdesk.customers.domain.listing import Filters, Sort

BIG, SMALL = 30_000, 3_000
TABLES = {"customers", "customer_summaries"}

# Customers with varied names (a first name and a made-up surname of three syllables, some
# 30,000 of them), emails and phones, some erased, inactive or tagged; their summary rows
# with activity, credits, spend and bookings. The triggers fill the summary rows' list fields.
SEED = text(
    """
    WITH people AS (
        SELECT g, gen_random_uuid() AS id, g % 500 = 0 AS erased,
               hashtext(g::text)::bigint & 2147483647 AS h
          FROM generate_series(1, :n) g
    ), named AS (
        SELECT g, id, erased,
               (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Ken','Dennis','Linus',
                      'Guido','Margaret','Frances','Radia','Shafi','Leslie','Niklaus','John',
                      'Tony','Robin','Sophie'])[1 + g % 20] AS first,
               initcap((string_to_array('bar ber bra cal can car del dor fal fen gar gil hal har '
                       'kel ken lan lar mal mar mel mor nel nor pal par pen ral ran rod sal sar '
                       'tal tor val ver wal win zan zor', ' '))[1 + h % 40]
                    || (string_to_array('a e i o u ai ea ie oa ou an en in on un ar er ir or '
                       'ur', ' '))[1 + (h / 40) % 20]
                    || (string_to_array('son ton ley ford wood well man by ham field more '
                       'worth ridge wick land stone brook hurst croft dale shaw cott low berg '
                       'stein mann ski ez ini ov ard ers ett ins ock ick pike rose vale gate',
                       ' '))[1 + (h / 800) % 40]) AS last
          FROM people
    )
    INSERT INTO customers (id, tenant_id, first_name, last_name, email, phone, status, tags,
                           created_at, erased_at)
    SELECT id, :tenant,
           CASE WHEN erased THEN 'Erased' ELSE first END,
           CASE WHEN erased THEN 'Customer' ELSE last END,
           CASE WHEN NOT erased THEN lower(first || '.' || last) || g || '@example.com' END,
           CASE WHEN NOT erased AND g % 3 > 0
                THEN '+447' || lpad(((g::bigint * 7919) % 1000000000)::text, 9, '0') END,
           CASE WHEN g % 20 = 0 THEN 'inactive' WHEN g % 50 = 1 THEN 'vip' ELSE 'active' END,
           CASE WHEN g % 10 = 0 THEN ARRAY['beginner'] ELSE '{}' END,
           now() - (g % 2000) * interval '1 day',
           CASE WHEN erased THEN now() END
      FROM named;
    INSERT INTO customer_summaries (tenant_id, customer_id, credits_available, credits_paused,
                                    credits_purchased, lifetime_spend_minor, currency,
                                    bookings_count, last_booking_at, last_activity_at)
    SELECT tenant_id, id, h % 7, CASE WHEN h % 13 = 0 THEN 2 ELSE 0 END, h % 40,
           (h * 37) % 100000, CASE WHEN h % 5 > 0 THEN 'EUR' END, h % 30,
           CASE WHEN h % 30 > 0 THEN now() - (h % 200) * interval '1 day' END,
           CASE WHEN h % 10 > 0
                THEN now() - (h % 365) * interval '1 day' - (h % 86400) * interval '1 second'
           END
      FROM (SELECT tenant_id, id, hashtext(id::text)::bigint & 2147483647 AS h
              FROM customers WHERE tenant_id = :tenant) c;
    """
)


TRIGRAM_INDEXES = ("ix_customers_name_trgm", "ix_customers_email_trgm", "ix_customers_phone_trgm")


async def seed(runtime, tenant_id: uuid.UUID, n: int) -> None:
    """As a bulk load does: the trigram indexes take the rows in one merge (a pending list,
    folded in at the end) rather than one at a time."""
    async with runtime.engine.begin() as conn:
        for index in TRIGRAM_INDEXES:
            await conn.execute(text(f"ALTER INDEX {index} SET (fastupdate = on)"))
        for statement in str(SEED).split(";")[:-1]:
            await conn.execute(text(statement), {"tenant": tenant_id, "n": n})
    async with runtime.engine.begin() as conn:
        for index in TRIGRAM_INDEXES:
            await conn.execute(text(f"SELECT gin_clean_pending_list('{index}')"))
            await conn.execute(text(f"ALTER INDEX {index} SET (fastupdate = off)"))


async def plan_of(runtime, stmt: Any, filters: Filters) -> dict[str, Any]:
    """The plan of ``stmt`` as the service runs it (planned for its values, a search after
    the settings it sets first)."""
    async with runtime.engine.connect() as conn:
        if filters.search_text is not None:
            await conn.execute(PLAN_SETTINGS)
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        args = tuple(params[name] for name in compiled.positiontup)
        result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", args)
        plan = result.scalar_one()
        await conn.rollback()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += nodes(child)
    return found


def scans(plan: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [
        (n["Node Type"], n.get("Relation Name"), n.get("Index Name"))
        for n in nodes(plan)
        if "Scan" in n["Node Type"]
    ]


def no_seq_scan(plan: dict[str, Any]) -> list[str]:
    return [
        f"sequential scan of {relation}"
        for kind, relation, _ in scans(plan)
        if kind == "Seq Scan" and relation in TABLES
    ]


LIST_INDEX = {
    "-last_activity": "ix_customer_summaries_tenant_activity_desc",
    "last_activity": "ix_customer_summaries_tenant_activity_asc",
    "-revenue": "ix_customer_summaries_tenant_revenue",
    "bookings": "ix_customer_summaries_tenant_bookings",
    "-purchased_credits": "ix_customer_summaries_tenant_purchased",
    "last_name": "ix_customer_summaries_tenant_last_name",
    "-created": "ix_customer_summaries_tenant_registered",
}
LIST_FILTERS = [
    Filters(tab="with_credits"),
    Filters(tab="inactive"),
    Filters(status=["vip"]),
    Filters(last_activity_within_days=30),
    Filters(inactive_for_days=300),
    Filters(bookings_min=5),
    Filters(erased="only"),
]


async def searches(runtime, tenant_id: uuid.UUID) -> dict[str, str]:
    """What a desk types to find one of the tenant's customers."""
    async with runtime.engine.connect() as conn:
        one = (
            await conn.execute(
                text(
                    "SELECT first_name, last_name, email, phone FROM customers "
                    "WHERE tenant_id = :tenant AND phone IS NOT NULL ORDER BY id LIMIT 1"
                ),
                {"tenant": tenant_id},
            )
        ).one()
    last = one.last_name.lower()
    misspelt = last[:3] + last[4:]  # a letter left out
    return {
        last[:5]: "a partial name",
        misspelt: "a misspelt name",
        one.email.split("@")[0][-10:]: "an email fragment",
        one.phone[5:12]: "a phone fragment",
        f"{one.first_name} {misspelt}": "a first name and a misspelt surname",
    }


async def test_list_search_and_stats_plans_use_indexes(runtime):
    tenant, other = uuid.uuid4(), uuid.uuid4()
    await seed(runtime, tenant, BIG)
    await seed(runtime, other, SMALL)
    async with runtime.engine.begin() as conn:  # (statistics of a transaction that commits)
        await conn.execute(text("ANALYZE customers, customer_summaries"))
    now = datetime.now(UTC)
    problems: list[str] = []

    for token, index in LIST_INDEX.items():
        sort, filters = Sort.parse(token), Filters()
        # The row 10,000 deep, as the cursor of the page before it would name it.
        async with runtime.engine.connect() as conn:
            deep = (
                await conn.execute(
                    list_statement(tenant, filters, sort, now=now).offset(10_000).limit(1)
                )
            ).one()
        for where, after in (("first", None), ("deep", (deep.sort_key, deep.id))):
            stmt = list_statement(tenant, filters, sort, now=now, after=after, limit=51)
            plan = await plan_of(runtime, stmt, filters)
            problems += [f"{token} {where} page: {p}" for p in no_seq_scan(plan)]
            used = [s for s in scans(plan) if s[1] == "customer_summaries"]
            if not used or used[0][:1] != ("Index Scan",) or used[0][2] != index:
                problems.append(f"{token} {where} page reads {used}, not a range of {index}")
            if any(n["Node Type"] == "Sort" for n in nodes(plan)):
                problems.append(f"{token} {where} page sorts rows: the index should order them")

    for filters in LIST_FILTERS:
        plan = await plan_of(
            runtime,
            list_statement(tenant, filters, Sort.parse("-last_activity"), now=now, limit=51),
            filters,
        )
        problems += [f"filter {filters}: {p}" for p in no_seq_scan(plan)]

    for query, what in (await searches(runtime, tenant)).items():
        filters = Filters(q=query)
        stmt = list_statement(tenant, filters, Sort.of(None, filters), now=now, limit=51)
        plan = await plan_of(runtime, stmt, filters)
        problems += [f"search for {what}: {p}" for p in no_seq_scan(plan)]
        trigram = [s for s in scans(plan) if s[2] and s[2].endswith("_trgm")]
        if not trigram:
            problems.append(f"search for {what} takes no candidates from a trigram index")
        if any(s[1] == "customer_summaries" and s[0] != "Index Scan" for s in scans(plan)):
            problems.append(f"search for {what} reads summaries other than by key: {scans(plan)}")

    stats = await plan_of(runtime, stats_statement().params(tenant_id=tenant), Filters())
    touched = {relation for _, relation, _ in scans(stats)} & TABLES
    if touched:
        problems.append(f"stats read {touched}: they should read only the counters")

    assert not problems, "\n".join(problems)
