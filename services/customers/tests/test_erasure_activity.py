"""Delete cascades, erasure and access requests (C12), the activity timeline (C18)."""

import uuid
from datetime import timedelta

from conftest import apply
from customers_testing import NOW, account, balance, booking
from sqlalchemy import func, select

from frontdesk.contracts.billing import InvoiceIssued, InvoicePaid
from frontdesk.contracts.notifications import MessageFailed, MessageSent
from frontdesk.contracts.scheduling import BookingAttended, BookingConfirmed
from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_summaries,
    messaging,
    notes,
)
from frontdesk.kit.auth import Permission

ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+447911123456",
    "tags": ["injury"],
}


async def seeded(client, tokens, runtime, tenant_id):
    cid = (await client.post("/v1/customers", json=ADA, headers=tokens.headers())).json()["id"]
    await apply(runtime, balance(cid, available=5, purchased=10), tenant_id, cid, 1)
    await apply(runtime, account(cid, spend=80_00), tenant_id, cid, 1)
    b = booking(BookingConfirmed, customer_id=cid, starts_at=NOW - timedelta(days=3))
    await apply(runtime, b, tenant_id, b.booking_id, 1, occurred_at=NOW - timedelta(days=4))
    url = f"/v1/customers/{cid}/notes"
    await client.post(url, json={"text": "Team note"}, headers=tokens.headers(sub="admin-1"))
    await client.post(
        url,
        json={"text": "Secret", "visibility": "private"},
        headers=tokens.headers("staff", Permission.view_notes, sub="trainer"),
    )
    return cid


async def count(runtime, table, cid):
    column = table.c.customer_id
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(column == cid))


async def outbox(runtime, key, tenant_id):
    async with runtime.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(messaging.outbox.c.envelope).where(
                        messaging.outbox.c.routing_key == key,
                        messaging.outbox.c.tenant_id == tenant_id,
                    )
                )
            )
            .scalars()
            .all()
        )


async def test_delete_cascades_here_and_is_announced(client, tokens, runtime, tenant_id):
    cid = await seeded(client, tokens, runtime, tenant_id)
    assert (
        await client.delete(f"/v1/customers/{cid}", headers=tokens.headers())
    ).status_code == 204
    for table in (notes, customer_summaries, customer_bookings, customer_activity):
        assert await count(runtime, table, uuid.UUID(cid)) == 0, table.name
    assert (await client.get(f"/v1/customers/{cid}", headers=tokens.headers())).status_code == 404
    deleted = await outbox(runtime, "customers.customer.deleted.v1", tenant_id)
    assert [e["payload"]["customer_id"] for e in deleted] == [cid]


async def test_erasure_scrubs_and_keeps_the_anonymous_numbers(client, tokens, runtime, tenant_id):
    cid = await seeded(client, tokens, runtime, tenant_id)
    staff = tokens.headers("staff", Permission.add_participants)
    assert (await client.post(f"/v1/customers/{cid}/erasure", headers=staff)).status_code == 403
    r = await client.post(f"/v1/customers/{cid}/erasure", headers=tokens.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["first_name"], body["last_name"], body["email"], body["phone"]) == (
        "Erased",
        "Customer",
        None,
        None,
    )
    assert body["tags"] == [] and body["erased"] is True
    assert body["summary"]["lifetime_spend_minor"] == 80_00
    assert body["summary"]["bookings_count"] == 1
    assert await count(runtime, notes, uuid.UUID(cid)) == 0
    erased = await outbox(runtime, "customers.customer.erased.v1", tenant_id)
    assert [e["payload"]["customer_id"] for e in erased] == [cid]
    # No more edits, tags, notes or a second erasure.
    admin = tokens.headers()
    for method, url, json in (
        ("PATCH", f"/v1/customers/{cid}", {"first_name": "Ada"}),
        ("PUT", f"/v1/customers/{cid}/tags/x", None),
        ("POST", f"/v1/customers/{cid}/notes", {"text": "hello"}),
        ("POST", f"/v1/customers/{cid}/erasure", None),
    ):
        r = await client.request(method, url, json=json, headers=admin)
        assert r.status_code == 409, (url, r.text)
    r = await client.post(
        "/v1/customers/bulk",
        headers=admin,
        json={"ids": [cid], "action": "set_status", "status": "vip"},
    )
    assert r.status_code == 409
    # Search no longer finds the person; the stats still count the revenue.
    assert (await client.get("/v1/customers?q=lovelace", headers=admin)).json()["items"] == []
    stats = (await client.get("/v1/customers/stats", headers=admin)).json()
    assert stats["total_revenue"] == [{"amount_minor": 80_00, "currency": "EUR"}]


async def test_access_request_returns_everything_held(client, tokens, runtime, tenant_id):
    cid = await seeded(client, tokens, runtime, tenant_id)
    staff = tokens.headers("staff", Permission.view_notes, sub="trainer")
    assert (await client.get(f"/v1/customers/{cid}/data", headers=staff)).status_code == 403
    r = await client.get(f"/v1/customers/{cid}/data", headers=tokens.headers())
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["customer"]["email"] == "ada@example.com"
    assert data["customer"]["summary"]["credits_available"] == 5
    assert sorted(n["text"] for n in data["notes"]) == ["Secret", "Team note"]
    assert [b["status"] for b in data["bookings"]] == ["confirmed"]
    assert [a["kind"] for a in data["activity"]] == ["booking"]
    other = tokens.headers(tenant_id=uuid.uuid4())
    assert (await client.get(f"/v1/customers/{cid}/data", headers=other)).status_code == 404


async def test_activity_timeline_merges_everything_newest_first(client, tokens, runtime, tenant_id):
    cid = await seeded(client, tokens, runtime, tenant_id)
    c = uuid.UUID(cid)
    invoice = {
        "invoice_id": uuid.uuid4(),
        "number": "2025-0007",
        "customer_id": c,
        "total_minor": 40_00,
        "currency": "EUR",
    }
    await apply(runtime, InvoiceIssued(**invoice), tenant_id, occurred_at=NOW - timedelta(days=2))
    await apply(
        runtime,
        InvoicePaid(**invoice, paid_minor=40_00),
        tenant_id,
        occurred_at=NOW - timedelta(days=1),
    )
    message = {"message_id": uuid.uuid4(), "customer_id": c, "channel": "sms"}
    await apply(runtime, MessageSent(**message), tenant_id, occurred_at=NOW - timedelta(hours=5))
    await apply(
        runtime,
        MessageFailed(**message, error="unreachable", permanent=True),
        tenant_id,
        occurred_at=NOW - timedelta(hours=4),
    )
    # A message for nobody leaves no trace.
    await apply(runtime, MessageSent(message_id=uuid.uuid4(), channel="email"), tenant_id)
    b = booking(BookingAttended, customer_id=c, starts_at=NOW - timedelta(days=3))
    await apply(runtime, b, tenant_id, b.booking_id, 2, occurred_at=NOW - timedelta(days=3))

    viewer = tokens.headers("staff", Permission.view_notes, sub="trainer")
    r = await client.get(f"/v1/customers/{cid}/activity", headers=viewer)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    kinds = [i["kind"] for i in items]
    assert kinds == [
        "note",
        "note",
        "message",
        "message",
        "invoice",
        "invoice",
        "booking",
        "booking",
    ]
    assert {i["summary"] for i in items if i["kind"] == "note"} == {"Team note", "Secret"}
    assert items[4]["details"]["number"] == "2025-0007"

    # Paging gives the same list; staff without view_notes see no notes at all.
    seen, cursor = [], None
    while True:
        q = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/v1/customers/{cid}/activity{q}", headers=viewer)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in items]
    plain = tokens.headers("staff", sub="other")
    kinds = [
        i["kind"]
        for i in (await client.get(f"/v1/customers/{cid}/activity", headers=plain)).json()["items"]
    ]
    assert "note" not in kinds and len(kinds) == len(items) - 2
    admin_view = (
        await client.get(f"/v1/customers/{cid}/activity", headers=tokens.headers(sub="admin-1"))
    ).json()["items"]
    assert {i["summary"] for i in admin_view if i["kind"] == "note"} == {"Team note"}
    bad = await client.get(f"/v1/customers/{cid}/activity?cursor=nope", headers=viewer)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


async def test_erased_records_stay_out_of_lists_counts_and_exports(
    client, tokens, runtime, tenant_id
):
    """An erased record is no one: not in the default list, search, customer counts or
    export; its bookings and revenue stay in the totals. Asked for, it is listed."""
    cid = await seeded(client, tokens, runtime, tenant_id)
    grace = (
        await client.post(
            "/v1/customers",
            json={"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"},
            headers=tokens.headers(),
        )
    ).json()["id"]
    await apply(runtime, balance(grace, available=1, purchased=1), tenant_id, grace, 1)
    await apply(runtime, account(grace, spend=20_00), tenant_id, grace, 1)
    admin = tokens.headers()
    assert (await client.post(f"/v1/customers/{cid}/erasure", headers=admin)).status_code == 200
    staff = tokens.headers("staff")

    async def ids(query=""):
        r = await client.get(f"/v1/customers{query}", headers=staff)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids() == [grace]
    assert await ids("?tab=with_credits") == [grace]  # the erased one still holds 5 credits
    assert await ids("?q=erased") == [] and await ids("?q=erased&erased=include") == []
    assert sorted(await ids("?erased=include")) == sorted([cid, grace])
    assert await ids("?erased=only") == [cid]
    assert (await client.get("/v1/customers?erased=maybe", headers=staff)).status_code == 422

    stats = (await client.get("/v1/customers/stats", headers=staff)).json()
    assert stats["total_customers"] == 1 and stats["erased_customers"] == 1
    assert stats["with_credits"] == 1
    assert stats["tabs"] == {
        "all": 1,
        "with_credits": 1,
        "paused_credits": 0,
        "no_credits": 0,
        "inactive": 0,
    }
    assert stats["total_bookings"] == 1  # the erased customer's booking happened
    assert stats["total_revenue"] == [{"amount_minor": 100_00, "currency": "EUR"}]

    export = await client.get("/v1/customers/export.csv", headers=staff)
    assert [line.split(",")[0] for line in export.text.splitlines()[1:]] == ["Grace"]
    chosen = await client.get(f"/v1/customers/export.csv?id={cid}&id={grace}", headers=staff)
    assert len(chosen.text.splitlines()) == 2
    everyone = await client.get("/v1/customers/export.csv?erased=include", headers=staff)
    assert len(everyone.text.splitlines()) == 3
    # The record itself still answers (the anonymous numbers), flagged erased.
    one = (await client.get(f"/v1/customers/{cid}", headers=staff)).json()
    assert one["erased"] is True and one["summary"]["lifetime_spend_minor"] == 80_00
