"""Issue 16: the statistics are counters kept as the summary changes (a trigger writes what
each change adds; the worker folds the changes into the counters). Whatever happened, they
equal a count over the rows themselves, before and after a fold."""

import uuid

from conftest import apply
from customers_testing import account, balance, booking
from sqlalchemy import func, select, text

from frontdesk.contracts.scheduling import BookingAttended, BookingCancelled
from frontdesk.customers.adapters.tables import customer_stats_changes
from frontdesk.customers.app import fold_statistics
from frontdesk.kit.auth import Permission

# What the stats were before counters: a scan of the tenant's records and summaries.
SCAN = text(
    """
    SELECT count(*) FILTER (WHERE c.erased_at IS NULL) AS total_customers,
           count(*) FILTER (WHERE c.erased_at IS NULL AND s.credits_available > 0)
               AS with_credits,
           count(*) FILTER (WHERE c.erased_at IS NOT NULL) AS erased_customers,
           coalesce(sum(s.bookings_count), 0) AS total_bookings,
           count(*) FILTER (WHERE c.erased_at IS NULL AND s.credits_paused > 0) AS paused,
           count(*) FILTER (WHERE c.erased_at IS NULL AND s.credits_available = 0
                            AND s.credits_paused = 0) AS no_credits,
           count(*) FILTER (WHERE c.erased_at IS NULL AND c.status = 'inactive') AS inactive
      FROM customers c JOIN customer_summaries s
        ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
     WHERE c.tenant_id = :tenant
    """
)
REVENUE = text(
    """
    SELECT s.currency, sum(s.lifetime_spend_minor) AS amount_minor
      FROM customers c JOIN customer_summaries s
        ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
     WHERE c.tenant_id = :tenant AND s.currency IS NOT NULL
     GROUP BY s.currency ORDER BY s.currency
    """
)


async def scanned(runtime, tenant_id):
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(SCAN, {"tenant": tenant_id})).mappings().one()
        revenue = (await conn.execute(REVENUE, {"tenant": tenant_id})).all()
    return {
        "total_customers": row["total_customers"],
        "with_credits": row["with_credits"],
        "erased_customers": row["erased_customers"],
        "total_bookings": int(row["total_bookings"]),
        "total_revenue": [{"amount_minor": int(a), "currency": c} for c, a in revenue],
        "tabs": {
            "all": row["total_customers"],
            "with_credits": row["with_credits"],
            "paused_credits": row["paused"],
            "no_credits": row["no_credits"],
            "inactive": row["inactive"],
        },
    }


async def pending(runtime):
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(customer_stats_changes))


async def test_counters_equal_a_scan_through_every_kind_of_change(
    client, tokens, runtime, tenant_id
):
    admin = tokens.headers()
    editor = tokens.headers("staff", Permission.add_participants)
    t = tenant_id

    async def check():
        stats = (await client.get("/v1/customers/stats", headers=admin)).json()
        assert stats == await scanned(runtime, t)
        return stats

    ids = []
    for i in range(6):
        body = {"first_name": f"C{i}", "last_name": "Count", "email": f"c{i}@example.com"}
        ids.append((await client.post("/v1/customers", json=body, headers=admin)).json()["id"])
    # Events before the record: kept, counted once the record exists.
    early = uuid.uuid4()
    await apply(runtime, balance(early, available=4, purchased=4), t, early, 1)
    await apply(runtime, account(early, spend=10_00), t, early, 1)
    await check()
    await apply(runtime, balance(ids[0], available=5, purchased=5), t, ids[0], 1)
    await apply(runtime, balance(ids[1], paused=2, purchased=2), t, ids[1], 1)
    await apply(runtime, balance(ids[0], available=0, purchased=5), t, ids[0], 2)
    await apply(runtime, account(ids[0], spend=30_00), t, ids[0], 1)
    await apply(runtime, account(ids[2], spend=7_00, currency="GBP"), t, ids[2], 1)
    await apply(runtime, account(ids[2], spend=9_00, currency="USD"), t, ids[2], 2)
    booking_id = uuid.uuid4()
    await apply(runtime, booking(BookingAttended, ids[3], booking_id), t, booking_id, 1)
    await apply(runtime, booking(BookingAttended, ids[4]), t, None, 1)
    cancelled = booking(BookingCancelled, ids[3], booking_id, refund=True, cancelled_by="customer")
    await apply(runtime, cancelled, t, booking_id, 2)
    await check()
    await client.post(
        "/v1/customers/bulk",
        json={"ids": ids[:3], "action": "set_status", "status": "inactive"},
        headers=editor,
    )
    await client.post(f"/v1/customers/{ids[2]}/erasure", headers=admin)
    await client.delete(f"/v1/customers/{ids[0]}", headers=admin)
    before = await check()

    assert await pending(runtime) > 0
    assert await fold_statistics(runtime) > 0
    assert await pending(runtime) == 0
    assert await check() == before
    await apply(runtime, balance(ids[4], available=3, purchased=3), t, ids[4], 1)
    assert (await check())["with_credits"] == before["with_credits"] + 1
