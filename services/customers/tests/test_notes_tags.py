"""Notes (C8) with their permission rules, and tags (C9)."""

import uuid

from frontdesk.kit.auth import Permission

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
VIEW = Permission.view_notes


async def customer(client, tokens):
    return (await client.post("/v1/customers", json=ADA, headers=tokens.headers())).json()["id"]


async def test_timeline_pinned_first_then_newest_with_author(client, tokens):
    cid = await customer(client, tokens)
    trainer = tokens.headers("staff", VIEW, sub="trainer-1", name="Tina Trainer")
    url = f"/v1/customers/{cid}/notes"
    first = await client.post(url, json={"text": "Has knee problems"}, headers=trainer)
    assert first.status_code == 201, first.text
    assert first.json()["author"] == {"sub": "trainer-1", "name": "Tina Trainer"}
    await client.post(url, json={"text": "Prefers the 6 pm class"}, headers=trainer)
    await client.post(
        url,
        json={"text": "Special conditions until March", "pinned": True},
        headers=tokens.headers("admin", sub="boss", name="Bea Boss"),
    )
    texts = [n["text"] for n in (await client.get(url, headers=trainer)).json()]
    assert texts == [
        "Special conditions until March",
        "Prefers the 6 pm class",
        "Has knee problems",
    ]
    # Pin the oldest: it moves to the top; unpin: back in its place.
    pin = await client.patch(f"{url}/{first.json()['id']}", json={"pinned": True}, headers=trainer)
    assert pin.status_code == 200 and pin.json()["pinned"] is True
    texts = [n["text"] for n in (await client.get(url, headers=trainer)).json()]
    assert texts[1] == "Has knee problems" and texts[0] == "Special conditions until March"
    await client.patch(f"{url}/{first.json()['id']}", json={"pinned": False}, headers=trainer)
    texts = [n["text"] for n in (await client.get(url, headers=trainer)).json()]
    assert texts[-1] == "Has knee problems"


async def test_who_may_see_and_add_notes(client, tokens):
    cid = await customer(client, tokens)
    url = f"/v1/customers/{cid}/notes"
    await client.post(url, json={"text": "Team note"}, headers=tokens.headers())
    plain_staff = tokens.headers("staff", Permission.add_participants)
    assert (await client.get(url, headers=plain_staff)).status_code == 403
    assert (await client.post(url, json={"text": "x"}, headers=plain_staff)).status_code == 403
    me = tokens.headers("customer", sub=cid)
    assert (await client.get(url, headers=me)).status_code in (403, 404)
    assert (await client.post(url, json={"text": "x"}, headers=me)).status_code in (403, 404)
    assert len((await client.get(url, headers=tokens.headers("owner"))).json()) == 1
    other_tenant = tokens.headers("admin", tenant_id=uuid.uuid4())
    assert (await client.get(url, headers=other_tenant)).status_code == 404


async def test_private_notes_are_for_their_author_only(client, tokens):
    cid = await customer(client, tokens)
    url = f"/v1/customers/{cid}/notes"
    mentor = tokens.headers("staff", VIEW, sub="mentor")
    await client.post(
        url, json={"text": "Wedding in August", "visibility": "private"}, headers=mentor
    )
    await client.post(url, json={"text": "Team knows this"}, headers=mentor)
    assert len((await client.get(url, headers=mentor)).json()) == 2
    for other in (
        tokens.headers("admin", sub="admin"),
        tokens.headers("owner", sub="owner"),
        tokens.headers("staff", VIEW, sub="colleague"),
    ):
        assert [n["text"] for n in (await client.get(url, headers=other)).json()] == [
            "Team knows this"
        ]


async def test_only_the_author_deletes(client, tokens):
    cid = await customer(client, tokens)
    url = f"/v1/customers/{cid}/notes"
    author = tokens.headers("staff", VIEW, sub="author")
    note = (await client.post(url, json={"text": "Mine"}, headers=author)).json()
    for other in (tokens.headers("admin", sub="admin"), tokens.headers("staff", VIEW, sub="x")):
        r = await client.delete(f"{url}/{note['id']}", headers=other)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert (await client.delete(f"{url}/{note['id']}", headers=author)).status_code == 204
    assert (await client.get(url, headers=author)).json() == []
    assert (await client.delete(f"{url}/{note['id']}", headers=author)).status_code == 404


async def test_note_text_is_checked(client, tokens):
    cid = await customer(client, tokens)
    url = f"/v1/customers/{cid}/notes"
    admin = tokens.headers()
    for body in ({"text": "x" * 2001}, {"text": ""}, {"text": "   "}):
        r = await client.post(url, json=body, headers=admin)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["field"] == "text"
    assert (await client.post(url, json={"text": "x" * 2000}, headers=admin)).status_code == 201
    r = await client.post(url, json={"text": "x", "visibility": "public"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visibility"
    assert len((await client.get(url, headers=admin)).json()) == 1
    r = await client.post(f"/v1/customers/{uuid.uuid4()}/notes", json={"text": "x"}, headers=admin)
    assert r.status_code == 404


async def test_tags_add_remove_and_filter(client, tokens):
    cid = await customer(client, tokens)
    admin = tokens.headers()
    r = await client.put(f"/v1/customers/{cid}/tags/Pre%2FPostnatal", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == ["pre/postnatal"]
    r = await client.put(f"/v1/customers/{cid}/tags/%20Injury%20", headers=admin)
    assert r.json()["tags"] == ["injury", "pre/postnatal"]
    again = await client.put(f"/v1/customers/{cid}/tags/injury", headers=admin)
    assert again.json()["version"] == r.json()["version"]  # nothing changed
    listed = (await client.get("/v1/customers?tag=INJURY", headers=admin)).json()["items"]
    assert [i["id"] for i in listed] == [cid]
    r = await client.delete(f"/v1/customers/{cid}/tags/INJURY", headers=admin)
    assert r.json()["tags"] == ["pre/postnatal"]
    assert (await client.get("/v1/customers?tag=injury", headers=admin)).json()["items"] == []
    assert (
        await client.put(f"/v1/customers/{cid}/tags/{'x' * 60}", headers=admin)
    ).status_code == 422
    staff = tokens.headers("staff")
    assert (await client.put(f"/v1/customers/{cid}/tags/vip", headers=staff)).status_code == 403


async def test_customer_self_service(client, tokens):
    cid = await customer(client, tokens)
    me = tokens.headers("customer", sub=cid)
    r = await client.get("/v1/customers/me", headers=me)
    assert r.status_code == 200 and r.json()["id"] == cid
    assert r.json()["possible_duplicates"] == []
    assert (await client.get("/v1/customers/me", headers=tokens.headers())).status_code == 404
    for method, url in (
        ("GET", "/v1/customers"),
        ("GET", "/v1/customers/export.csv"),
        ("POST", "/v1/customers/bulk"),
    ):
        r = await client.request(
            method, url, headers=me, json={"ids": [cid], "action": "add_tag", "tag": "x"}
        )
        assert r.status_code == 403, url
    assert (await client.put(f"/v1/customers/{cid}/tags/x", headers=me)).status_code == 403
