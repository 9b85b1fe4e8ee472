import uuid

from sqlalchemy import select

from frontdesk.customers.adapters.tables import customers, messaging
from frontdesk.kit.auth import Permission
from frontdesk.kit.testing import wait_for

ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "Ada@Example.com",
    "phone": "+44 7911 123456",
}


async def test_create_normalises_contacts_and_publishes_registered(client, tokens, runtime):
    r = await client.post("/v1/customers", json=ADA, headers=tokens.headers("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == "ada@example.com"
    assert body["phone"] == "+447911123456"
    assert r.headers["etag"] == '"1"'

    async def published():
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(select(messaging.outbox))).mappings().all()
        return [row for row in rows if row["published_at"] is not None]

    rows = await wait_for(published)
    assert rows[0]["routing_key"] == "customers.customer.registered.v1"
    assert rows[0]["envelope"]["payload"]["customer_id"] == body["id"]


async def test_missing_names_and_bad_contacts_answer_problem_json(client, tokens, runtime):
    cases = [
        ({"last_name": "X", "email": "a@b.co"}, "first_name"),
        ({**ADA, "email": "not-an-email"}, "email"),
        ({**ADA, "phone": "12"}, "phone"),
        ({"first_name": "A", "last_name": "B"}, "email"),
        ({**ADA, "first_name": "   "}, "first_name"),
    ]
    for payload, field in cases:
        r = await client.post("/v1/customers", json=payload, headers=tokens.headers("admin"))
        assert r.status_code == 422, (payload, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]]
    async with runtime.engine.connect() as conn:
        assert (await conn.execute(select(customers))).all() == []


async def test_landline_is_refused_as_not_sms_capable(client, tokens):
    r = await client.post(
        "/v1/customers", json={**ADA, "phone": "+44 20 7123 4567"}, headers=tokens.headers("admin")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "phone"


async def test_patch_honours_if_match(client, tokens):
    admin = tokens.headers("admin")
    created = (await client.post("/v1/customers", json=ADA, headers=admin)).json()
    url = f"/v1/customers/{created['id']}"
    ok = await client.patch(
        url, json={"first_name": "Augusta"}, headers={**admin, "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = await client.patch(
        url, json={"first_name": "Ada"}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (await client.get(url, headers=admin)).json()["first_name"] == "Augusta"


async def test_another_tenants_customer_is_not_found(client, tokens):
    created = (await client.post("/v1/customers", json=ADA, headers=tokens.headers())).json()
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    url = f"/v1/customers/{created['id']}"
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.patch(url, json={"first_name": "X"}, headers=other)).status_code == 404
    assert (await client.delete(url, headers=other)).status_code == 404
    assert (await client.get(url, headers=tokens.headers())).json()["first_name"] == "Ada"


async def test_staff_needs_add_participants_to_create(client, tokens):
    r = await client.post("/v1/customers", json=ADA, headers=tokens.headers("staff"))
    assert r.status_code == 403
    r = await client.post(
        "/v1/customers", json=ADA, headers=tokens.headers("staff", Permission.add_participants)
    )
    assert r.status_code == 201


async def test_customer_token_sees_only_itself(client, tokens):
    admin = tokens.headers()
    mine = (await client.post("/v1/customers", json=ADA, headers=admin)).json()
    theirs = (
        await client.post("/v1/customers", json={**ADA, "email": "b@example.com"}, headers=admin)
    ).json()
    me = tokens.headers("customer", sub=mine["id"])
    assert (await client.get(f"/v1/customers/{mine['id']}", headers=me)).status_code == 200
    assert (await client.get(f"/v1/customers/{theirs['id']}", headers=me)).status_code == 404
    r = await client.patch(f"/v1/customers/{mine['id']}", json={"status": "vip"}, headers=me)
    assert r.status_code == 403
    r = await client.patch(f"/v1/customers/{mine['id']}", json={"first_name": "Ada M."}, headers=me)
    assert r.status_code == 200 and r.json()["first_name"] == "Ada M."


async def test_unknown_query_parameter_is_rejected(client, tokens):
    created = (await client.post("/v1/customers", json=ADA, headers=tokens.headers())).json()
    r = await client.get(f"/v1/customers/{created['id']}?colour=red", headers=tokens.headers())
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "colour", "message": "unknown parameter"}]


async def test_no_token_is_401(client):
    r = await client.get(f"/v1/customers/{uuid.uuid4()}")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_openapi_documents_every_route(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/v1/customers",
        "/v1/customers/stats",
        "/v1/customers/export.csv",
        "/v1/customers/bulk",
        "/v1/customers/find-or-create",
        "/v1/customers/me",
        "/v1/customers/{customer_id}/notes",
        "/v1/customers/{customer_id}/activity",
        "/v1/customers/{customer_id}/erasure",
        "/v1/customers/{customer_id}/data",
    ):
        assert path in paths, path
