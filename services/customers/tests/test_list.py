"""The customer list (C7): quick search, filters, sorts, keyset pagination; stats (C6)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import apply
from customers_testing import NOW, account, balance, booking
from sqlalchemy import update

from frontdesk.contracts.scheduling import BookingAttended
from frontdesk.customers.adapters.listing import engagement_check_statement
from frontdesk.customers.adapters.tables import customers
from frontdesk.customers.domain.engagement import engagement
from frontdesk.customers.domain.listing import Sort


async def make(client, tokens, first, last, email=None, phone=None, **extra):
    body = {"first_name": first, "last_name": last, "email": email, "phone": phone, **extra}
    r = await client.post("/v1/customers", json=body, headers=tokens.headers())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def bookings(runtime, tenant_id, customer_id, days_ago: list[int]):
    for days in days_ago:
        starts = NOW - timedelta(days=days)
        await apply(
            runtime,
            booking(BookingAttended, customer_id=customer_id, starts_at=starts),
            tenant_id,
            occurred_at=starts,
        )


async def names(client, tokens, query=""):
    r = await client.get(f"/v1/customers{query}", headers=tokens.headers("staff"))
    assert r.status_code == 200, r.text
    return [f"{i['first_name']} {i['last_name']}" for i in r.json()["items"]]


@pytest.fixture
async def studio(client, tokens, runtime, tenant_id):
    """Five customers with credits, spend, bookings and tags of their own."""
    ids = {
        "ada": await make(
            client, tokens, "Ada", "Lovelace", "ada@example.com", tags=["VIP lounge"]
        ),
        "grace": await make(
            client, tokens, "Grace", "Hopper", "grace@navy.mil", "+447911123456", status="vip"
        ),
        "alan": await make(
            client, tokens, "Alan", "Turing", "alan@example.org", tags=["injury", "beginner"]
        ),
        "edsger": await make(
            client, tokens, "Edsger", "Dijkstra", "ewd@example.nl", status="inactive"
        ),
        "barbara": await make(
            client, tokens, "Barbara", "Liskov", "barbara@mit.edu", tags=["beginner"]
        ),
    }
    t = tenant_id
    await apply(runtime, balance(ids["ada"], available=10, purchased=20), t, ids["ada"], 1)
    await apply(
        runtime, balance(ids["grace"], available=0, paused=5, purchased=5), t, ids["grace"], 1
    )
    await apply(runtime, balance(ids["alan"], available=3, purchased=3), t, ids["alan"], 1)
    await apply(runtime, account(ids["ada"], spend=50_00), t, ids["ada"], 1)
    await apply(runtime, account(ids["grace"], spend=120_00), t, ids["grace"], 1)
    await apply(runtime, account(ids["alan"], spend=9_00), t, ids["alan"], 1)
    await bookings(runtime, t, ids["ada"], [1, 5, 10, 20, 30])  # regular, active yesterday
    await bookings(runtime, t, ids["grace"], [200, 300])  # lapsed
    await bookings(runtime, t, ids["alan"], [2, 40, 60])  # growing
    await bookings(runtime, t, ids["barbara"], [7])  # active
    return ids


async def test_rows_show_what_the_desk_needs(client, tokens, studio):
    r = await client.get("/v1/customers", headers=tokens.headers("staff"))
    items = r.json()["items"]
    ada = next(i for i in items if i["first_name"] == "Ada")
    assert ada["email"] == "ada@example.com" and ada["tags"] == ["vip lounge"]
    assert ada["credits_available"] == 10 and ada["revenue_minor"] == 5000
    assert ada["bookings"] == 5 and ada["engagement"] == "regular"
    assert ada["last_activity_at"] is not None and ada["status"] == "active"


async def test_default_sort_is_latest_activity_first_with_never_active_last(client, tokens, studio):
    assert await names(client, tokens) == [
        "Ada Lovelace",
        "Alan Turing",
        "Barbara Liskov",
        "Grace Hopper",
        "Edsger Dijkstra",
    ]
    assert await names(client, tokens, "?sort=last_activity") == [
        "Grace Hopper",
        "Barbara Liskov",
        "Alan Turing",
        "Ada Lovelace",
        "Edsger Dijkstra",
    ]


SORTS = [
    ("-revenue", ["Grace", "Ada", "Alan"]),
    ("revenue", ["Alan", "Ada", "Grace"]),
    ("-bookings", ["Ada", "Alan", "Grace", "Barbara", "Edsger"]),
    ("-purchased_credits", ["Ada", "Grace", "Alan"]),
    ("last_name", ["Edsger", "Grace", "Barbara", "Ada", "Alan"]),
    ("-last_name", ["Alan", "Ada", "Barbara", "Grace", "Edsger"]),
]


async def test_sorts(client, tokens, studio):
    # One seeded studio for every case (seeding per case would make the suite slow).
    for sort, expected in SORTS:
        got = [n.split()[0] for n in await names(client, tokens, f"?sort={sort}")]
        assert len(got) == 5
        # Ties (no revenue, say) may come in any order.
        assert [n for n in got if n in expected] == expected, sort


FILTERS = [
    ("?q=lovelace", {"Ada Lovelace"}),
    ("?q=LOVE", {"Ada Lovelace"}),
    ("?q=lovelce", {"Ada Lovelace"}),  # typo
    ("?q=grce%20hoper", {"Grace Hopper"}),  # typos
    ("?q=navy.mil", {"Grace Hopper"}),
    ("?q=example.org", {"Alan Turing"}),
    ("?q=7911%20123", {"Grace Hopper"}),  # part of the phone number
    ("?q=%25", set()),  # LIKE wildcards are taken literally
    ("?status=vip&status=inactive", {"Grace Hopper", "Edsger Dijkstra"}),
    ("?credits_min=3&credits_max=10", {"Ada Lovelace", "Alan Turing"}),
    ("?credits_min=4", {"Ada Lovelace"}),
    ("?has_credits=true", {"Ada Lovelace", "Alan Turing"}),
    ("?has_credits=false", {"Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"}),
    ("?last_activity_within_days=3", {"Ada Lovelace", "Alan Turing"}),
    ("?inactive_for_days=100", {"Grace Hopper", "Edsger Dijkstra"}),
    ("?bookings_min=2&bookings_max=3", {"Alan Turing", "Grace Hopper"}),
    ("?bookings_max=0", {"Edsger Dijkstra"}),
    ("?tag=beginner", {"Alan Turing", "Barbara Liskov"}),
    ("?tag=Beginner&tag=injury", {"Alan Turing"}),
    ("?tag=vip%20lounge", {"Ada Lovelace"}),
    ("?engagement=regular", {"Ada Lovelace"}),
    ("?engagement=growing", {"Alan Turing"}),
    ("?engagement=lapsed", {"Grace Hopper"}),
    ("?engagement=active", {"Barbara Liskov"}),
    ("?engagement=none", {"Edsger Dijkstra"}),
    ("?tab=with_credits", {"Ada Lovelace", "Alan Turing"}),
    ("?tab=paused_credits", {"Grace Hopper"}),
    ("?tab=no_credits", {"Edsger Dijkstra", "Barbara Liskov"}),
    ("?tab=inactive", {"Edsger Dijkstra"}),
    ("?q=a&tab=with_credits&engagement=growing", {"Alan Turing"}),
]


async def test_search_and_filters(client, tokens, studio):
    for query, expected in FILTERS:
        assert set(await names(client, tokens, query)) == expected, query


async def test_registration_date_range(client, tokens, studio, runtime):
    async with runtime.engine.begin() as conn:
        await conn.execute(
            update(customers)
            .where(customers.c.id == studio["edsger"])
            .values(created_at=datetime(2024, 3, 15, 12, tzinfo=UTC))
        )
    assert await names(client, tokens, "?registered_from=2024-03-15&registered_to=2024-03-15") == [
        "Edsger Dijkstra"
    ]
    assert "Edsger Dijkstra" not in await names(client, tokens, "?registered_from=2024-03-16")
    assert await names(client, tokens, "?registered_to=2024-03-14") == []


async def test_other_tenants_never_appear(client, tokens, studio):
    r = await client.get("/v1/customers", headers=tokens.headers(tenant_id=uuid.uuid4()))
    assert r.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "sort", ["-last_activity", "last_activity", "-revenue", "last_name", "bookings"]
)
def test_cursor_sorts_are_known(sort):
    assert Sort.parse(sort).token == sort


async def test_cursor_pages_through_everything_once(client, tokens, studio):
    for sort in ("-last_activity", "last_activity", "-revenue", "last_name", "bookings"):
        await _pages(client, tokens, sort)


async def _pages(client, tokens, sort):
    seen, cursor = [], None
    expected = await names(client, tokens, f"?sort={sort}")
    for _ in range(10):
        query = f"?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(f"/v1/customers{query}", headers=tokens.headers())).json()
        seen += [f"{i['first_name']} {i['last_name']}" for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and len(seen) == 5, sort


BAD = [
    ("?sort=colour", 422, "sort"),
    ("?cursor=garbage", 400, "cursor"),
    ("?cursor=eyJzIjoiLXJldmVudWUiLCJrIjoxLCJpIjoieCJ9", 400, "cursor"),
    ("?limit=0", 422, "limit"),
    ("?limit=201", 422, "limit"),
    ("?engagement=sometimes", 422, "engagement"),
    ("?tab=vip", 422, "tab"),
    ("?status=gold", 422, "status.0"),
    ("?credits_min=-1", 422, "credits_min"),
    ("?registered_from=yesterday", 422, "registered_from"),
    ("?colour=red", 400, "colour"),
]


async def test_bad_list_queries_answer_problem_json(client, tokens):
    for query, status, field in BAD:
        r = await client.get(f"/v1/customers{query}", headers=tokens.headers())
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], query


async def test_cursor_of_another_sort_is_refused(client, tokens, studio):
    body = (await client.get("/v1/customers?limit=1", headers=tokens.headers())).json()
    r = await client.get(
        f"/v1/customers?sort=-revenue&cursor={body['next_cursor']}", headers=tokens.headers()
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"


async def test_customers_cannot_list(client, tokens, studio):
    me = tokens.headers("customer", sub=studio["ada"])
    assert (await client.get("/v1/customers", headers=me)).status_code == 403
    assert (await client.get("/v1/customers/stats", headers=me)).status_code == 403


async def test_stats_and_tab_counts(client, tokens, studio):
    r = await client.get("/v1/customers/stats", headers=tokens.headers("staff"))
    assert r.status_code == 200
    assert r.json() == {
        "total_customers": 5,
        "with_credits": 2,
        "erased_customers": 0,
        "total_bookings": 11,
        "total_revenue": [{"amount_minor": 179_00, "currency": "EUR"}],
        "tabs": {"all": 5, "with_credits": 2, "paused_credits": 1, "no_credits": 2, "inactive": 1},
    }
    empty = await client.get("/v1/customers/stats", headers=tokens.headers(tenant_id=uuid.uuid4()))
    assert empty.json()["total_customers"] == 0 and empty.json()["total_revenue"] == []


async def test_sql_engagement_agrees_with_the_domain_rule(runtime):
    now = datetime(2025, 6, 1, tzinfo=UTC)
    cases = [
        (n, last)
        for n in (0, 1, 2, 3, 4, 5, 9)
        for last in (
            None,
            now - timedelta(days=1),
            now - timedelta(days=89),
            now - timedelta(days=90),
            now - timedelta(days=400),
            now + timedelta(days=2),
        )
        if (n == 0) == (last is None) or n == 0
    ]
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(engagement_check_statement(now, cases))).all()
    assert len(rows) == len(cases)
    for n, last, sql in rows:
        assert sql == engagement(n, last, now).value, (n, last)
