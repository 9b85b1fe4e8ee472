"""Issue 9: bad input is a 4xx naming its field, never a 500 and never a change.

Text without NUL, bidi overrides or zero-width characters; strict integers and
booleans; date-times within what can be stored (and sums of them too); cursors only
as this service signed them, of the right shape.
"""

import base64
import uuid

import orjson

from frontdesk.kit.pagination import encode_cursor

from .helpers import grant, make_plan, make_product, row_counts

BAD_TEXT = {"nul": "a\u0000b", "bidi": "abc\u202etxt.exe", "zero-width": "\u200b=1+1"}
TABLES = (
    "credit_products",
    "credit_packages",
    "credit_history",
    "membership_plans",
    "memberships",
    "membership_history",
    "outbox",
)


async def counts(runtime, tenant_id):
    return await row_counts(runtime, tenant_id, TABLES)


def assert_names(r, field, code=422):
    assert r.status_code == code, r.text
    assert r.headers["content-type"] == "application/problem+json", r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.text


async def test_invisible_and_control_characters_in_free_text_are_refused(client, tokens, runtime):
    product = await make_product(client, tokens)
    package = await grant(client, tokens, uuid.uuid4(), 5)
    plan = await make_plan(client, tokens)
    membership = (
        await client.post(
            "/v1/memberships",
            json={"customer_id": str(uuid.uuid4()), "plan_id": plan["id"]},
            headers=tokens.headers(),
        )
    ).json()
    pkg, mem = f"/v1/credit-packages/{package['id']}", f"/v1/memberships/{membership['id']}"
    product_body = {"name": "x", "credits": 1, "price_minor": 1}
    plan_body = {"name": "x", "discount_percent": 1, "duration_days": 1}
    cases = [  # (method, url, body with {} where the text goes, field)
        ("post", "/v1/credit-products", {**product_body, "name": {}}, "name"),
        ("post", "/v1/credit-products", {**product_body, "description": {}}, "description"),
        ("patch", f"/v1/credit-products/{product['id']}", {"name": {}}, "name"),
        ("post", "/v1/membership-plans", {**plan_body, "name": {}}, "name"),
        ("post", "/v1/membership-plans", {**plan_body, "priority_label": {}}, "priority_label"),
        (
            "post",
            "/v1/membership-plans",
            {**plan_body, "included_services": ["sauna", {}]},
            "included_services.1",
        ),
        (
            "post",
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 1, "name": {}},
            "name",
        ),
        (
            "post",
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 1, "reason": {}},
            "reason",
        ),
        ("patch", pkg, {"name": {}}, "name"),
        ("patch", pkg, {"name": "ok", "reason": {}}, "reason"),
        ("post", f"{pkg}/top-up", {"credits": 1, "reason": {}}, "reason"),
        ("post", f"{pkg}/deduct", {"credits": 1, "reason": {}}, "reason"),
        ("post", f"{pkg}/pause", {"reason": {}}, "reason"),
        ("post", f"{pkg}/extend", {"days": 1, "reason": {}}, "reason"),
        (
            "post",
            "/v1/memberships",
            {"customer_id": str(uuid.uuid4()), "plan_id": plan["id"], "reason": {}},
            "reason",
        ),
        ("post", f"{mem}/freeze", {"reason": {}}, "reason"),
        ("post", f"{mem}/upgrade", {"plan_id": plan["id"], "reason": {}}, "reason"),
    ]
    before = await counts(runtime, tokens.tenant_id)
    for method, url, body, field in cases:
        for kind, bad in BAD_TEXT.items():
            filled = {
                k: bad
                if v == {}
                else [bad if i == {} else i for i in v]
                if isinstance(v, list)
                else v
                for k, v in body.items()
            }
            r = await client.request(method, url, json=filled, headers=tokens.headers())
            assert r.status_code == 422, (kind, url, field, r.text)
            assert_names(r, field)
    assert await counts(runtime, tokens.tenant_id) == before
    # Line breaks and tabs stay allowed in reasons and descriptions (they are notes).
    r = await client.post(
        f"{pkg}/pause", json={"reason": "injury:\n\tsix weeks"}, headers=tokens.headers()
    )
    assert r.status_code == 200, r.text


def forged(key) -> str:
    """A cursor of the old, unsigned shape (base64 JSON)."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


async def test_cursors_out_of_bounds_or_of_another_shape_answer_400(client, tokens):
    customer = uuid.uuid4()
    seq_lists = [
        "/v1/credit-history",
        f"/v1/memberships/history?customer_id={customer}",
    ]
    created_lists = [
        "/v1/credit-products",
        "/v1/credit-packages",
        "/v1/membership-plans",
        "/v1/memberships",
    ]
    some_id = str(uuid.uuid4())
    seq_cursors = [
        encode_cursor([2**63]),
        encode_cursor([True]),
        encode_cursor(["5"]),
        encode_cursor([1, 2]),
        encode_cursor(["2030-01-01T00:00:00+00:00", some_id]),
        forged([1]),
    ]
    created_cursors = [
        encode_cursor(["9999-12-31T23:59:59-14:00", some_id]),
        encode_cursor(["0001-01-01T00:00:00+14:00", some_id]),
        encode_cursor(["2030-01-01T00:00:00", some_id]),  # no offset
        encode_cursor([0, some_id]),
        encode_cursor(["2030-01-01T00:00:00+00:00", "not-a-uuid"]),
        encode_cursor([2**63]),
        forged(["2030-01-01T00:00:00+00:00", some_id]),
    ]
    for lists, cursors in ((seq_lists, seq_cursors), (created_lists, created_cursors)):
        for url in lists:
            for cursor in cursors:
                joiner = "&" if "?" in url else "?"
                r = await client.get(f"{url}{joiner}cursor={cursor}", headers=tokens.headers())
                assert r.status_code == 400, (url, cursor, r.text)
                assert_names(r, "cursor", 400)
    # The cursors the lists give out still page.
    for n in range(3):
        await grant(client, tokens, customer, n + 1)
    first = (await client.get("/v1/credit-history?limit=2", headers=tokens.headers())).json()
    rest = await client.get(
        f"/v1/credit-history?limit=2&cursor={first['next_cursor']}", headers=tokens.headers()
    )
    assert rest.status_code == 200 and len(rest.json()["items"]) == 1


async def test_dates_beyond_what_can_be_stored_are_refused(client, tokens, runtime):
    customer = uuid.uuid4()
    plan = await make_plan(client, tokens)
    before = await counts(runtime, tokens.tenant_id)
    for when in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00", 4102444800, "0"):
        r = await client.post(
            "/v1/credit-packages",
            json={"customer_id": str(customer), "credits": 1, "expires_at": when},
            headers=tokens.headers(),
        )
        assert_names(r, "expires_at")
        r = await client.post(
            "/v1/memberships",
            json={"customer_id": str(customer), "plan_id": plan["id"], "starts_at": when},
            headers=tokens.headers(),
        )
        assert_names(r, "starts_at")
    assert await counts(runtime, tokens.tenant_id) == before

    near = await grant(client, tokens, customer, 3, expires_at="2199-12-01T00:00:00+00:00")
    url = f"/v1/credit-packages/{near['id']}/extend"
    for body, field in [
        ({"days": 3650}, "days"),
        ({"days": 3651}, "days"),
        ({"days": 0}, "days"),
        ({"days": True}, "days"),
        ({"days": 30.0}, "days"),
        ({"expires_at": "9999-12-31T23:59:59-14:00"}, "expires_at"),
    ]:
        r = await client.post(url, json=body, headers=tokens.headers())
        assert_names(r, field)
    got = (await client.get(f"/v1/credit-packages/{near['id']}", headers=tokens.headers())).json()
    assert got["expires_at"] == near["expires_at"] and got["version"] == near["version"]
    r = await client.post(url, json={"days": 10}, headers=tokens.headers())
    assert r.status_code == 200 and r.json()["expires_at"].startswith("2199-12-11")
    # A start near the bound whose plan would end past it names starts_at.
    r = await client.post(
        "/v1/memberships",
        json={
            "customer_id": str(customer),
            "plan_id": plan["id"],
            "starts_at": "2199-12-20T00:00:00+00:00",
        },
        headers=tokens.headers(),
    )
    assert_names(r, "starts_at")


async def test_integers_and_booleans_are_strict(client, tokens, runtime, bus):
    package = await grant(client, tokens, uuid.uuid4(), 5)
    url = f"/v1/credit-packages/{package['id']}"
    product = await make_product(client, tokens)
    before = await counts(runtime, tokens.tenant_id)
    cases = [
        (f"{url}/top-up", {"credits": True}, "credits"),
        (f"{url}/top-up", {"credits": "1"}, "credits"),
        (f"{url}/top-up", {"credits": 1.0}, "credits"),
        (f"{url}/top-up", {"credits": 1, "price_minor": 100.0}, "price_minor"),
        (f"{url}/top-up", {"credits": 1, "price_minor": "100"}, "price_minor"),
        (f"{url}/deduct", {"credits": True}, "credits"),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": True},
            "credits",
        ),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 1, "validity_days": "30"},
            "validity_days",
        ),
        ("/v1/credit-products", {"name": "x", "credits": "1", "price_minor": 1}, "credits"),
        ("/v1/credit-products", {"name": "x", "credits": 1, "price_minor": 100.0}, "price_minor"),
        (
            "/v1/credit-products",
            {"name": "x", "credits": 1, "price_minor": 1, "active": "true"},
            "active",
        ),
        (
            "/v1/membership-plans",
            {"name": "x", "discount_percent": "10", "duration_days": 30},
            "discount_percent",
        ),
        (
            "/v1/membership-plans",
            {"name": "x", "discount_percent": 10, "duration_days": 30, "active": 1},
            "active",
        ),
    ]
    for target, body, field in cases:
        r = await client.post(target, json=body, headers=tokens.headers())
        assert_names(r, field)
    r = await client.patch(
        f"/v1/credit-products/{product['id']}", json={"active": 0}, headers=tokens.headers()
    )
    assert_names(r, "active")
    assert await counts(runtime, tokens.tenant_id) == before
    got = (await client.get(url, headers=tokens.headers())).json()
    assert got["balance"] == 5 and got["version"] == package["version"]
    assert await bus.outbox("credits.package.topped_up.v1") == []


async def test_delete_of_a_catalogue_entry_is_documented_as_retiring_it(client, tokens):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/credit-products/{product_id}", "/v1/membership-plans/{plan_id}"):
        delete = paths[path]["delete"]
        assert delete["summary"].startswith("Retire"), delete
        assert "not deleted" in delete["summary"] and "not deleted" in delete["description"]
    # and the answers a route gives beyond the common ones are listed
    assert "412" in paths["/v1/credit-packages/{package_id}"]["patch"]["responses"]
    assert "409" in paths["/v1/credit-packages/{package_id}/top-up"]["post"]["responses"]
    assert "409" in paths["/v1/memberships/{membership_id}/freeze"]["post"]["responses"]
    # Retiring keeps the entry: staff still read it, inactive.
    product = await make_product(client, tokens)
    url = f"/v1/credit-products/{product['id']}"
    assert (await client.delete(url, headers=tokens.headers())).status_code == 204
    r = await client.get(url, headers=tokens.headers())
    assert r.status_code == 200 and r.json()["active"] is False
