"""Households (C14): a member linked to one payer, no cycles, shown on both records,
announced by HouseholdLinked / HouseholdUnlinked."""

import uuid

from sqlalchemy import select

from frontdesk.customers.adapters.tables import messaging


async def person(client, tokens, first, email):
    body = {"first_name": first, "last_name": "Byron", "email": email}
    r = await client.post("/v1/customers", json=body, headers=tokens.headers())
    return r.json()["id"]


async def published(runtime, key):
    async with runtime.engine.connect() as conn:
        rows = (
            (await conn.execute(select(messaging.outbox).order_by(messaging.outbox.c.seq)))
            .mappings()
            .all()
        )
    return [
        (r["envelope"]["aggregate_version"], r["envelope"]["payload"])
        for r in rows
        if r["routing_key"] == key
    ]


async def test_link_show_on_both_and_unlink(client, tokens, runtime):
    admin = tokens.headers()
    mum = await person(client, tokens, "Anne", "anne@example.com")
    kid = await person(client, tokens, "Ada", "ada@example.com")
    r = await client.post(
        f"/v1/customers/{mum}/household",
        json={"member_id": kid, "relation": " Child "},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert [(m["customer_id"], m["relation"]) for m in r.json()["members"]] == [(kid, "child")]
    seen_by_kid = (await client.get(f"/v1/customers/{kid}/household", headers=admin)).json()
    assert seen_by_kid["payer"]["customer_id"] == mum and seen_by_kid["members"] == []
    assert (await client.get(f"/v1/customers/{kid}", headers=admin)).json()["household"] == {
        "payer_id": mum,
        "member_ids": [],
    }
    assert (await client.get(f"/v1/customers/{mum}", headers=admin)).json()["household"] == {
        "payer_id": None,
        "member_ids": [kid],
    }
    # The child's own token sees its household; another tenant sees nothing.
    mine = await client.get(
        f"/v1/customers/{kid}/household", headers=tokens.headers("customer", sub=kid)
    )
    assert mine.status_code == 200
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (await client.get(f"/v1/customers/{kid}/household", headers=other)).status_code == 404

    gone = await client.delete(f"/v1/customers/{mum}/household/{kid}", headers=admin)
    assert gone.status_code == 204
    assert (await client.get(f"/v1/customers/{mum}/household", headers=admin)).json() == {
        "payer": None,
        "members": [],
    }
    again = await client.delete(f"/v1/customers/{mum}/household/{kid}", headers=admin)
    assert again.status_code == 404
    relinked = await client.post(
        f"/v1/customers/{mum}/household", json={"member_id": kid}, headers=admin
    )
    assert relinked.status_code == 201
    linked = await published(runtime, "customers.household.linked.v1")
    unlinked = await published(runtime, "customers.household.unlinked.v1")
    assert [v for v, _ in linked] == [1, 3] and [v for v, _ in unlinked] == [2]
    assert linked[0][1] == {"payer_id": mum, "member_id": kid, "relation": "child"}
    assert unlinked[0][1] == {"payer_id": mum, "member_id": kid}


async def test_one_payer_no_cycles_no_self(client, tokens):
    admin = tokens.headers()
    gran = await person(client, tokens, "Judith", "judith@example.com")
    mum = await person(client, tokens, "Anne", "anne@example.com")
    kid = await person(client, tokens, "Ada", "ada@example.com")

    async def link(payer, member):
        return await client.post(
            f"/v1/customers/{payer}/household", json={"member_id": member}, headers=admin
        )

    assert (await link(gran, mum)).status_code == 201
    assert (await link(mum, kid)).status_code == 201
    # A second payer, the same link twice, a cycle (however far up), oneself: refused.
    assert (await link(gran, kid)).status_code == 409
    assert (await link(mum, kid)).status_code == 409
    cycle = await link(kid, gran)
    assert cycle.status_code == 409 and "cycle" in cycle.json()["detail"]
    assert (await link(mum, gran)).status_code == 409
    itself = await link(kid, kid)
    assert itself.status_code == 422 and itself.json()["errors"][0]["field"] == "member_id"
    unknown = await link(mum, str(uuid.uuid4()))
    assert unknown.status_code == 404
    assert (await link(str(uuid.uuid4()), kid)).status_code == 404
    bad = await client.post(
        f"/v1/customers/{mum}/household", json={"member_id": "x"}, headers=admin
    )
    assert bad.status_code == 422
    plain = tokens.headers("staff")
    r = await client.post(f"/v1/customers/{kid}/household", json={"member_id": gran}, headers=plain)
    assert r.status_code == 403
