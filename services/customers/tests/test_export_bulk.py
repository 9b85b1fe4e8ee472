"""CSV export (C10) and bulk actions (C11)."""

import csv
import io
import uuid

from conftest import apply
from customers_testing import account, balance
from sqlalchemy import select

from frontdesk.customers.adapters.tables import customer_summaries, customers, messaging
from frontdesk.kit.auth import Permission


async def make(client, tokens, first, last, email, **extra):
    r = await client.post(
        "/v1/customers",
        headers=tokens.headers(),
        json={"first_name": first, "last_name": last, "email": email, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def parse(text):
    return list(csv.DictReader(io.StringIO(text)))


async def test_export_neutralises_formulas_and_round_trips(client, tokens, runtime, tenant_id):
    evil = await make(
        client,
        tokens,
        '=HYPERLINK("http://evil.example","click")',
        "@Smith",
        "evil@example.com",
        tags=["+vip"],
    )
    ada = await make(client, tokens, "Ada", "Lovelace", "ada@example.com", phone="+447911123456")
    await apply(runtime, balance(ada, available=7), tenant_id, ada, 1)
    await apply(runtime, account(ada, spend=123_45), tenant_id, ada, 1)
    r = await client.get(
        "/v1/customers/export.csv?sort=-last_name", headers=tokens.headers("staff")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = parse(r.text)
    assert [row["email"] for row in rows] == ["ada@example.com", "evil@example.com"]
    assert rows[0]["lifetime_spend"] == "123.45" and rows[0]["currency"] == "EUR"
    assert rows[0]["credits"] == "7" and rows[0]["bookings"] == "0"
    assert rows[1]["first_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[1]["last_name"] == "'@Smith" and rows[1]["tags"] == "'+vip"
    # A validated E.164 phone is not a formula: exported as is, ready for a mailing tool.
    assert rows[0]["phone"] == "+447911123456"
    assert evil


async def test_export_neutralises_formulas_behind_fullwidth_or_invisible_characters(
    client, tokens, runtime
):
    """Issue 9: NFKC folds ``\uff1d`` into ``=``; leading zero-width or bidi characters
    hide nothing. (The API now refuses invisible characters in names; records written
    before it did may still hold them.)"""
    wide = await make(client, tokens, "\uff1dcmd|' /C calc'!A0", "\uff20Smith", "w@example.com")
    await make(client, tokens, "Hidden", "\uff0d2", "h@example.com", tags=["\uff0bvip"])
    async with runtime.engine.begin() as conn:  # as a record from before the kit types
        await conn.execute(
            customers.update()
            .where(customers.c.id == uuid.UUID(wide))
            .values(last_name="\u200b\u202e=SUM(A1)")
        )
    r = await client.get("/v1/customers/export.csv?sort=last_name", headers=tokens.headers())
    assert r.status_code == 200, r.text
    rows = {row["email"]: row for row in parse(r.text)}
    assert rows["w@example.com"]["first_name"] == "'\uff1dcmd|' /C calc'!A0"
    assert rows["w@example.com"]["last_name"] == "'\u200b\u202e=SUM(A1)"
    assert rows["h@example.com"]["first_name"] == "Hidden"
    assert rows["h@example.com"]["last_name"] == "'\uff0d2"
    assert rows["h@example.com"]["tags"] == "'\uff0bvip"


async def test_export_applies_filters_or_a_selection(client, tokens):
    ids = [
        await make(
            client,
            tokens,
            f"P{i}",
            "Person",
            f"p{i}@example.com",
            status="vip" if i % 2 else "active",
        )
        for i in range(6)
    ]
    r = await client.get("/v1/customers/export.csv?status=vip", headers=tokens.headers())
    assert sorted(row["first_name"] for row in parse(r.text)) == ["P1", "P3", "P5"]
    r = await client.get(
        f"/v1/customers/export.csv?id={ids[0]}&id={ids[4]}", headers=tokens.headers()
    )
    assert sorted(row["first_name"] for row in parse(r.text)) == ["P0", "P4"]
    foreign = await client.get(
        f"/v1/customers/export.csv?id={ids[0]}", headers=tokens.headers(tenant_id=uuid.uuid4())
    )
    assert parse(foreign.text) == []
    bad = await client.get("/v1/customers/export.csv?sort=shoe_size", headers=tokens.headers())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"


async def test_export_streams_many_rows(client, tokens, runtime, tenant_id):
    ids = [uuid.uuid4() for _ in range(1200)]
    async with runtime.engine.begin() as conn:  # fast seeding: the rows the API would write
        await conn.execute(
            customers.insert(),
            [
                {
                    "id": cid,
                    "tenant_id": tenant_id,
                    "first_name": f"N{i}",
                    "last_name": "Bulk",
                    "email": f"n{i}@example.com",
                }
                for i, cid in enumerate(ids)
            ],
        )
        await conn.execute(
            customer_summaries.insert(),
            [{"tenant_id": tenant_id, "customer_id": cid} for cid in ids],
        )
    async with client.stream("GET", "/v1/customers/export.csv", headers=tokens.headers()) as r:
        chunks = [chunk async for chunk in r.aiter_text()]
    lines = sum(chunk.count("\n") for chunk in chunks)
    assert lines == 1201  # (httpx's ASGI transport buffers, so chunking is not visible here)


async def _outbox(runtime, key, tenant_id):
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


async def test_bulk_status_and_tags_publish_per_customer_events(client, tokens, runtime, tenant_id):
    ids = [await make(client, tokens, f"B{i}", "Bulk", f"b{i}@example.com") for i in range(3)]
    editor = tokens.headers("staff", Permission.add_participants)
    r = await client.post(
        "/v1/customers/bulk",
        headers=editor,
        json={"ids": ids, "action": "set_status", "status": "vip"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == 3
    changed = await _outbox(runtime, "customers.customer.status_changed.v1", tenant_id)
    assert sorted(e["aggregate_id"] for e in changed) == sorted(ids)
    assert {e["payload"]["new_status"] for e in changed} == {"vip"}
    r = await client.post(
        "/v1/customers/bulk",
        headers=editor,
        json={"ids": ids[:2], "action": "add_tag", "tag": " Spring Promo "},
    )
    assert r.json()["changed"] == 2
    listed = (await client.get("/v1/customers?tag=spring%20promo", headers=editor)).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(ids[:2])
    updated = await _outbox(runtime, "customers.customer.updated.v1", tenant_id)
    assert len(updated) == 2 and updated[0]["payload"]["changed"] == ["tags"]
    r = await client.post(
        "/v1/customers/bulk",
        headers=editor,
        json={"ids": ids, "action": "remove_tag", "tag": "spring promo"},
    )
    assert r.json()["changed"] == 2


async def test_bulk_is_all_or_nothing(client, tokens, runtime, tenant_id):
    ids = [await make(client, tokens, f"B{i}", "Bulk", f"b{i}@example.com") for i in range(2)]
    foreign = (
        await client.post(
            "/v1/customers",
            headers=tokens.headers(tenant_id=uuid.uuid4()),
            json={"first_name": "F", "last_name": "F", "email": "f@example.com"},
        )
    ).json()["id"]
    unknown = str(uuid.uuid4())
    r = await client.post(
        "/v1/customers/bulk",
        headers=tokens.headers(),
        json={"ids": [*ids, foreign, unknown], "action": "set_status", "status": "blocked"},
    )
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "ids" and foreign in error["message"] and unknown in error["message"]
    statuses = {
        i["status"]
        for i in (await client.get("/v1/customers", headers=tokens.headers())).json()["items"]
    }
    assert statuses == {"active"}
    assert await _outbox(runtime, "customers.customer.status_changed.v1", tenant_id) == []
    for body, field in (
        ({"ids": ids, "action": "set_status"}, "status"),
        ({"ids": ids, "action": "add_tag"}, "tag"),
        ({"ids": ids, "action": "explode"}, "action"),
        ({"ids": [], "action": "add_tag", "tag": "x"}, "ids"),
        ({"ids": [str(uuid.uuid4())] * 1001, "action": "add_tag", "tag": "x"}, "ids"),
        ({"ids": ids, "action": "message", "channel": "email", "body": "Hi"}, "subject"),
    ):
        r = await client.post("/v1/customers/bulk", headers=tokens.headers(), json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["field"] == field, body


async def test_bulk_message_is_one_request_for_notifications(client, tokens, runtime, tenant_id):
    ids = [await make(client, tokens, f"M{i}", "Msg", f"m{i}@example.com") for i in range(3)]
    body = {
        "ids": ids,
        "action": "message",
        "channel": "email",
        "subject": "Summer timetable",
        "body": "New classes from June.",
    }
    no_perm = tokens.headers("staff", Permission.add_participants)
    assert (await client.post("/v1/customers/bulk", headers=no_perm, json=body)).status_code == 403
    sender = tokens.headers("staff", Permission.send_emails, sub="sender-1")
    r = await client.post("/v1/customers/bulk", headers=sender, json=body)
    assert r.status_code == 200, r.text
    requests = await _outbox(runtime, "customers.bulk_message.requested.v1", tenant_id)
    assert len(requests) == 1
    payload = requests[0]["payload"]
    assert payload["request_id"] == r.json()["request_id"]
    assert sorted(payload["customer_ids"]) == sorted(ids)
    assert payload["channel"] == "email" and payload["requested_by"] == "sender-1"
    assert payload["subject"] == "Summer timetable"
