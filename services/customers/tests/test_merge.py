"""Duplicates and merges (C13): candidates with scores and reasons, a merge that moves
everything the record held to the survivor, the merged id's pointer, and the undo that
restores both records exactly."""

import uuid

from conftest import apply
from customers_testing import account, balance, booking
from sqlalchemy import select, update

from frontdesk.contracts.scheduling import BookingAttended
from frontdesk.customers.adapters.tables import customer_merges, messaging
from frontdesk.kit.auth import Permission

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
ADA2 = {"first_name": "Ada", "last_name": "Lovelace-King", "phone": "+447911123456"}
VIEW = Permission.view_notes


async def make(client, tokens, body, **extra):
    r = await client.post("/v1/customers", json={**body, **extra}, headers=tokens.headers())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def events(runtime, key):
    async with runtime.engine.connect() as conn:
        rows = (
            (await conn.execute(select(messaging.outbox).order_by(messaging.outbox.c.seq)))
            .mappings()
            .all()
        )
    return [r["envelope"]["payload"] for r in rows if r["routing_key"] == key]


async def test_duplicates_have_a_score_and_their_reasons(client, tokens):
    ada = await make(client, tokens, ADA, phone="+447911123456")
    same_email = await make(client, tokens, {**ADA, "first_name": "Bob", "last_name": "Smith"})
    same_phone_and_name = await make(client, tokens, ADA2)
    typo = await make(
        client, tokens, {"first_name": "Ada", "last_name": "Lovelase"}, email="x@y.io"
    )
    await make(client, tokens, {"first_name": "Grace", "last_name": "Hopper"}, email="g@h.io")
    erased = await make(client, tokens, ADA)
    await client.post(f"/v1/customers/{erased}/erasure", headers=tokens.headers())

    r = await client.get(f"/v1/customers/{ada}/duplicates", headers=tokens.headers())
    assert r.status_code == 200, r.text
    found = {d["customer_id"]: d for d in r.json()}
    assert set(found) == {same_email, same_phone_and_name, typo}
    assert found[same_email]["reasons"]["email"] == 1.0
    assert "name" not in found[same_email]["reasons"]
    assert set(found[same_phone_and_name]["reasons"]) == {"phone", "name"}
    assert set(found[typo]["reasons"]) == {"name"}
    assert 0.5 <= found[typo]["reasons"]["name"] < 1
    scores = [d["score"] for d in r.json()]
    assert scores == sorted(scores, reverse=True)
    assert found[same_phone_and_name]["score"] > found[typo]["score"]
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (await client.get(f"/v1/customers/{ada}/duplicates", headers=other)).status_code == 404


async def test_merge_moves_everything_and_undo_restores_both(client, tokens, runtime):
    admin = tokens.headers("admin", sub="boss")
    keep = await make(client, tokens, ADA, tags=["vip-list"])
    gone = await make(client, tokens, ADA2, tags=["newsletter", "vip-list"])
    tenant = tokens.tenant_id
    for cid, text in ((keep, "Knee injury"), (gone, "Prefers mornings")):
        r = await client.post(f"/v1/customers/{cid}/notes", json={"text": text}, headers=admin)
        assert r.status_code == 201
    await apply(runtime, balance(keep, available=3, purchased=5), tenant, version=1)
    await apply(runtime, balance(gone, available=7, purchased=10), tenant, version=1)
    await apply(runtime, account(keep, spend=1000), tenant, version=1)
    await apply(runtime, account(gone, spend=2500), tenant, version=1)
    await apply(runtime, booking(customer_id=keep), tenant, version=1)
    moved_booking = booking(customer_id=gone)
    await apply(runtime, moved_booking, tenant, version=1)
    stats_before = (await client.get("/v1/customers/stats", headers=admin)).json()
    before = {
        cid: (await client.get(f"/v1/customers/{cid}", headers=admin)).json()
        for cid in (keep, gone)
    }

    r = await client.post(f"/v1/customers/{keep}/merge", json={"merged_id": gone}, headers=admin)
    assert r.status_code == 201, r.text
    merge = r.json()
    assert (merge["survivor_id"], merge["merged_id"], merge["merged_by"]) == (keep, gone, "boss")
    assert merge["moved"]["tags"] == ["newsletter"]
    assert str(moved_booking.booking_id) in merge["moved"]["bookings"]

    survivor = (await client.get(f"/v1/customers/{keep}", headers=admin)).json()
    assert survivor["tags"] == ["newsletter", "vip-list"]
    summary = survivor["summary"]
    assert (summary["credits_available"], summary["credits_purchased"]) == (10, 15)
    assert summary["lifetime_spend_minor"] == 3500
    assert summary["bookings_count"] == 2
    notes = (await client.get(f"/v1/customers/{keep}/notes", headers=admin)).json()
    assert {n["text"] for n in notes} == {"Knee injury", "Prefers mornings"}
    # The merged id still answers, as it was, pointing at the survivor.
    old = await client.get(f"/v1/customers/{gone}", headers=admin)
    assert old.status_code == 200
    assert old.json()["merged_into"] == keep and old.json()["last_name"] == "Lovelace-King"
    assert old.headers["link"] == f'</v1/customers/{keep}>; rel="canonical"'
    # Not counted in the list, search or stats; not editable; not suggested.
    listed = (await client.get("/v1/customers", headers=admin)).json()["items"]
    assert [c["id"] for c in listed] == [keep]
    found = (await client.get("/v1/customers?q=lovelace", headers=admin)).json()["items"]
    assert [c["id"] for c in found] == [keep]
    stats = (await client.get("/v1/customers/stats", headers=admin)).json()
    assert stats["total_customers"] == stats_before["total_customers"] - 1
    assert stats["total_bookings"] == stats_before["total_bookings"]
    assert stats["total_revenue"] == stats_before["total_revenue"]
    patch = await client.patch(f"/v1/customers/{gone}", json={"first_name": "X"}, headers=admin)
    assert patch.status_code == 409
    published = await events(runtime, "customers.customer.merged.v1")
    assert published == [
        {"merge_id": merge["id"], "survivor_id": keep, "merged_id": gone, "merged_by": "boss"}
    ]
    # A booking event about the merged id (scheduling not caught up yet) stays with the
    # survivor.
    attended = booking(
        BookingAttended, customer_id=uuid.UUID(gone), booking_id=moved_booking.booking_id
    )
    await apply(runtime, attended, tenant, version=2)
    survivor = (await client.get(f"/v1/customers/{keep}", headers=admin)).json()
    assert survivor["summary"]["bookings_count"] == 2
    listing = await client.get(f"/v1/customers/{keep}/merges", headers=admin)
    assert [m["id"] for m in listing.json()] == [merge["id"]]

    undo = await client.post(f"/v1/merges/{merge['id']}/undo", headers=admin)
    assert undo.status_code == 200, undo.text
    assert undo.json()["undone_by"] == "boss"
    after = {
        cid: (await client.get(f"/v1/customers/{cid}", headers=admin)).json()
        for cid in (keep, gone)
    }
    for cid in (keep, gone):
        for key in ("first_name", "last_name", "email", "phone", "tags", "merged_into"):
            assert after[cid][key] == before[cid][key], (cid, key)
        for key in ("credits_available", "credits_purchased", "lifetime_spend_minor"):
            assert after[cid]["summary"][key] == before[cid]["summary"][key], (cid, key)
        assert after[cid]["summary"]["bookings_count"] == 1
    for cid, text in ((keep, "Knee injury"), (gone, "Prefers mornings")):
        notes = (await client.get(f"/v1/customers/{cid}/notes", headers=admin)).json()
        assert [n["text"] for n in notes] == [text]
    stats = (await client.get("/v1/customers/stats", headers=admin)).json()
    assert stats["total_customers"] == stats_before["total_customers"]
    assert await events(runtime, "customers.customer.unmerged.v1") == [
        {"merge_id": merge["id"], "survivor_id": keep, "merged_id": gone, "unmerged_by": "boss"}
    ]
    again = await client.post(f"/v1/merges/{merge['id']}/undo", headers=admin)
    assert again.status_code == 409


async def test_merges_that_cannot_be(client, tokens, runtime):
    admin = tokens.headers("admin")
    a = await make(client, tokens, ADA)
    b = await make(client, tokens, ADA2)
    c = await make(client, tokens, {"first_name": "Grace", "last_name": "Hopper"}, email="g@h.io")
    url = f"/v1/customers/{a}/merge"
    itself = await client.post(url, json={"merged_id": a}, headers=admin)
    assert itself.status_code == 422
    assert itself.headers["content-type"].startswith("application/problem+json")
    assert itself.json()["errors"][0]["field"] == "merged_id"
    unknown = await client.post(url, json={"merged_id": str(uuid.uuid4())}, headers=admin)
    assert unknown.status_code == 404
    bad = await client.post(url, json={"merged_id": "nope"}, headers=admin)
    assert bad.status_code == 422
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    x = (await client.post("/v1/customers", json=ADA, headers=other)).json()["id"]
    across = await client.post(url, json={"merged_id": x}, headers=admin)
    assert across.status_code == 404
    plain = tokens.headers("staff")
    assert (await client.post(url, json={"merged_id": b}, headers=plain)).status_code == 403
    first = await client.post(url, json={"merged_id": b}, headers=admin)
    assert first.status_code == 201
    twice = await client.post(f"/v1/customers/{c}/merge", json={"merged_id": b}, headers=admin)
    assert twice.status_code == 409
    into_merged = await client.post(
        f"/v1/customers/{b}/merge", json={"merged_id": c}, headers=admin
    )
    assert into_merged.status_code == 409
    # Past the period the merge stays.
    async with runtime.engine.begin() as conn:
        await conn.execute(update(customer_merges).values(undo_until=customer_merges.c.merged_at))
    late = await client.post(f"/v1/merges/{first.json()['id']}/undo", headers=admin)
    assert late.status_code == 409
    assert (await client.get(f"/v1/customers/{b}", headers=admin)).json()["merged_into"] == a
    missing = await client.post(f"/v1/merges/{uuid.uuid4()}/undo", headers=admin)
    assert missing.status_code == 404
