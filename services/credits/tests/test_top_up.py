"""Top-ups reach billing (PackageToppedUp through the outbox), honour Idempotency-Key;
PATCH (rename) honours If-Match."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from frontdesk.contracts import Envelope, parse
from frontdesk.contracts.credits import PackageToppedUp
from frontdesk.credits.application import packages
from frontdesk.kit.auth import Permission

from .helpers import grant, make_product, row_counts

TOPPED_UP = "credits.package.topped_up.v1"


async def history_of(client, tokens, package_id):
    r = await client.get(f"/v1/credit-history?package_id={package_id}", headers=tokens.headers())
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def counts(runtime, tenant_id):
    """Rows that a refused request must not have written."""
    return await row_counts(runtime, tenant_id, ("credit_history", "outbox", "idempotency_keys"))


async def test_a_sold_top_up_reaches_billing_with_its_price(client, tokens, bus):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 5, currency="GBP", price_minor=2500)
    staff = tokens.headers("staff", Permission.manage_credits, sub="desk-anna")
    r = await client.post(
        f"/v1/credit-packages/{package['id']}/top-up",
        json={"credits": 4, "price_minor": 1800, "reason": "four more"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["balance"] == 9 and body["credits_total"] == 9
    # The package keeps its purchase terms; the top-up's price is on its own record.
    assert body["price_minor"] == 2500
    assert r.headers["etag"] == f'"{body["version"]}"'

    [envelope] = await bus.outbox(TOPPED_UP)
    event = parse(Envelope.model_validate(envelope))
    assert isinstance(event, PackageToppedUp)
    assert event.package_id == uuid.UUID(package["id"]) and event.customer_id == customer
    assert (event.credits, event.price_minor, event.currency) == (4, 1800, "GBP")
    assert event.product_id is None and event.topped_up_by == "desk-anna"
    assert event.name == package["name"]
    # aggregate: the package; its version goes on from the purchase's.
    assert envelope["aggregate_id"] == package["id"]
    assert envelope["aggregate_version"] == body["version"] == 2
    [purchased] = await bus.outbox("credits.package.purchased.v1")
    assert purchased["aggregate_version"] == 1

    history = await history_of(client, tokens, package["id"])
    assert [(h["kind"], h["delta"], h["price_minor"], h["currency"]) for h in history] == [
        ("grant", 5, 2500, "GBP"),
        ("top_up", 4, 1800, "GBP"),
    ]
    # top_up_id names the ledger entry: one invoice per top-up, traceable both ways.
    assert str(event.top_up_id) == history[1]["id"]
    balance = (
        await client.get(
            f"/v1/credit-packages/balance?customer_id={customer}", headers=tokens.headers()
        )
    ).json()
    assert balance["available"] == 9 and balance["purchased_total"] == 9


async def test_a_top_up_from_a_product_sells_its_credits_at_its_price(client, tokens, bus):
    product = await make_product(client, tokens, credits=10, price_minor=9900, currency="EUR")
    package = await grant(client, tokens, uuid.uuid4(), 2)
    url = f"/v1/credit-packages/{package['id']}/top-up"
    r = await client.post(url, json={"product_id": product["id"]}, headers=tokens.headers())
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == 12
    [envelope] = await bus.outbox(TOPPED_UP)
    payload = envelope["payload"]
    assert (payload["credits"], payload["price_minor"], payload["currency"]) == (10, 9900, "EUR")
    assert payload["product_id"] == product["id"]
    # A retired product is no longer sold.
    await client.delete(f"/v1/credit-products/{product['id']}", headers=tokens.headers())
    r = await client.post(url, json={"product_id": product["id"]}, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "product_id"
    assert len(await bus.outbox(TOPPED_UP)) == 1


async def test_a_free_adjustment_carries_no_price(client, tokens, bus):
    package = await grant(client, tokens, uuid.uuid4(), 5, currency="CHF")
    r = await client.post(
        f"/v1/credit-packages/{package['id']}/top-up",
        json={"credits": 1, "reason": "goodwill"},
        headers=tokens.headers(),
    )
    assert r.status_code == 200, r.text
    [envelope] = await bus.outbox(TOPPED_UP)
    assert envelope["payload"]["price_minor"] == 0  # billing invoices nothing
    assert envelope["payload"]["currency"] == "CHF"
    top_up = (await history_of(client, tokens, package["id"]))[-1]
    assert (top_up["kind"], top_up["price_minor"], top_up["currency"]) == ("top_up", None, None)


async def test_a_refused_top_up_publishes_nothing(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 3, validity_days=1)
    await packages.expire_due_packages(runtime.uow, now=datetime.now(UTC) + timedelta(days=2))
    r = await client.post(
        f"/v1/credit-packages/{package['id']}/top-up",
        json={"credits": 2, "price_minor": 500},
        headers={**tokens.headers(), "Idempotency-Key": "late"},
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    assert await bus.outbox(TOPPED_UP) == []
    async with runtime.engine.connect() as conn:
        keys = (
            await conn.execute(
                text("SELECT count(*) FROM idempotency_keys WHERE tenant_id = :t"),
                {"t": tokens.tenant_id},
            )
        ).scalar()
    assert keys == 0  # the key rolled back with the refusal: it can be used again


async def test_idempotent_top_up_adds_credits_once(client, tokens, bus):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 5)
    other_package = await grant(client, tokens, customer, 1)
    url = f"/v1/credit-packages/{package['id']}/top-up"
    headers = {**tokens.headers(), "Idempotency-Key": "top-up-1"}
    body = {"credits": 3, "price_minor": 3000, "currency": "EUR"}
    first, second = await asyncio.gather(
        client.post(url, json=body, headers=headers),
        client.post(url, json=body, headers=headers),
    )
    assert {first.status_code, second.status_code} == {200}, (first.text, second.text)
    replayed = [r.headers.get("idempotent-replayed") for r in (first, second)]
    assert sorted(str(r) for r in replayed) == ["None", "true"]  # one of them replays
    third = await client.post(url, json=body, headers=headers)
    assert third.status_code == 200 and third.headers["idempotent-replayed"] == "true"
    assert third.json()["balance"] == 8  # 5 + 3, once
    # The same key for another top-up, or for another package, is refused.
    r = await client.post(url, json={**body, "credits": 4}, headers=headers)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = await client.post(
        f"/v1/credit-packages/{other_package['id']}/top-up", json=body, headers=headers
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    # A reason is not part of the request's identity (as for purchases).
    r = await client.post(url, json={**body, "reason": "again"}, headers=headers)
    assert r.status_code == 200 and r.json()["balance"] == 8
    assert len(await bus.outbox(TOPPED_UP)) == 1
    kinds = [h["kind"] for h in await history_of(client, tokens, package["id"])]
    assert kinds == ["grant", "top_up"]
    # Keys are per tenant and per kind: the same key still buys a package.
    r = await client.post(
        "/v1/credit-packages",
        json={"customer_id": str(customer), "credits": 1},
        headers=headers,
    )
    assert r.status_code == 201, r.text


async def test_bad_top_ups_answer_4xx_naming_the_field_and_change_nothing(client, tokens, runtime):
    product = await make_product(client, tokens)
    package = await grant(client, tokens, uuid.uuid4(), 5)
    before = await counts(runtime, tokens.tenant_id)
    url = f"/v1/credit-packages/{package['id']}/top-up"
    cases = [
        ({}, "credits"),
        ({"credits": 1, "product_id": product["id"]}, "credits"),
        ({"credits": 0}, "credits"),
        ({"credits": 100_001}, "credits"),
        ({"credits": "lots"}, "credits"),
        ({"credits": 1, "price_minor": -1}, "price_minor"),
        ({"credits": 1, "price_minor": 1.5}, "price_minor"),
        ({"credits": 1, "price_minor": 100, "currency": "eur"}, "currency"),
        ({"credits": 1, "currency": "EUR"}, "currency"),
        ({"product_id": product["id"], "price_minor": 1}, "price_minor"),
        ({"product_id": product["id"], "currency": "EUR"}, "currency"),
        ({"product_id": "nope"}, "product_id"),
        ({"product_id": str(uuid.uuid4())}, "product_id"),
        ({"credits": 1, "colour": "red"}, "colour"),
        ({"credits": 1, "reason": "x" * 501}, "reason"),
    ]
    for payload, field in cases:
        r = await client.post(url, json=payload, headers=tokens.headers())
        assert 400 <= r.status_code < 500, (payload, r.text)
        assert r.headers["content-type"] == "application/problem+json", r.text
        assert field in [e["field"] for e in r.json()["errors"]], (payload, r.text)
    r = await client.post(
        url, json={"credits": 1}, headers={**tokens.headers(), "Idempotency-Key": "k" * 201}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = await client.post(
        f"/v1/credit-packages/{uuid.uuid4()}/top-up",
        json={"credits": 1},
        headers={**tokens.headers(), "Idempotency-Key": "nowhere"},
    )
    assert r.status_code == 404
    assert await counts(runtime, tokens.tenant_id) == before
    got = (
        await client.get(f"/v1/credit-packages/{package['id']}", headers=tokens.headers())
    ).json()
    assert got["balance"] == 5 and got["version"] == package["version"]


async def test_patch_honours_if_match(client, tokens, runtime):
    package = await grant(client, tokens, uuid.uuid4(), 5)
    url = f"/v1/credit-packages/{package['id']}"
    admin = tokens.headers()
    got = await client.get(url, headers=admin)
    assert got.headers["etag"] == '"1"'
    r = await client.patch(url, json={"name": "Spring"}, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["name"] == "Spring"
    assert r.headers["etag"] == '"2"'
    before = await counts(runtime, tokens.tenant_id)
    stale = await client.patch(url, json={"name": "Summer"}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    assert stale.headers["etag"] == '"2"'
    assert stale.headers["content-type"] == "application/problem+json"
    assert await counts(runtime, tokens.tenant_id) == before
    assert (await client.get(url, headers=admin)).json()["name"] == "Spring"
    # Any other change moves the ETag too: a top-up makes an edit read before it stale.
    top = await client.post(f"{url}/top-up", json={"credits": 1}, headers=admin)
    assert top.headers["etag"] == '"3"'
    r = await client.patch(url, json={"name": "Summer"}, headers={**admin, "If-Match": '"2"'})
    assert r.status_code == 412 and r.headers["etag"] == '"3"'
    # "*" matches any version; without If-Match the edit goes through as before.
    r = await client.patch(url, json={"name": "Summer"}, headers={**admin, "If-Match": "*"})
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    r = await client.patch(url, json={"name": "Autumn"}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "Autumn"
    # Bad input still answers 422 before any precondition.
    r = await client.patch(url, json={"name": " "}, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.patch(
        f"/v1/credit-packages/{uuid.uuid4()}",
        json={"name": "x"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 404
