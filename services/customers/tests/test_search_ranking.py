"""Issue 16: a search is ranked by relevance (a substring match first, then by similarity)
and pages through its matches once; the list also sorts by registration."""


async def make(client, tokens, first, last, email):
    body = {"first_name": first, "last_name": last, "email": email}
    r = await client.post("/v1/customers", json=body, headers=tokens.headers())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def pages(client, tokens, query):
    seen, cursor = [], None
    for _ in range(20):
        url = f"/v1/customers?{query}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=tokens.headers("staff"))).json()
        seen += [f"{i['first_name']} {i['last_name']}" for i in body["items"]]
        if not (cursor := body["next_cursor"]):
            return seen
    raise AssertionError("no last page")


async def test_a_search_is_ranked_and_pages_through_its_matches_once(client, tokens):
    await make(client, tokens, "Ada", "Lovelace", "ada@example.com")
    await make(client, tokens, "Augusta", "Lovelace", "augusta@example.com")
    await make(client, tokens, "Lovell", "Smith", "ls@example.com")
    await make(client, tokens, "Grace", "Hopper", "lovelace.fan@example.org")
    await make(client, tokens, "Alan", "Turing", "alan@example.com")
    ranked = await pages(client, tokens, "q=lovelace")
    # The name itself, then the email that holds it, then a similar word (Lovell).
    assert set(ranked[:2]) == {"Ada Lovelace", "Augusta Lovelace"}
    assert ranked[2:] == ["Grace Hopper", "Lovell Smith"]
    typo = await pages(client, tokens, "q=lovlace")
    assert set(typo[:2]) == {"Ada Lovelace", "Augusta Lovelace"} and "Alan Turing" not in typo
    # The same search in another order, asked for.
    by_name = await pages(client, tokens, "q=lovelace&sort=last_name")
    assert [n.split()[1] for n in by_name] == ["Hopper", "Lovelace", "Lovelace", "Smith"]


async def test_relevance_needs_a_search(client, tokens):
    r = await client.get("/v1/customers?sort=relevance", headers=tokens.headers("staff"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"


async def test_the_list_sorts_by_registration(client, tokens):
    names = [f"R{i}" for i in range(5)]
    for name in names:
        await make(client, tokens, name, "Reg", f"{name.lower()}@example.com")
    assert [n.split()[0] for n in await pages(client, tokens, "sort=created")] == names
    assert [n.split()[0] for n in await pages(client, tokens, "sort=-created")] == names[::-1]
