import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from frontdesk.credits.adapters.tables import credit_packages
from frontdesk.credits.app import sweep_expired
from frontdesk.credits.application import packages
from frontdesk.kit.auth import Permission

from .helpers import acting, grant, make_product


async def test_product_crud_and_customers_see_only_active(client, tokens):
    admin = tokens.headers("admin")
    product = await make_product(client, tokens)
    retired = await make_product(client, tokens, name="Old")
    r = await client.patch(
        f"/v1/credit-products/{product['id']}",
        json={"price_minor": 8900},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["price_minor"] == 8900
    assert r.headers["etag"] == '"2"'
    assert (
        await client.delete(f"/v1/credit-products/{retired['id']}", headers=admin)
    ).status_code == 204
    me = tokens.headers("customer", sub=uuid.uuid4())
    listed = (await client.get("/v1/credit-products", headers=me)).json()["items"]
    assert [p["id"] for p in listed] == [product["id"]]
    assert (await client.get(f"/v1/credit-products/{retired['id']}", headers=me)).status_code == 404
    assert len((await client.get("/v1/credit-products", headers=admin)).json()["items"]) == 2


async def test_staff_needs_manage_credits(client, tokens):
    body = {"name": "5", "credits": 5, "price_minor": 0}
    assert (
        await client.post("/v1/credit-products", json=body, headers=tokens.headers("staff"))
    ).status_code == 403
    r = await client.post(
        "/v1/credit-products", json=body, headers=tokens.headers("staff", Permission.manage_credits)
    )
    assert r.status_code == 201
    r = await client.post(
        "/v1/credit-packages",
        json={"customer_id": str(uuid.uuid4()), "credits": 3},
        headers=tokens.headers("staff"),
    )
    assert r.status_code == 403


async def test_bad_input_answers_problem_json_naming_the_field(client, tokens, runtime):
    admin = tokens.headers("admin")
    cases = [
        ("/v1/credit-products", {"name": "x", "credits": 0, "price_minor": 1}, "credits"),
        ("/v1/credit-products", {"name": "x", "credits": 1, "price_minor": -1}, "price_minor"),
        (
            "/v1/credit-products",
            {"name": "x", "credits": 1, "price_minor": 1, "currency": "euro"},
            "currency",
        ),
        (  # three capitals, but no currency ISO 4217 knows
            "/v1/credit-products",
            {"name": "x", "credits": 1, "price_minor": 1, "currency": "ZZZ"},
            "currency",
        ),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 1, "name": "x", "currency": "XXX"},
            "currency",
        ),
        ("/v1/credit-products", {"name": "  ", "credits": 1, "price_minor": 1}, "name"),
        (
            "/v1/credit-products",
            {"name": "x", "credits": 1, "price_minor": 1, "validity_days": 0},
            "validity_days",
        ),
        ("/v1/credit-products", {"name": "x", "credits": "many", "price_minor": 1}, "credits"),
        (
            "/v1/credit-products",
            {"name": "x", "credits": 1, "price_minor": 1, "colour": 1},
            "colour",
        ),
        ("/v1/credit-packages", {"credits": 5}, "customer_id"),
        ("/v1/credit-packages", {"customer_id": "nope", "credits": 5}, "customer_id"),
        ("/v1/credit-packages", {"customer_id": str(uuid.uuid4()), "credits": -5}, "credits"),
        ("/v1/credit-packages", {"customer_id": str(uuid.uuid4())}, "product_id"),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "product_id": str(uuid.uuid4())},
            "product_id",
        ),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 5, "expires_at": "2020-01-01T00:00:00Z"},
            "expires_at",
        ),
        (
            "/v1/credit-packages",
            {"customer_id": str(uuid.uuid4()), "credits": 5, "expires_at": "2030-01-01T00:00:00"},
            "expires_at",
        ),
        (
            "/v1/membership-plans",
            {"name": "Gold", "discount_percent": 101, "duration_days": 30},
            "discount_percent",
        ),
        (
            "/v1/membership-plans",
            {"name": "Gold", "discount_percent": 10, "duration_days": -1},
            "duration_days",
        ),
        (
            "/v1/memberships",
            {"customer_id": str(uuid.uuid4()), "plan_id": str(uuid.uuid4())},
            "plan_id",
        ),
    ]
    for url, payload, field in cases:
        r = await client.post(url, json=payload, headers=admin)
        assert 400 <= r.status_code < 500, (payload, r.text)
        assert r.headers["content-type"] == "application/problem+json", r.text
        assert field in [e["field"] for e in r.json()["errors"]], (payload, r.text)
    r = await client.post(
        "/v1/credit-packages",
        json={"customer_id": str(uuid.uuid4()), "credits": 5},
        headers={**admin, "Idempotency-Key": "k" * 300},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = await client.get("/v1/credit-history?cursor=%%%", headers=admin)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"
    async with runtime.engine.connect() as conn:
        for table in (
            "credit_products",
            "credit_packages",
            "credit_history",
            "memberships",
            "outbox",
            "idempotency_keys",
        ):
            assert (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                    {"t": tokens.tenant_id},
                )
            ).scalar() == 0


async def test_idempotent_purchase(client, tokens, runtime):
    product = await make_product(client, tokens)
    customer = uuid.uuid4()
    headers = {**tokens.headers("admin"), "Idempotency-Key": "buy-1"}
    body = {"customer_id": str(customer), "product_id": product["id"]}
    first, second = await asyncio.gather(
        client.post("/v1/credit-packages", json=body, headers=headers),
        client.post("/v1/credit-packages", json=body, headers=headers),
    )
    codes = sorted([first.status_code, second.status_code])
    assert codes == [200, 201], (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    third = await client.post("/v1/credit-packages", json=body, headers=headers)
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"]
    other = await client.post(
        "/v1/credit-packages", json={**body, "customer_id": str(uuid.uuid4())}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    listed = (
        await client.get(
            f"/v1/credit-packages?customer_id={customer}", headers=tokens.headers("admin")
        )
    ).json()["items"]
    assert len(listed) == 1
    balance = (
        await client.get(
            f"/v1/credit-packages/balance?customer_id={customer}", headers=tokens.headers("admin")
        )
    ).json()
    assert balance["available"] == 10 and balance["purchased_total"] == 10
    async with runtime.engine.connect() as conn:
        purchased = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM outbox "
                    "WHERE routing_key = 'credits.package.purchased.v1' "
                    "AND tenant_id = :t"
                ),
                {"t": tokens.tenant_id},
            )
        ).scalar()
    assert purchased == 1


async def test_top_up_deduct_history_with_who_and_why(client, tokens):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 5, reason="welcome gift")
    staff = tokens.headers("staff", Permission.manage_credits, sub="desk-anna")
    url = f"/v1/credit-packages/{package['id']}"
    r = await client.post(f"{url}/top-up", json={"credits": 3, "reason": "goodwill"}, headers=staff)
    assert r.status_code == 200 and r.json()["balance"] == 8
    r = await client.post(f"{url}/deduct", json={"credits": 9}, headers=staff)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "credits"
    r = await client.post(
        f"{url}/deduct", json={"credits": 2, "reason": "correction"}, headers=staff
    )
    assert r.json()["balance"] == 6
    r = await client.patch(url, json={"name": "Spring pack"}, headers=staff)
    assert r.json()["name"] == "Spring pack"
    history = (
        await client.get(f"/v1/credit-history?customer_id={customer}", headers=staff)
    ).json()["items"]
    assert [(h["kind"], h["delta"], h["balance_after"], h["reason"]) for h in history] == [
        ("grant", 5, 5, "welcome gift"),
        ("top_up", 3, 8, "goodwill"),
        ("deduct", -2, 6, "correction"),
        ("renamed", 0, 6, "renamed from '5 credits'"),
    ]
    assert [h["actor"] for h in history[1:]] == ["desk-anna"] * 3
    assert history[-1]["available_after"] == 6


async def test_balance_cannot_go_negative_in_the_database(client, tokens, runtime):
    package = await grant(client, tokens, uuid.uuid4(), 2)
    async with runtime.engine.connect() as conn:
        try:
            await conn.execute(
                text("UPDATE credit_packages SET balance = -1 WHERE id = :id"),
                {"id": package["id"]},
            )
        except Exception as error:
            assert "balance_not_negative" in str(error)
        else:
            raise AssertionError("the CHECK constraint let a negative balance through")
        await conn.rollback()
        try:
            await conn.execute(text("DELETE FROM credit_history"))
        except Exception as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("history rows could be deleted")


async def test_pause_and_resume_move_the_expiry_by_the_paused_time(client, tokens, runtime):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 4, validity_days=30)
    expires = datetime.fromisoformat(package["expires_at"])
    t0 = datetime.now(UTC)
    async with runtime.uow() as uow:
        paused = await packages.pause(uow, acting(tokens), uuid.UUID(package["id"]), now=t0)
        await uow.commit()
    assert paused.status == "paused"
    # Paused packages are not swept even past their expiry.
    await sweep_expired(runtime)
    async with runtime.uow() as uow:
        resumed = await packages.resume(
            uow,
            acting(tokens),
            uuid.UUID(package["id"]),
            now=t0 + timedelta(days=10, hours=3),
        )
        await uow.commit()
    assert resumed.expires_at == expires + timedelta(days=10, hours=3)
    assert resumed.status == "active" and resumed.paused_at is None
    # And over HTTP, the same rule with the real clock.
    url = f"/v1/credit-packages/{package['id']}"
    p = (await client.post(f"{url}/pause", headers=tokens.headers())).json()
    balance = (
        await client.get(
            f"/v1/credit-packages/balance?customer_id={customer}", headers=tokens.headers()
        )
    ).json()
    assert balance["paused"] == 4 and balance["available"] == 0
    r = await client.post(f"{url}/pause", headers=tokens.headers())
    assert r.status_code == 409
    q = (
        await client.post(
            f"{url}/resume", json={"reason": "back from injury"}, headers=tokens.headers()
        )
    ).json()
    moved = datetime.fromisoformat(q["expires_at"]) - datetime.fromisoformat(p["expires_at"])
    assert timedelta(0) < moved < timedelta(seconds=5)
    kinds = [
        h["kind"]
        for h in (
            await client.get(
                f"/v1/credit-history?package_id={package['id']}", headers=tokens.headers()
            )
        ).json()["items"]
    ]
    assert kinds == ["grant", "paused", "resumed", "paused", "resumed"]


async def test_sweep_expires_packages_and_extend_brings_them_back(client, tokens, runtime):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 6, validity_days=5)
    keep = await grant(client, tokens, customer, 2)  # never expires
    counts = await sweep_expired(runtime)
    assert counts["packages"] == 0
    future = datetime.now(UTC) + timedelta(days=6)
    from frontdesk.credits.application.packages import expire_due_packages

    assert await expire_due_packages(runtime.uow, now=future) == 1
    async with runtime.engine.connect() as conn:
        rows = {r.id: r for r in (await conn.execute(select(credit_packages))).all()}
    assert rows[uuid.UUID(package["id"])].status == "expired"
    assert rows[uuid.UUID(package["id"])].balance == 0
    assert rows[uuid.UUID(keep["id"])].status == "active"
    r = await client.post(
        f"/v1/credit-packages/{package['id']}/extend", json={"days": 30}, headers=tokens.headers()
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["balance"] == 6
    r = await client.post(
        f"/v1/credit-packages/{package['id']}/extend",
        json={"expires_at": "2001-01-01T00:00:00Z"},
        headers=tokens.headers(),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "expires_at"
    kinds = [
        h["kind"]
        for h in (
            await client.get(
                f"/v1/credit-history?package_id={package['id']}", headers=tokens.headers()
            )
        ).json()["items"]
    ]
    assert kinds == ["grant", "expired", "reactivated"]


async def test_customer_token_sees_and_buys_only_its_own(client, tokens):
    product = await make_product(client, tokens)
    me, other = uuid.uuid4(), uuid.uuid4()
    theirs = await grant(client, tokens, other, 3)
    mine_headers = tokens.headers("customer", sub=me)
    r = await client.post(
        "/v1/credit-packages", json={"product_id": product["id"]}, headers=mine_headers
    )
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["customer_id"] == str(me) and mine["price_minor"] == 9900
    r = await client.post("/v1/credit-packages", json={"credits": 100}, headers=mine_headers)
    assert r.status_code == 422
    r = await client.post(
        "/v1/credit-packages",
        json={"product_id": product["id"], "customer_id": str(other)},
        headers=mine_headers,
    )
    assert r.status_code == 404
    listed = (await client.get("/v1/credit-packages", headers=mine_headers)).json()["items"]
    assert [p["id"] for p in listed] == [mine["id"]]
    assert (
        await client.get(f"/v1/credit-packages?customer_id={other}", headers=mine_headers)
    ).status_code == 404
    assert (
        await client.get(f"/v1/credit-packages/{theirs['id']}", headers=mine_headers)
    ).status_code == 404
    assert (
        await client.get(f"/v1/credit-history?customer_id={other}", headers=mine_headers)
    ).status_code == 404
    history = (await client.get("/v1/credit-history", headers=mine_headers)).json()["items"]
    assert [h["customer_id"] for h in history] == [str(me)]
    r = await client.post(
        f"/v1/credit-packages/{mine['id']}/top-up", json={"credits": 5}, headers=mine_headers
    )
    assert r.status_code == 403


async def test_another_tenant_sees_nothing(client, tokens):
    package = await grant(client, tokens, uuid.uuid4(), 3)
    other = tokens.headers("admin", tenant_id=uuid.uuid4())
    url = f"/v1/credit-packages/{package['id']}"
    assert (await client.get(url, headers=other)).status_code == 404
    assert (
        await client.post(f"{url}/top-up", json={"credits": 1}, headers=other)
    ).status_code == 404
    assert (await client.get("/v1/credit-packages", headers=other)).json()["items"] == []


async def test_lists_page_with_cursors_and_filters(client, tokens):
    for n in range(3):
        await make_product(client, tokens, name=f"P{n}")
    admin = tokens.headers()
    first = (await client.get("/v1/credit-products?limit=2", headers=admin)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(
            f"/v1/credit-products?limit=2&cursor={first['next_cursor']}", headers=admin
        )
    ).json()
    assert [p["name"] for p in first["items"] + second["items"]] == ["P0", "P1", "P2"]
    assert second["next_cursor"] is None
    # a page that holds exactly the rest says so: no cursor to an empty page
    whole = (await client.get("/v1/credit-products?limit=3", headers=admin)).json()
    assert len(whole["items"]) == 3 and whole["next_cursor"] is None
    customer = uuid.uuid4()
    a = await grant(client, tokens, customer, 1)
    await grant(client, tokens, customer, 2)
    await client.post(f"/v1/credit-packages/{a['id']}/pause", headers=admin)
    r = await client.get(f"/v1/credit-packages?customer_id={customer}&status=paused", headers=admin)
    assert [p["id"] for p in r.json()["items"]] == [a["id"]]
    r = await client.get("/v1/credit-packages?status=sleeping", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = await client.get("/v1/credit-packages?colour=red", headers=admin)
    assert r.status_code == 400


async def test_openapi_renders(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert "/v1/credit-packages/{package_id}/resume" in r.json()["paths"]
